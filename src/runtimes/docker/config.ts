/**
 * A Docker host's side of the config: it publishes the stack's host ports on hostAddress, and uses no section of
 * its own, so a `bklite:kubernetes` section kept for a later move is said, not refused.
 */
import { CONFIG_NAMESPACE } from "../../config/keys";
import { StackConfig } from "../../config/types";
import { AgentEndpoints } from "../../services/regions";
import { EndpointConfig } from "../runtime";

/** Agents and browsers reach the host ports on hostAddress. */
export function dockerEndpoints(config: EndpointConfig): AgentEndpoints {
    return {
        hostAddress: config.hostAddress,
        httpPort: config.ports.http,
        natsHost: config.hostAddress,
        natsPort: config.ports.nats,
    };
}

export function unusedOnDocker(_config: StackConfig, keysSet: ReadonlyArray<string>): string[] {
    return keysSet.includes("kubernetes")
        ? [
              `${CONFIG_NAMESPACE}:kubernetes is set, but ${CONFIG_NAMESPACE}:runtime is docker: it applies only on a cluster`,
          ]
        : [];
}
