/** What both runtimes' access uses: running a local client program (docker, kubectl) with streams, and fixed addresses. */
import { spawn } from "child_process";
import * as crypto from "crypto";
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

/**
 * Runs `argv` inside a service through `run` so that aborting stops it there too: a client killed here (docker
 * exec, kubectl exec) leaves its program running inside, so the program is started by a shell that records its
 * pid, and an abort runs a second exec that stops that shell and everything under it (TERM, then KILL after 5 s).
 */
export async function killableExec(
    run: (argv: string[], options: ExecOptions) => Promise<string>,
    argv: string[],
    options: ExecOptions,
): Promise<string> {
    if (options.signal === undefined) {
        return run(argv, options);
    }
    const token = `bklite-exec-${crypto.randomBytes(6).toString("hex")}.pid`;
    try {
        return await run(["sh", "-c", RECORD_PID, token, ...argv], options);
    } catch (err) {
        if (options.signal.aborted) {
            await run(["sh", "-c", STOP_TREE, token], {}).catch(() => undefined);
        }
        throw err;
    }
}

/** Where the pid goes: the first of these the service can write (a read-only root may still have /dev/shm). */
const PID_DIRS = 'for d in /tmp /dev/shm /var/tmp "$HOME"; do [ -n "$d" ] && [ -w "$d" ] && f="$d/$0" && break; done';
/** `sh -c RECORD_PID TOKEN ARGV...`: runs ARGV as its child, its own pid in a file named TOKEN meanwhile. */
const RECORD_PID = `${PID_DIRS}; echo $$ > "$f"; "$@"; status=$?; rm -f "$f"; exit $status`;
/** `sh -c STOP_TREE TOKEN`: TERM to the recorded shell and its descendants (found in /proc), then KILL. */
const STOP_TREE = [
    PID_DIRS,
    'root=$(cat "$f" 2>/dev/null) || exit 0',
    'tree() { echo "$1"; for s in /proc/[0-9]*/stat; do read -r p c st pp rest < "$s" 2>/dev/null || continue; [ "$pp" = "$1" ] && tree "$p"; done; }',
    'pids=$(tree "$root")',
    "kill -TERM $pids 2>/dev/null",
    "i=0; while [ $i -lt 5 ] && kill -0 $root 2>/dev/null; do sleep 1; i=$((i+1)); done",
    "kill -KILL $pids 2>/dev/null",
    'rm -f "$f"',
].join("\n");

/** A fixed address as a verify spec gives it (`host`, or `host:port` already): `host:port`. */
export function fixedAddress(host: string, port: number): string {
    return host.includes(":") ? host : `${host}:${port}`;
}
