/** The runtimes, by `bklite:runtime`: the one place that knows there are two. */
import { RuntimeName } from "../config/types";
import { AgentEndpoints } from "../services/regions";
import { dockerRuntime } from "./docker";
import { kubernetesRuntime } from "./kubernetes";
import { EndpointConfig, Runtime } from "./runtime";

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
