/**
 * `kubectl port-forward` to a Service of the stack, started by the CLI and always stopped by it (by the access that
 * started it, and at the CLI's exit or interruption).
 */
import { ChildProcess, spawn } from "child_process";
import { KubeTarget, kubectlBinary, kubectlScope } from "./kubectl";

export type { KubeTarget };

export interface Forward {
    localPort: number;
    stop(): Promise<void>;
}

/** Every forward still running, so an interrupted CLI can stop them all. */
const running = new Set<ChildProcess>();
let hooked = false;

function stopAllOnExit(): void {
    if (hooked) {
        return;
    }
    hooked = true;
    process.on("exit", () => running.forEach((child) => child.kill("SIGTERM")));
    for (const [signal, code] of [
        ["SIGINT", 130],
        ["SIGTERM", 143],
    ] as const) {
        process.once(signal, () => {
            // A command that handles the signal itself (restore: leave the old data serving) stops its own
            // forwards when it is done; only a command that does not is ended here.
            if (process.listenerCount(signal) > 0) {
                return;
            }
            running.forEach((child) => child.kill("SIGTERM"));
            process.exit(code);
        });
    }
}

/** Starts `kubectl port-forward svc/<service> 0:<port>` and resolves with the local port it chose. */
export function portForward(target: KubeTarget, service: string, port: number, timeoutMs = 30000): Promise<Forward> {
    const kubectl = kubectlBinary();
    const args = [...kubectlScope(target), "port-forward", `svc/${service}`, `0:${port}`, "--address", "127.0.0.1"];
    stopAllOnExit();
    return new Promise((resolve, reject) => {
        const child = spawn(kubectl, args, { stdio: ["ignore", "pipe", "pipe"] });
        running.add(child);
        let output = "";
        const stop = () =>
            new Promise<void>((done) => {
                running.delete(child);
                if (child.exitCode !== null || child.signalCode !== null) {
                    done();
                    return;
                }
                child.once("exit", () => done());
                child.kill("SIGTERM");
            });
        const fail = (message: string) => {
            clearTimeout(timer);
            void stop();
            reject(
                new Error(
                    `kubectl port-forward to svc/${service} in namespace ${target.namespace}${target.context ? ` (context ${target.context})` : ""} ${message}`,
                ),
            );
        };
        const timer = setTimeout(() => fail(`did not start within ${timeoutMs / 1000} s: ${output.trim()}`), timeoutMs);
        const onData = (data: Buffer) => {
            output += data;
            const match = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(output);
            if (match) {
                clearTimeout(timer);
                resolve({ localPort: Number(match[1]), stop });
            }
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", (d) => (output += d));
        child.on("error", (err) => fail(`could not run ${kubectl}: ${err.message}`));
        child.on("exit", (code) => {
            running.delete(child);
            if (!/Forwarding from/.test(output)) {
                fail(`exited (${code}): ${output.trim()}`);
            }
        });
    });
}
