/** Running kubectl from the CLI and the program's preflight: which binary, and the arguments that select a stack. */

/** A stack's namespace on a cluster, and the kubeconfig context that reaches it. */
export interface KubeTarget {
    namespace: string;
    context?: string;
}

/** The kubectl to run: BKLITE_KUBECTL (a stand-in in tests), else `kubectl` from PATH. */
export function kubectlBinary(): string {
    return process.env.BKLITE_KUBECTL ?? "kubectl";
}

/** `--context` (when one is named) and `--namespace`: the arguments that point kubectl at a stack. */
export function kubectlScope(target: KubeTarget): string[] {
    return [...(target.context ? ["--context", target.context] : []), "--namespace", target.namespace];
}
