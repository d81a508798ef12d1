/**
 * The verify spec of a stack, rendered from its config with the same functions that planned it: the seed spec's
 * regions and packages, the planned streams, each installed service's own probe, the resolved security rules. The
 * program hands it to `bklite verify` on stdin; `bklite verify --stack S` renders the same from Pulumi.S.yaml.
 */
import { endpointsOf, runtimeOf } from "../runtimes";
import { servicesFor } from "../services/catalog";
import { ADMIN_USER, natsAgentEndpoint, publicUrl } from "../services/shared";
import { stackStreams } from "../services/stack";
import { StackConfig } from "../config/types";
import { firewallRules } from "../security/resolve";
import { resolveSecurity } from "../security/stackRules";
import { seedSpecOf } from "../seed/stackSpec";
import { ServiceCheck, VerifySpec } from "./spec";

export function verifySpecOf(config: StackConfig, stack: string): VerifySpec {
    // Secrets are checked apart (BKLITE_NATS_PASSWORD, BKLITE_ADMIN_PASSWORD): none enters the spec.
    const seed = seedSpecOf(config, { agentPassword: () => "", adminPassword: "" });
    const runtime = runtimeOf(config.runtime);
    const endpoints = endpointsOf(config);
    const services: ServiceCheck[] = servicesFor(config.installApps)
        .filter((d) => d.probe !== undefined)
        .map((d) => ({
            service: d.name,
            app: d.apps?.[0] ?? "core",
            probe: d.probe!,
            ...(d.probe!.kind === "nats-executor" ? {} : { address: runtime.serviceAddress(stack, config, d.name) }),
        }));
    const firewall = runtime.enforcesHostFirewall(config)
        ? { stack, rules: firewallRules(resolveSecurity(config).rules) }
        : undefined;
    return {
        stack,
        runtime: config.runtime,
        consoleUrl: publicUrl(config, endpoints),
        ...(seed.admin ? { login: { username: ADMIN_USER } } : {}),
        natsEndpoint: natsAgentEndpoint(endpoints),
        regions: seed.regions.map((r) => ({
            name: r.name,
            env: Object.fromEntries(Object.entries(r.env).filter(([key]) => key !== "NATS_PASSWORD")),
        })),
        packages: seed.packages,
        streams: stackStreams(config).map((s) => s.stream),
        services,
        ...(firewall ? { firewall } : {}),
    };
}
