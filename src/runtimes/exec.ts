/** What both runtimes' access uses: running a local client program (docker, kubectl) with streams, and fixed addresses. */
import { spawn } from "child_process";
import { ExecOptions } from "./runtime";

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

/** A fixed address as a verify spec gives it (`host`, or `host:port` already): `host:port`. */
export function fixedAddress(host: string, port: number): string {
    return host.includes(":") ? host : `${host}:${port}`;
}
