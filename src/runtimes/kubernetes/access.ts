/**
 * Reaching a stack on a cluster: `kubectl exec` into its workloads, `kubectl scale` to stop and start them, and
 * `kubectl port-forward` to a Service for a port or for a URL naming one (`postgres://…@postgres:5432/…`). Every
 * forward started is stopped by `close`, and by the CLI's exit however it ends.
 */
import * as net from "net";
import { fixedAddress, killableExec, runStreaming } from "../exec";
import { AccessTarget, ExecOptions, RuntimeAccess, ServiceState, StoppedService } from "../runtime";
import { KubeTarget, kubectlBinary, kubectlScope, stackKubeconfig } from "./kubectl";
import { runsAsStatefulSet, workloadLabels } from "./naming";
import { Forward, portForward } from "./portForward";

/** The namespace and context to reach: the command's options over the stack's config; none when neither says. */
export function kubeTarget(target: AccessTarget): KubeTarget | undefined {
    const namespace = (target.options?.["kube-namespace"] as string | undefined) ?? target.config?.kubernetes.namespace;
    const context = (target.options?.["kube-context"] as string | undefined) ?? target.config?.kubernetes.context;
    const kubeconfig =
        (target.options?.kubeconfig as string | undefined) ?? stackKubeconfig(target.config?.kubernetes.kubeconfig);
    return namespace === undefined
        ? undefined
        : { namespace, ...(context ? { context } : {}), ...(kubeconfig ? { kubeconfig } : {}) };
}

/** Whether a URL's host is an address (or localhost), not a Service's name. */
function isAddress(hostname: string): boolean {
    return hostname === "localhost" || net.isIP(hostname.replace(/^\[|\]$/g, "")) !== 0;
}

/** The port a URL names, by its scheme's default when it names none. */
function urlPort(url: URL): number {
    return Number(url.port || (url.protocol === "postgres:" || url.protocol === "postgresql:" ? 5432 : 4222));
}

/** The stack's workloads in a namespace; a stateful service is a StatefulSet, the others Deployments. */
export function kubernetesAccess(target: AccessTarget): RuntimeAccess {
    const scope = kubeTarget(target);
    const stateful = (target.workloads ?? []).filter(runsAsStatefulSet).map((w) => w.name);
    const forwards: Forward[] = [];
    const where = scope
        ? `namespace ${scope.namespace}${scope.context ? ` (context ${scope.context})` : ""}`
        : "a cluster (no --kube-namespace)";
    const requireScope = (): KubeTarget => {
        if (scope === undefined) {
            throw new Error("the stack runs on a cluster: pass --kube-namespace to reach it");
        }
        return scope;
    };
    const kubectl = (args: string[], options?: ExecOptions, what?: string) =>
        runStreaming(kubectlBinary(), [...kubectlScope(requireScope()), ...args], options, what);
    const workload = (service: string) => `${stateful.includes(service) ? "statefulset" : "deployment"}/${service}`;
    const forward = async (service: string, port: number) => {
        const started = await portForward(requireScope(), service, port);
        forwards.push(started);
        return started.localPort;
    };
    return {
        where,
        state: (service) => workloadState(kubectl, workload(service)),
        // kubectl exec runs as the container's user; the official images' programs need no other.
        exec: (service, argv, options = {}) => {
            const run = (inside: string[], o: ExecOptions) =>
                kubectl(
                    ["exec", ...(o.stdin ? ["-i"] : []), workload(service), "-c", service, "--", ...inside],
                    o,
                    `${argv[0]} in ${workload(service)}`,
                );
            return killableExec(run, argv, options);
        },
        stop: (service, beforeStopping) => scaleToZero(kubectl, service, workload(service), beforeStopping),
        start: async (stopped) =>
            void (await kubectl(["scale", workload(stopped.service), `--replicas=${stopped.replicas}`])),
        address: async (service, port) => `127.0.0.1:${await forward(service, port)}`,
        async locate(address, port) {
            if ("host" in address) {
                return fixedAddress(address.host, port);
            }
            if ("kubeService" in address) {
                return scope === undefined
                    ? Promise.reject(
                          new Error(
                              `${address.kubeService} is a Kubernetes Service: pass --kube-namespace to reach it`,
                          ),
                      )
                    : `127.0.0.1:${await forward(address.kubeService, port)}`;
            }
            throw new Error(
                `${address.container} is a Docker container, not on a cluster: verify it on its Docker host`,
            );
        },
        async reach(url) {
            const parsed = url === "" ? undefined : new URL(url);
            // A URL that names a Service goes through a port-forward; one that names an address is used as it is.
            if (scope === undefined || parsed === undefined || isAddress(parsed.hostname)) {
                return url;
            }
            parsed.port = String(await forward(parsed.hostname, urlPort(parsed)));
            parsed.hostname = "127.0.0.1";
            return parsed.toString();
        },
        execHint: (service) => `kubectl -n ${scope?.namespace ?? "<namespace>"} exec ${workload(service)} --`,
        close: async () => void (await Promise.all(forwards.splice(0).map((f) => f.stop()))),
    };
}

type Kubectl = (args: string[], options?: ExecOptions, what?: string) => Promise<string>;

async function replicas(kubectl: Kubectl, workload: string): Promise<number> {
    return Number((await kubectl(["get", workload, "-o", "jsonpath={.spec.replicas}"])).trim() || "0");
}

async function workloadState(kubectl: Kubectl, workload: string): Promise<ServiceState> {
    try {
        return (await replicas(kubectl, workload)) > 0 ? "running" : "stopped";
    } catch (err) {
        if (/not ?found/i.test((err as Error).message)) {
            return "absent";
        }
        throw err;
    }
}

/** Scales a workload to zero and waits until its pods are gone; the result is what scales it back. */
async function scaleToZero(
    kubectl: Kubectl,
    service: string,
    workload: string,
    beforeStopping?: (stopped: StoppedService) => void,
): Promise<StoppedService> {
    const stopped = { service, replicas: Math.max(await replicas(kubectl, workload), 1) };
    beforeStopping?.(stopped);
    await kubectl(["scale", workload, "--replicas=0"]);
    const selector = Object.entries(workloadLabels(service))
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    await kubectl(["wait", "--for=delete", "pod", "--selector", selector, "--timeout=180s"]);
    return stopped;
}
