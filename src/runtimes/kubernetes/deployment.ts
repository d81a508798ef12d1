/**
 * A stack on a cluster: the workloads in one namespace (the databases created by the database server's first start,
 * since the program cannot reach a ClusterIP), the stack's own Traefik or the cluster's serving its Ingresses, and
 * NetworkPolicies for the security rules.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DATABASE_SERVER, INGRESS_SERVICE } from "../../services/shared";
import { withDatabasesCreatedAtFirstStart } from "../../services/databaseServer";
import { DeployRequest, Deployment } from "../runtime";
import { stackKubeconfig } from "./kubectl";
import { stackClaims } from "./naming";
import { NetworkPolicies } from "./networkPolicies";
import { TraefikIngress, WEB_PORT } from "./traefik";
import { KubernetesRuntime, REGISTRY_PULL_SECRET } from "./workloads";

/** The pods of the cluster's own Traefik, as k3s labels them. */
const CLUSTER_TRAEFIK_PODS = "traefik";

export function deployOnKubernetes(request: DeployRequest): Deployment {
    const { parent, name, config } = request;
    const k = config.kubernetes;
    // The kubeconfig the preflight read; unset, the provider reads $KUBECONFIG, else ~/.kube/config, as kubectl does.
    const provider = new k8s.Provider(
        `${name}-k8s-provider`,
        { context: k.context, kubeconfig: stackKubeconfig(k.kubeconfig), enableServerSideApply: true },
        { parent },
    );
    const ingress = request.workloads.find((w) => w.name === INGRESS_SERVICE)!;
    const workloads = withDatabasesCreatedAtFirstStart(
        request.workloads.filter((w) => w !== ingress),
        request.databases,
    );
    const runtime = workloadsOf(request, workloads, provider);
    const traefik = new TraefikIngress(
        `${name}-traefik`,
        {
            namespace: runtime.namespace,
            namespaceName: k.namespace,
            image: ingress.image,
            imagePullSecrets: [...k.imagePullSecrets, ...(k.registryAuth ? [REGISTRY_PULL_SECRET] : [])],
            serviceType: k.serviceType,
            httpNodePort: k.nodePorts.http,
            routed: workloads.filter((s) => s.routes.length > 0),
            ingressClass: k.ingressClass,
            sources: sourcesOf(request, "http"),
            edgeNode: k.edgeNode,
            mode: k.ingress,
        },
        { parent, providers: [provider], dependsOn: [runtime.workloads.server] },
    );
    const policies = new NetworkPolicies(
        `${name}-network-policies`,
        {
            namespace: runtime.namespace,
            services: workloads,
            rules: request.security.rules,
            ingress:
                k.ingress === "own"
                    ? { service: INGRESS_SERVICE, port: WEB_PORT }
                    : { namespace: k.ingressNamespace, pods: CLUSTER_TRAEFIK_PODS },
        },
        { parent, providers: [provider] },
    );
    return {
        dataVolumes: pulumi.output(stackClaims(workloads).map((c) => c.name)),
        serverReady: runtime.workloads.server,
        // Every workload, Service, Ingress and NetworkPolicy verification checks exists and is ready before it runs
        // (a component is done when its children are).
        verifyAfter: [runtime, traefik, policies],
        // A changed pod template rolls the workload out again.
        verifyWhen: [runtime.templatesDigest],
    };
}

/** Who may reach a published port, by its purpose (the resolved rule's sources). */
function sourcesOf(request: DeployRequest, purpose: string): string[] {
    return request.security.rules.find((r) => r.purpose === purpose)?.sources ?? [];
}

function workloadsOf(
    request: DeployRequest,
    workloads: ReturnType<typeof withDatabasesCreatedAtFirstStart>,
    provider: k8s.Provider,
): KubernetesRuntime {
    const { parent, name, config } = request;
    const k = config.kubernetes;
    return new KubernetesRuntime(
        `${name}-k8s`,
        {
            namespace: k.namespace,
            createNamespace: k.createNamespace,
            services: workloads,
            // Bash for the start-order waits, from an image the stack has anyway.
            waitImage: workloads.find((s) => s.name === DATABASE_SERVER.service)!.image,
            storageClass: k.storageClass,
            volumeSize: k.volumeSize,
            imagePullSecrets: k.imagePullSecrets,
            exposure: {
                type: k.serviceType,
                nodePorts: { nats: k.nodePorts.nats },
                sourceRanges: { nats: sourcesOf(request, "nats") },
                edgeNode: k.edgeNode,
            },
            resources: k.resources,
        },
        {
            values: request.values,
            hashKey: request.secret("secretKey"),
            afterStart: Object.fromEntries(
                Object.entries(request.afterStart).map(([service, hook]) => [
                    service,
                    (workload: pulumi.Resource) => hook({ resource: workload }),
                ]),
            ),
            before: request.before,
            ...(k.registryAuth
                ? { registry: { ...k.registryAuth, password: request.secret("registryPassword") } }
                : {}),
        },
        { parent, providers: [provider] },
    );
}
