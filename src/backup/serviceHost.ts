/**
 * Reaching a stack's services from the operator's machine for backups and restores: run a program inside the
 * service's container or pod (so pg_dump and pg_restore are the server's own version), stop and start services,
 * and ask whether a service exists at all. The same operations on a Docker host (`docker exec`, the stack's
 * container names) and on a cluster (`kubectl exec` into the workload, `kubectl scale`).
 */
import { spawn } from "child_process";
import { Readable, Writable } from "stream";
import { dockerBinary, runDocker } from "../supply/dockerCli";
import { workloadLabels } from "../runtimes/kubernetes/naming";
import { dockerNames } from "../verify/stackSpec";
import { KubeTarget, kubectlBinary, kubectlScope } from "../runtimes/kubernetes/kubectl";

export type ServiceState = "running" | "stopped" | "absent";

export interface ExecOptions {
    /** Fed to the program's standard input. */
    stdin?: Readable;
    /** Where its standard output goes; collected and returned when absent. */
    stdout?: Writable;
    /** Aborting kills the local client (what it started inside is stopped by the caller's own cleanup). */
    signal?: AbortSignal;
}

/** A stopped service's way back to how it was. */
export interface Stopped {
    service: string;
    start(): Promise<void>;
}

export interface ServiceHost {
    /** Where the services are, for messages: "Docker (containers bklite-prod-*)" or "namespace bklite". */
    readonly where: string;
    state(service: string): Promise<ServiceState>;
    /** Runs `argv` inside the service; rejects with the tail of its stderr on a non-zero exit. */
    exec(service: string, argv: string[], options?: ExecOptions): Promise<string>;
    /** Stops a running service; the result starts it again. */
    stop(service: string): Promise<Stopped>;
}

/** Runs a local program, streaming stdin and stdout; resolves with stdout (when not streamed elsewhere). */
export function runStreaming(
    binary: string,
    args: string[],
    options: ExecOptions = {},
    what = `${binary} ${args[0] ?? ""}`,
): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(binary, args, {
            stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
            signal: options.signal,
        });
        let stdout = "";
        let stderr = "";
        if (options.stdout) {
            child.stdout!.pipe(options.stdout, { end: false });
        } else {
            child.stdout!.on("data", (d) => (stdout += d));
        }
        child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-8192)));
        if (options.stdin) {
            options.stdin.pipe(child.stdin!);
            // The program may exit before reading everything (it failed): that is reported by its exit, not here.
            child.stdin!.on("error", () => undefined);
            options.stdin.on("error", (err) => {
                child.kill("SIGTERM");
                reject(err);
            });
        }
        child.on("error", (err) =>
            reject(
                options.signal?.aborted
                    ? new Error(`${what} was interrupted`)
                    : new Error(`cannot run ${binary}: ${err.message}`),
            ),
        );
        child.on("close", (code, signal) => {
            if (code === 0) {
                resolve(stdout);
            } else {
                const tail = stderr.trim().split("\n").slice(-4).join(" | ");
                reject(
                    new Error(`${what} failed (${code !== null ? `exit ${code}` : signal}): ${tail || "no message"}`),
                );
            }
        });
    });
}

/** The stack's containers on this Docker host. */
export function dockerServiceHost(stack: string): ServiceHost {
    const names = dockerNames(stack);
    return {
        where: `Docker (containers ${names.container("*")})`,
        async state(service) {
            try {
                const running = (
                    await runDocker([
                        "inspect",
                        "--type",
                        "container",
                        "--format",
                        "{{.State.Running}}",
                        names.container(service),
                    ])
                ).trim();
                return running === "true" ? "running" : "stopped";
            } catch (err) {
                if (/no such (object|container)/i.test((err as Error).message)) {
                    return "absent";
                }
                throw err;
            }
        },
        exec(service, argv, options = {}) {
            const container = names.container(service);
            const args = ["exec", ...(options.stdin ? ["-i"] : []), container, ...argv];
            return runStreaming(dockerBinary(), args, options, `${argv[0]} in ${container}`);
        },
        async stop(service) {
            const container = names.container(service);
            // The container's own grace period (stopTimeout) applies.
            await runDocker(["stop", container]);
            return { service, start: async () => void (await runDocker(["start", container])) };
        },
    };
}

/**
 * The stack's workloads in a namespace. A stateful service is a StatefulSet, the others Deployments, each named as
 * its service (see KubernetesRuntime).
 */
export function kubernetesServiceHost(target: KubeTarget, statefulServices: ReadonlyArray<string>): ServiceHost {
    const kubectl = (args: string[], options?: ExecOptions, what?: string) =>
        runStreaming(kubectlBinary(), [...kubectlScope(target), ...args], options, what);
    const workload = (service: string) =>
        `${statefulServices.includes(service) ? "statefulset" : "deployment"}/${service}`;
    const replicas = async (service: string) =>
        Number((await kubectl(["get", workload(service), "-o", "jsonpath={.spec.replicas}"])).trim() || "0");
    return {
        where: `namespace ${target.namespace}${target.context ? ` (context ${target.context})` : ""}`,
        async state(service) {
            try {
                return (await replicas(service)) > 0 ? "running" : "stopped";
            } catch (err) {
                if (/not ?found/i.test((err as Error).message)) {
                    return "absent";
                }
                throw err;
            }
        },
        exec(service, argv, options = {}) {
            // kubectl exec runs as the container's user; the official images' programs need no other.
            return kubectl(
                ["exec", ...(options.stdin ? ["-i"] : []), workload(service), "-c", service, "--", ...argv],
                options,
                `${argv[0]} in ${workload(service)}`,
            );
        },
        async stop(service) {
            const before = await replicas(service);
            await kubectl(["scale", workload(service), "--replicas=0"]);
            const selector = Object.entries(workloadLabels(service))
                .map(([k, v]) => `${k}=${v}`)
                .join(",");
            await kubectl(["wait", "--for=delete", "pod", "--selector", selector, "--timeout=180s"]);
            return {
                service,
                start: async () =>
                    void (await kubectl(["scale", workload(service), `--replicas=${Math.max(before, 1)}`])),
            };
        },
    };
}
