/** A stack's security rules, resolved against the ports its runtime publishes them on. */
import { StackConfig } from "../config/types";
import { endpointsOf } from "../runtimes";
import { DEFAULT_RULES, ResolvedSecurity, resolveRules } from "./resolve";
import { NamedPort } from "./rules";

/** The port number each named port has on this stack (what browsers, agents or operators connect to). */
export function namedPorts(
    config: Pick<StackConfig, "runtime" | "hostAddress" | "ports" | "kubernetes">,
): Record<NamedPort, number> {
    const endpoints = endpointsOf(config);
    return { http: endpoints.httpPort, https: 443, nats: endpoints.natsPort, postgres: config.ports.postgres };
}

/** The stack's rules (or the defaults) resolved against its ports; see resolveRules. */
export function resolveSecurity(
    config: Pick<StackConfig, "runtime" | "hostAddress" | "ports" | "kubernetes" | "security">,
): ResolvedSecurity {
    return resolveRules(config.security.rules.length > 0 ? config.security.rules : DEFAULT_RULES, namedPorts(config));
}
