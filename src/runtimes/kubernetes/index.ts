/** The Kubernetes runtime: the stack's services as workloads in one namespace of a cluster. */
import { DATABASE_SERVER, NATS_PORT } from "../../services/shared";
import { Runtime } from "../runtime";
import { kubernetesAccess } from "./access";
import { checkForCluster, kubernetesEndpoints, unusedOnCluster } from "./config";
import { checkClusterFor } from "./preflight";

export const kubernetesRuntime: Runtime = {
    name: "kubernetes",
    checkConfig: checkForCluster,
    unusedSettings: unusedOnCluster,
    endpoints: kubernetesEndpoints,
    // The stack's own clients reach a Service by its name, or namespaced.
    serviceNames: (config, service) => {
        const namespace = config.kubernetes.namespace;
        return [service, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
    },
    commandAddress: (_config, service) =>
        service === "nats" ? `nats:${NATS_PORT}` : `${DATABASE_SERVER.service}:${DATABASE_SERVER.port}`,
    commandArgs: (config) => [
        "--kube-namespace",
        config.kubernetes.namespace,
        ...(config.kubernetes.context ? ["--kube-context", config.kubernetes.context] : []),
        ...(config.kubernetes.kubeconfig ? ["--kubeconfig", config.kubernetes.kubeconfig] : []),
    ],
    serviceAddress: (_stack, _config, service) => ({ kubeService: service }),
    enforcesHostFirewall: () => false,
    newStackFile: {
        comment: "kubernetes: workloads in one namespace of the kubeconfig's current cluster (docs/kubernetes.md).",
        settings: [
            "# The namespace the stack owns; node ports 30080 (console) and 30422 (NATS) on every node by default.",
            "bklite:kubernetes:",
            "  namespace: bklite",
        ],
    },
    prepare: (request) => ({
        warnings: checkClusterFor(request),
        // The provider SDK loads only when a stack is deployed, never for the CLI.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see above
        deploy: (deploy) => (require("./deployment") as typeof import("./deployment")).deployOnKubernetes(deploy),
    }),
    access: kubernetesAccess,
};
