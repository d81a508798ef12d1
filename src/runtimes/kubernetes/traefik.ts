import * as net from "net";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../../services/workload";
import { edgeNodeSelector, externalTrafficPolicy, loadBalancerSourceRanges, loadBalancerTimeouts } from "./exposure";
import { workloadLabels } from "./naming";

export interface TraefikIngressArgs {
    namespace: pulumi.Input<string>;
    /** Name of the namespace, for cluster-wide object names (ClusterRole, IngressClass). */
    namespaceName: string;
    image: string;
    imagePullSecrets: string[];
    serviceType: "NodePort" | "LoadBalancer";
    /** Node port of the web entry point (NodePort). */
    httpNodePort: number;
    /** Services whose routes get Ingresses. */
    routed: Workload[];
    /** The IngressClass the stack owns and its Ingresses use (never `nginx` on a cluster only Traefik serves). */
    ingressClass: string;
    /** Address browsers and agents use: published as the Ingresses' status, so Pulumi sees them ready. */
    hostAddress: string;
    /** Who may reach the web entry point (the http rule's sources): a LoadBalancer's source ranges. */
    sources: string[];
    /** The node at hostAddress (NodePort): Traefik runs there and keeps clients' addresses. */
    edgeNode?: string;
    /**
     * `own`: the stack's Traefik, IngressClass and RBAC, and the Ingresses. `cluster`: the Ingresses alone, for the
     * cluster's Traefik (k3s's) to serve on its `web` entry point under the existing class `ingressClass`.
     */
    mode: "own" | "cluster";
}
/** Traefik's web entry point inside the pod. */
export const WEB_PORT = 8000;

/**
 * What Traefik's Kubernetes Ingress provider reads in the namespace it watches (a Role): the Ingresses and their
 * status, the Services and endpoints behind them, and TLS Secrets. Namespaced, so it can read no other namespace's
 * Secrets. (A deleted Role or ClusterRole is put back by the next `pulumi up`.)
 */
export const TRAEFIK_NAMESPACE_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: [""], resources: ["services", "endpoints", "secrets"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["networking.k8s.io", "extensions"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["networking.k8s.io", "extensions"], resources: ["ingresses/status"], verbs: ["update"] },
];

/** What only exists cluster-wide and Traefik must read (a ClusterRole): IngressClasses and nodes. */
export const TRAEFIK_CLUSTER_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: ["networking.k8s.io"], resources: ["ingressclasses"], verbs: ["get", "list", "watch"] },
    { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
];

/**
 * Traefik owned by the stack as plain resources (no Helm repository offline): its ServiceAccount, Role and
 * ClusterRole with their bindings (so `pulumi up` restores them if deleted), Deployment, IngressClass and Service, plus one Ingress per
 * route of the routed services (path prefixes, no Host rule, no nginx annotations).
 */
export class TraefikIngress extends pulumi.ComponentResource {
    /** The stack's Traefik Deployment (`own` mode), for what waits on the ingress. */
    public readonly deployment?: k8s.apps.v1.Deployment;

    constructor(name: string, args: TraefikIngressArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "bklite:index:TraefikIngress",
            name,
            {
                mode: args.mode,
                namespaceName: args.namespaceName,
                image: args.image,
                serviceType: args.serviceType,
                httpNodePort: args.httpNodePort,
                ingressClass: args.ingressClass,
            },
            opts,
        );
        let ingressClass: k8s.networking.v1.IngressClass | undefined;
        if (args.mode === "own") {
            const access = permissions(this, name, args);
            ingressClass = new k8s.networking.v1.IngressClass(
                `${name}-class`,
                {
                    metadata: { name: args.ingressClass, labels: LABELS },
                    spec: { controller: "traefik.io/ingress-controller" },
                },
                { parent: this },
            );
            this.deployment = traefikDeployment(this, name, args, [...access, ingressClass]);
            traefikService(this, name, args);
        }
        for (const spec of args.routed) {
            spec.routes.forEach((_, i) => ingress(this, name, args, spec, i, ingressClass));
        }
        this.registerOutputs({});
    }
}

const LABELS = workloadLabels("traefik");

/**
 * What Traefik may read: its ServiceAccount, a namespaced Role and a ClusterRole with their bindings. Returns the
 * bindings, which its Deployment waits for.
 */
