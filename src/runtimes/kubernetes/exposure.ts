/** How a cluster exposes the stack's published ports to browsers and agents: node ports or load balancers. */
import * as pulumi from "@pulumi/pulumi";

/**
 * Agents and browsers are told one address. A node port answers on every node (Cluster), since on a cluster of
 * several nodes the pod may run on another, unless the pod is pinned to the edge node at that address, where Local
 * keeps clients' addresses for NetworkPolicies. A load balancer sends only to nodes that run the pod, so it keeps
 * them too (Local).
 */
export function externalTrafficPolicy(type: "NodePort" | "LoadBalancer", edgeNode?: string): "Cluster" | "Local" {
    return type === "NodePort" && edgeNode === undefined ? "Cluster" : "Local";
}

/**
 * How long Pulumi waits for a load balancer's address: a cluster without a load balancer implementation never gives
 * one, and the failure ("Service was not allocated an IP address") should come in minutes, not after the default 10.
 */
export function loadBalancerTimeouts(type: "NodePort" | "LoadBalancer"): pulumi.CustomTimeouts | undefined {
    return type === "LoadBalancer" ? { create: "5m", update: "5m" } : undefined;
}

/** Pins a pod to the edge node (its built-in hostname label), when there is one. */
export function edgeNodeSelector(
    type: "NodePort" | "LoadBalancer",
    edgeNode?: string,
): Record<string, string> | undefined {
    return type === "NodePort" && edgeNode !== undefined ? { "kubernetes.io/hostname": edgeNode } : undefined;
}

/** Source ranges for a LoadBalancer: none (no restriction) when anyone may connect. */
export function loadBalancerSourceRanges(sources: ReadonlyArray<string> | undefined): string[] | undefined {
    return sources === undefined || sources.length === 0 || sources.some((s) => s === "0.0.0.0/0" || s === "::/0")
        ? undefined
        : [...sources];
}
