/**
 * The options a command takes to reach a stack on a cluster: the CLI's table (cli/commands.ts) declares them from
 * here, and the Kubernetes access reads them. Free of imports, so help names them without loading anything.
 */
export const KUBERNETES_ACCESS_OPTIONS = {
    "kube-namespace": {
        value: "NS",
        description: (what: string) =>
            `reach ${what} through \`kubectl port-forward\` to the Services of this namespace`,
    },
    "kube-context": { value: "CTX", description: () => "the kubectl context to use (with --kube-namespace)" },
    kubeconfig: {
        value: "FILE",
        description: () =>
            "the kubeconfig kubectl reads (with --kube-namespace; default: $KUBECONFIG, else ~/.kube/config)",
    },
} as const;

export const KUBERNETES_ACCESS_ENV = {
    BKLITE_KUBECTL: "the kubectl to run with --kube-namespace (default: kubectl from PATH)",
};
