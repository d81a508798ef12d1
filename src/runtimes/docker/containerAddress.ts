/** A container's address on one of its networks, from the engine: how the CLI reaches services that publish no port. */
import { execFile } from "child_process";
import { dockerBinary } from "../../supply/dockerCli";

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
