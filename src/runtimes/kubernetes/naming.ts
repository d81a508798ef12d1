/**
 * How the stack's Kubernetes objects are labelled and named: free of the provider SDK, so the CLI and the preflight
 * can find pods, workloads and claims by the same rules the runtime creates them with.
 */
import type { Workload } from "../../services/workload";

/** Labels of a service's pods and objects; NetworkPolicies and the CLI select pods by them. */
export function workloadLabels(service: string): Record<string, string> {
    return { "app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "bklite" };
}

/** A stateful service with data runs as a StatefulSet (claims from templates); every other one as a Deployment. */
export function runsAsStatefulSet(spec: Pick<Workload, "stateful" | "volumes">): boolean {
    return spec.stateful === true && spec.volumes.length > 0;
}

/** A volume's claim: the StatefulSet's claim of pod 0 (`<volume>-<service>-0`), or a claim of its own (`<volume>`). */
export function claimName(spec: Pick<Workload, "name" | "stateful" | "volumes">, volume: string): string {
    return runsAsStatefulSet(spec) ? `${volume}-${spec.name}-0` : volume;
}
