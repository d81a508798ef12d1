/**
 * Reaching a stack on this Docker host: `docker exec` in its containers (so pg_dump is the server's own version),
 * `docker stop` and `start`, and a container's address on the stack's network, which the host reaches without
 * anything being published. The program's commands get loopback URLs of published ports, used as they are.
 */
import { execFile } from "child_process";
import { dockerBinary, runDocker } from "../../supply/dockerCli";
import { fixedAddress, killableExec, runStreaming } from "../exec";
import { AccessTarget, ExecOptions, RuntimeAccess, ServiceState } from "../runtime";
import { dockerNames } from "./naming";

/** A container's address on one of its networks, from the engine. */
export function containerAddress(container: string, network: string, signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            dockerBinary(),
            ["inspect", "--format", "{{json .NetworkSettings.Networks}}", container],
            { signal, encoding: "utf8" },
            (err, stdout, stderr) => {
                if (err) {
                    reject(new Error(`docker inspect ${container}: ${(stderr || err.message).trim()}`));
                    return;
                }
                const address = (JSON.parse(stdout) as Record<string, { IPAddress?: string }>)[network]?.IPAddress;
                if (!address) {
                    reject(new Error(`${container} has no address on network ${network} (is it running?)`));
                    return;
                }
                resolve(address);
            },
        );
    });
}

async function containerState(container: string): Promise<ServiceState> {
    try {
        const format = "{{.State.Running}}";
        const running = (await runDocker(["inspect", "--type", "container", "--format", format, container])).trim();
        return running === "true" ? "running" : "stopped";
    } catch (err) {
        if (/no such (object|container)/i.test((err as Error).message)) {
            return "absent";
        }
        throw err;
    }
}

/** The stack's containers on this Docker host. */
export function dockerAccess(target: AccessTarget): RuntimeAccess {
    const names = dockerNames(target.stack);
    const onNetwork = async (container: string, network: string, port: number, signal?: AbortSignal) =>
        `${await containerAddress(container, network, signal)}:${port}`;
    return {
        where: `Docker (containers ${names.container("*")})`,
        state: (service) => containerState(names.container(service)),
        exec(service, argv, options = {}) {
            const container = names.container(service);
            const run = (inside: string[], o: ExecOptions) =>
                runStreaming(
                    dockerBinary(),
                    ["exec", ...(o.stdin ? ["-i"] : []), container, ...inside],
                    o,
                    `${argv[0]} in ${container}`,
                );
            return killableExec(run, argv, options);
        },
        async stop(service, beforeStopping) {
            const stopped = { service, replicas: 1 };
            beforeStopping?.(stopped);
            // The container's own grace period (stopTimeout) applies.
            await runDocker(["stop", names.container(service)]);
            return stopped;
        },
        start: async (stopped) => void (await runDocker(["start", names.container(stopped.service)])),
        address: (service, port, signal) => onNetwork(names.container(service), names.network, port, signal),
        async locate(address, port, signal) {
            if ("host" in address) {
                return fixedAddress(address.host, port);
            }
            if ("container" in address) {
                return onNetwork(address.container, address.network, port, signal);
            }
            throw new Error(`${address.kubeService} is a Kubernetes Service: pass --kube-namespace to reach it`);
        },
        reach: async (url) => url,
        execHint: (service) => `docker exec ${names.container(service)}`,
        close: async () => undefined,
    };
}