function permissions(parent: pulumi.Resource, name: string, args: TraefikIngressArgs): pulumi.Resource[] {
    const clusterName = `bklite-${args.namespaceName}-traefik`;
    const metadata = { name: "traefik", namespace: args.namespace, labels: LABELS };
    const account = new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata }, { parent });
    const subjects = [{ kind: "ServiceAccount", name: "traefik", namespace: args.namespace }];
    const role = new k8s.rbac.v1.Role(`${name}-role`, { metadata, rules: TRAEFIK_NAMESPACE_RULES }, { parent });
    const binding = new k8s.rbac.v1.RoleBinding(
        `${name}-binding`,
        { metadata, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "traefik" }, subjects },
        { parent, dependsOn: [role, account] },
    );
    // Aliases: the ClusterRole and its binding kept their cluster-wide names, so they are updated in place (a
    // replacement would create a ClusterRole of the same name before deleting the old one, and fail).
    const clusterRole = new k8s.rbac.v1.ClusterRole(
        `${name}-cluster-role`,
        { metadata: { name: clusterName, labels: LABELS }, rules: TRAEFIK_CLUSTER_RULES },
        { parent, aliases: [{ name: `${name}-role` }] },
    );
    const clusterBinding = new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-cluster-binding`,
        {
            metadata: { name: clusterName, labels: LABELS },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
            subjects,
        },
        { parent, dependsOn: [clusterRole, account], aliases: [{ name: `${name}-binding` }] },
    );
    return [binding, clusterBinding];
}

/** Traefik's arguments: the web entry point, the Ingress provider for the stack's class and namespace. */
function traefikArgs(args: TraefikIngressArgs): pulumi.Input<string>[] {
    return [
        `--entrypoints.web.address=:${WEB_PORT}`,
        "--providers.kubernetesingress=true",
        `--providers.kubernetesingress.ingressclass=${args.ingressClass}`,
        pulumi.interpolate`--providers.kubernetesingress.namespaces=${args.namespace}`,
        // Without an endpoint Traefik writes no Ingress status, and Pulumi waits for one forever.
        args.serviceType === "LoadBalancer"
            ? pulumi.interpolate`--providers.kubernetesingress.ingressendpoint.publishedservice=${args.namespace}/traefik`
            : `--providers.kubernetesingress.ingressendpoint.${net.isIP(args.hostAddress) ? "ip" : "hostname"}=${args.hostAddress}`,
        "--api.dashboard=false",
        "--ping=true",
        "--log.level=INFO",
        "--accesslog=true",
    ];
}

function traefikDeployment(
    parent: pulumi.Resource,
    name: string,
    args: TraefikIngressArgs,
    after: pulumi.Resource[],
): k8s.apps.v1.Deployment {
    const container = {
        name: "traefik",
        image: args.image,
        imagePullPolicy: "IfNotPresent",
        args: traefikArgs(args),
        ports: [{ name: "web", containerPort: WEB_PORT }],
        readinessProbe: {
            exec: { command: ["traefik", "healthcheck", "--ping"] },
            periodSeconds: 10,
            failureThreshold: 3,
        },
    };
    return new k8s.apps.v1.Deployment(
        `${name}-deployment`,
        {
            metadata: { name: "traefik", namespace: args.namespace, labels: LABELS },
            spec: {
                replicas: 1,
                selector: { matchLabels: LABELS },
                template: {
                    metadata: { labels: LABELS },
                    spec: {
                        serviceAccountName: "traefik",
                        nodeSelector: edgeNodeSelector(args.serviceType, args.edgeNode),
                        imagePullSecrets: args.imagePullSecrets.map((n) => ({ name: n })),
                        containers: [container],
                    },
                },
            },
        },
        { parent, dependsOn: after },
    );
}

function traefikService(parent: pulumi.Resource, name: string, args: TraefikIngressArgs): void {
    new k8s.core.v1.Service(
        `${name}-service`,
        {
            metadata: { name: "traefik", namespace: args.namespace, labels: LABELS },
            spec: {
                type: args.serviceType,
                externalTrafficPolicy: externalTrafficPolicy(args.serviceType, args.edgeNode),
                loadBalancerSourceRanges:
                    args.serviceType === "LoadBalancer" ? loadBalancerSourceRanges(args.sources) : undefined,
                selector: LABELS,
                ports: [
                    {
                        name: "web",
                        port: 80,
                        targetPort: "web",
                        nodePort: args.serviceType === "NodePort" ? args.httpNodePort : undefined,
                    },
                ],
            },
        },
        { parent, customTimeouts: loadBalancerTimeouts(args.serviceType) },
    );
}

/** The Ingress of one route of a routed service: its path prefix, no Host rule, no nginx annotations. */
function ingress(
    parent: pulumi.Resource,
    name: string,
    args: TraefikIngressArgs,
    spec: Workload,
    i: number,
    ingressClass: k8s.networking.v1.IngressClass | undefined,
): void {
    const route = spec.routes[i];
    const several = spec.routes.length > 1;
    const path = {
        path: route.pathPrefix,
        pathType: "Prefix",
        backend: { service: { name: spec.name, port: { number: route.port } } },
    };
    new k8s.networking.v1.Ingress(
        `${name}-${spec.name}${several ? `-${i}` : ""}`,
        {
            metadata: {
                name: several ? `${spec.name}-${i}` : spec.name,
                namespace: args.namespace,
                labels: LABELS,
                annotations: {
                    "traefik.ingress.kubernetes.io/router.priority": String(route.priority),
                    // The cluster's Traefik (k3s's) also listens on websecure: these routes are plain http.
                    ...(args.mode === "cluster" ? { "traefik.ingress.kubernetes.io/router.entrypoints": "web" } : {}),
                },
            },
            spec: { ingressClassName: args.ingressClass, rules: [{ http: { paths: [path] } }] },
        },
        { parent, dependsOn: ingressClass ? [ingressClass] : [] },
    );
}
