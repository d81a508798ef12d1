import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../../services/workload";
import { workloadLabels } from "./naming";
import { ResolvedRule } from "../../security/resolve";

export interface NetworkPoliciesArgs {
    namespace: pulumi.Input<string>;
    /** The workloads, with their dependencies (who calls whom) and exposed ports. */
    services: Workload[];
    /** The resolved rules: the sources of each exposed port, by purpose (the port's name). */
    rules: ResolvedRule[];
    /**
     * The ingress controller: its pods reach every routed service. The stack's own (`service`) is reached on `port`
     * by the `http` rule's sources; the cluster's (`namespace`, pods named `pods`) is not the stack's to guard.
     */
    ingress: { service: string; port: number } | { namespace: string; pods: string };
}

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
/** Who may connect: pods of the stack, pods of another namespace, or addresses. */
type Source = { pods: string; namespace?: string } | { cidr: string };

/** The ingress allows each pod needs: which peers may reach which of its ports. */
export function networkAllows(
    args: Pick<NetworkPoliciesArgs, "services" | "rules" | "ingress">,
): Array<{ service: string; port: number; from: Source[] }> {
    // A port no rule lists stays open, as on the Docker host: anyone (0.0.0.0/0 and ::/0).
    const sourcesOf = (purpose: string) =>
        (args.rules.find((r) => r.purpose === purpose)?.sources ?? ["0.0.0.0/0", "::/0"]).map((cidr) => ({ cidr }));
    const own = "service" in args.ingress ? args.ingress : undefined;
    const controller: Source = own
        ? { pods: own.service }
        : {
              pods: (args.ingress as { pods: string }).pods,
              namespace: (args.ingress as { namespace: string }).namespace,
          };
    const allows: Array<{ service: string; port: number; from: Source[] }> = own
        ? [{ service: own.service, port: own.port, from: sourcesOf("http") }]
        : [];
    for (const spec of [...args.services].sort((a, b) => a.name.localeCompare(b.name))) {
        const callers = args.services
            .filter((s) => s.dependsOn.includes(spec.name) || s.connectsTo?.includes(spec.name))
            .map((s) => ({ pods: s.name }));
        const routedPorts = new Set(spec.routes.map((r) => r.port));
        for (const port of spec.ports) {
            const from = [
                ...callers,
                ...(routedPorts.has(port.containerPort) ? [controller] : []),
                ...(port.hostPort !== undefined && port.hostIp !== "127.0.0.1" ? sourcesOf(port.name) : []),
            ];
            allows.push({ service: spec.name, port: port.containerPort, from });
        }
    }
    return allows;
}

/**
 * Default-deny for ingress in the namespace, then exactly the paths the platform uses: the ingress controller from
 * the http rule's sources, each routed service from the ingress controller, each service from the services that
 * depend on it, and each exposed port from its rule's sources.
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "bklite:index:NetworkPolicies",
            name,
            { services: args.services.map((s) => s.name), ingress: args.ingress },
            opts,
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-default-deny`,
            // Only the platform's pods: the namespace may be shared (createNamespace: false).
            {
                metadata: { name: "default-deny-ingress", namespace: args.namespace },
                spec: {
                    podSelector: { matchLabels: { "app.kubernetes.io/part-of": "bklite" } },
                    policyTypes: ["Ingress"],
                },
            },
            { parent: this },
        );
        const byService = new Map<string, Array<{ port: number; from: Peer[] }>>();
        for (const allow of networkAllows(args)) {
            const from: Peer[] = allow.from.map((peer) =>
                "cidr" in peer
                    ? { ipBlock: { cidr: peer.cidr } }
                    : peer.namespace !== undefined
                      ? // The cluster's own Traefik (k3s labels its pods by name).
                        {
                            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
                            podSelector: { matchLabels: { "app.kubernetes.io/name": peer.pods } },
                        }
                      : { podSelector: { matchLabels: workloadLabels(peer.pods) } },
            );
            if (from.length > 0) {
                byService.set(allow.service, [...(byService.get(allow.service) ?? []), { port: allow.port, from }]);
            }
        }
        for (const [service, rules] of byService) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${service}`,
                {
                    metadata: { name: `allow-${service}`, namespace: args.namespace },
                    spec: {
                        podSelector: { matchLabels: workloadLabels(service) },
                        policyTypes: ["Ingress"],
                        ingress: rules.map((r) => ({ from: r.from, ports: [{ port: r.port, protocol: "TCP" }] })),
                    },
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
