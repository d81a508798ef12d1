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

/** A claim the stack owns, and the kind of workload that mounts it. */
export interface StackClaim {
    name: string;
    service: string;
    workload: "StatefulSet" | "Deployment";
}

/** Every claim the stack's workloads mount, sorted by name: StatefulSets' from templates, Deployments' their own. */
export function stackClaims(services: ReadonlyArray<Pick<Workload, "name" | "stateful" | "volumes">>): StackClaim[] {
    return services
        .flatMap((s) =>
            s.volumes.map((v) => ({
                name: claimName(s, v.name),
                service: s.name,
                workload: runsAsStatefulSet(s) ? ("StatefulSet" as const) : ("Deployment" as const),
            })),
        )
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A volume's claim: the StatefulSet's claim of pod 0 (`<volume>-<service>-0`), or a claim of its own (`<volume>`). */
export function claimName(spec: Pick<Workload, "name" | "stateful" | "volumes">, volume: string): string {
    return runsAsStatefulSet(spec) ? `${volume}-${spec.name}-0` : volume;
}
