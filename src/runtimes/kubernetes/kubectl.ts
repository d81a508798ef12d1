/** Running kubectl from the CLI and the program's preflight: which binary, and the arguments that select a stack. */
import * as path from "path";
import { PROJECT_ROOT } from "../../util/shell";

/** A stack's namespace on a cluster, and the kubeconfig (file and context) that reaches it. */
export interface KubeTarget {
    namespace: string;
    context?: string;
    /** The kubeconfig file; unset, kubectl (as the program's provider) reads $KUBECONFIG, else ~/.kube/config. */
    kubeconfig?: string;
}

/** The stack's kubeconfig file (`bklite:kubernetes.kubeconfig`) as a path, relative ones from the project directory. */
export function stackKubeconfig(given: string | undefined): string | undefined {
    return given === undefined ? undefined : path.resolve(PROJECT_ROOT, given);
}

/** The kubectl to run: BKLITE_KUBECTL (a stand-in in tests), else `kubectl` from PATH. */
export function kubectlBinary(): string {
    return process.env.BKLITE_KUBECTL ?? "kubectl";
}

/** The arguments that point kubectl at a cluster: `--kubeconfig` and `--context` when they are named. */
export function kubectlCluster(target: Omit<KubeTarget, "namespace">): string[] {
    return [
        ...(target.kubeconfig ? ["--kubeconfig", target.kubeconfig] : []),
        ...(target.context ? ["--context", target.context] : []),
    ];
}

/** The cluster's arguments and `--namespace`: the arguments that point kubectl at a stack. */
export function kubectlScope(target: KubeTarget): string[] {
    return [...kubectlCluster(target), "--namespace", target.namespace];
}
