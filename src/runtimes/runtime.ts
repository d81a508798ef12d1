/**
 * What every runtime does, and nothing outside a runtime's folder needs to know which runtime it is: a small set of
 * verbs each runtime implements (as Kubernetes' container runtime interface gives the kubelet one for every runtime).
 * The runtime is chosen once, from `bklite:runtime` (see index.ts).
 */
import type { AddProblem } from "../config/problems";
import type { RuntimeName, StackConfig } from "../config/types";
import type { AgentEndpoints } from "../services/regions";

/** The parts of the config that say where a stack's published ports are. */
export type EndpointConfig = Pick<StackConfig, "hostAddress" | "ports" | "kubernetes">;

export interface Runtime {
    readonly name: RuntimeName;
    /**
     * Checks of the rest of the config that only this runtime makes (what it cannot honour), added to the config's
     * one problem list; `refused` says whether a key already has a problem.
     */
    checkConfig(config: StackConfig, add: AddProblem, refused: (key: string) => boolean): void;
    /** Settings the stack file sets that this runtime does not use: said as warnings, not refused. */
    unusedSettings(config: StackConfig, keysSet: ReadonlyArray<string>): string[];
    /** Where agents and browsers reach the stack: the host address and the ports published for them. */
    endpoints(config: EndpointConfig): AgentEndpoints;
}
