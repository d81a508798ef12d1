/** How the stack's Kubernetes objects are labelled: free of the provider SDK, so the CLI can select pods by it. */

/** Labels of a service's pods and objects; NetworkPolicies and the CLI select pods by them. */
export function workloadLabels(service: string): Record<string, string> {
    return { "app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "bklite" };
}
