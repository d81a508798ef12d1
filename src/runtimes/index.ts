/** The runtimes, by `bklite:runtime`: the one place that knows there are two. */
import { RuntimeName } from "../config/types";
import { AgentEndpoints } from "../services/regions";
import { dockerRuntime } from "./docker";
import { kubernetesRuntime } from "./kubernetes";
import { EndpointConfig, Runtime, RuntimeAccess } from "./runtime";

export { ACCESS_ENV, ACCESS_OPTIONS_TABLE } from "./accessOptions";

export type { Runtime } from "./runtime";

const RUNTIMES: Readonly<Record<RuntimeName, Runtime>> = { docker: dockerRuntime, kubernetes: kubernetesRuntime };

/** The runtime of a stack. */
export function runtimeOf(name: RuntimeName): Runtime {
    return RUNTIMES[name];
}

/** Where agents and browsers reach a stack, as its runtime publishes it. */
export function endpointsOf(config: EndpointConfig & { runtime: RuntimeName }): AgentEndpoints {
    return runtimeOf(config.runtime).endpoints(config);
}

/**
 * The access a command's options point at, for commands that take no stack (`seed apply`, `streams apply`): a
 * cluster when they name its namespace, else this Docker host (the stack's containers by `--docker-stack`), where
 * the URLs they are given reach the services.
 */
export function accessFromOptions(options: Readonly<Record<string, unknown>>): RuntimeAccess {
    const named = options["kube-namespace"] !== undefined ? kubernetesRuntime : dockerRuntime;
    const stack = typeof options["docker-stack"] === "string" ? options["docker-stack"] : "";
    return named.access({ stack, options });
}
