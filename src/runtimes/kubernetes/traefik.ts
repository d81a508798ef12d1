import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WEB_ENTRYPOINT, renderTraefikRoutes } from "../../services/traefikRoutes";
import { Workload } from "../../services/workload";
import { edgeNodeSelector, externalTrafficPolicy, loadBalancerSourceRanges, loadBalancerTimeouts } from "./exposure";
import { workloadLabels } from "./naming";

export interface TraefikIngressArgs {
    namespace: pulumi.Input<string>;
    /** Name of the namespace, as the component's input (a plan shows where Traefik runs). */
    namespaceName: string;
    image: string;
    imagePullSecrets: string[];
    serviceType: "NodePort" | "LoadBalancer";
    /** Node port of the web entry point (NodePort). */
    httpNodePort: number;
    /** Services whose routes Traefik serves. */
    routed: Workload[];
    /** With `cluster`: the cluster's IngressClass the Ingresses name (never `nginx` on a cluster only Traefik serves). */
    ingressClass: string;
    /** Who may reach the web entry point (the http rule's sources): a LoadBalancer's source ranges. */
    sources: string[];
    /** The node at hostAddress (NodePort): Traefik runs there and keeps clients' addresses. */
    edgeNode?: string;
    /**
     * `own`: the stack's Traefik, routing from a file as on Docker, with no access to the Kubernetes API. `cluster`:
     * Ingresses alone, for the cluster's Traefik (k3s's) to serve on its `web` entry point under `ingressClass`.
     */
    mode: "own" | "cluster";
}
/** Traefik's web entry point inside the pod. */
export const WEB_PORT = 8000;

/** Where the stack's Traefik reads its routes: a file of a ConfigMap's directory (the kubelet swaps it on change). */
const ROUTES_DIR = "/etc/traefik/dynamic";
const ROUTES_FILE = "routes.yml";

/**
 * The Kubernetes API rules the stack's Traefik is granted: none. It routes from a file the program renders (the same
 * routes as on Docker), so it needs no ServiceAccount token, Role or ClusterRole: Traefik's Ingress provider would
 * list every Secret of the namespace it watches, TLS or not (traefik/traefik#7097), and this namespace holds the
 * stack's passwords. Nothing to lose, either: a deleted ClusterRole cannot break it.
 */
export const TRAEFIK_API_RULES: ReadonlyArray<k8s.types.input.rbac.v1.PolicyRule> = [];

/**
 * The stack's ingress on a cluster. `own`: its Traefik as plain resources (no Helm repository offline): a ConfigMap
 * of routes, a Deployment without API access, and a Service on the node port or a load balancer. `cluster`: one
 * Ingress per route for the cluster's Traefik (path prefixes, no Host rule, no nginx annotations).
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
        if (args.mode === "own") {
            const routes = renderTraefikRoutes(args.routed);
            const config = new k8s.core.v1.ConfigMap(
                `${name}-routes`,
                {
                    metadata: { name: "traefik-routes", namespace: args.namespace, labels: LABELS },
                    data: { [ROUTES_FILE]: routes },
                },
                { parent: this },
            );
            this.deployment = traefikDeployment(this, name, args, routes, [config]);
            traefikService(this, name, args);
        } else {
            for (const spec of args.routed) {
                spec.routes.forEach((_, i) => ingress(this, name, args, spec, i));
            }
        }
        this.registerOutputs({});
    }
}

const LABELS = workloadLabels("traefik");

/** Traefik's arguments: the web entry point and the file provider on the routes, as on Docker. */
function traefikArgs(): string[] {
    return [
        `--entrypoints.${WEB_ENTRYPOINT}.address=:${WEB_PORT}`,
        `--providers.file.filename=${ROUTES_DIR}/${ROUTES_FILE}`,
        "--providers.file.watch=true",
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
    routes: string,
    after: pulumi.Resource[],
): k8s.apps.v1.Deployment {
    const container = {
        name: "traefik",
        image: args.image,
        imagePullPolicy: "IfNotPresent",
        args: traefikArgs(),
        ports: [{ name: "web", containerPort: WEB_PORT }],
        volumeMounts: [{ name: "routes", mountPath: ROUTES_DIR, readOnly: true }],
        readinessProbe: {
            exec: { command: ["traefik", "healthcheck", "--ping"] },
            periodSeconds: 10,
            failureThreshold: 3,
        },
    };
    // Changed routes roll the pod as well as reach the watched file: a restart never serves stale routes.
    const routesDigest = crypto.createHash("sha256").update(routes).digest("hex").slice(0, 16);
    return new k8s.apps.v1.Deployment(
        `${name}-deployment`,
        {
            metadata: { name: "traefik", namespace: args.namespace, labels: LABELS },
            spec: {
                replicas: 1,
                selector: { matchLabels: LABELS },
                template: {
                    metadata: { labels: LABELS, annotations: { "bklite.io/routes-sha256": routesDigest } },
                    spec: {
                        automountServiceAccountToken: false,
                        nodeSelector: edgeNodeSelector(args.serviceType, args.edgeNode),
                        imagePullSecrets: args.imagePullSecrets.map((n) => ({ name: n })),
                        containers: [container],
                        volumes: [{ name: "routes", configMap: { name: "traefik-routes" } }],
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

/** The Ingress of one route of a routed service, for the cluster's Traefik: its path prefix, the plain web entry. */
function ingress(parent: pulumi.Resource, name: string, args: TraefikIngressArgs, spec: Workload, i: number): void {
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
                    "traefik.ingress.kubernetes.io/router.entrypoints": WEB_ENTRYPOINT,
                },
            },
            spec: { ingressClassName: args.ingressClass, rules: [{ http: { paths: [path] } }] },
        },
        { parent },
    );
}
