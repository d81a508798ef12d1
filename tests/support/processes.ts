/**
 * Helpers for tests that run real servers (nats-server, redis-server) on loopback: free ports, temp dirs,
 * bounded waits, and cleanup that always kills what was started.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

export function tempDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `bklite-${prefix}-`));
}

/** Fails the test with a clear message when a binary the test needs is missing (`.ci/run` installs them). */
export function requireBinary(name: string): string {
    try {
        return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    } catch {
        throw new Error(`${name} is not installed; run .ci/run or install the Debian package that provides it`);
    }
}

/** A started server process with its collected output. */
export interface Started {
    process: ChildProcess;
    output: () => string;
    stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export function start(
    command: string,
    args: string[],
    options: { cwd?: string; uid?: number; gid?: number } = {},
): Started {
    const child = spawn(command, args, {
        cwd: options.cwd,
        uid: options.uid,
        gid: options.gid,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    return {
        process: child,
        output: () => output,
        stop: (signal: NodeJS.Signals = "SIGTERM") =>
            new Promise((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) {
                    resolve();
                    return;
                }
                child.once("exit", () => resolve());
                child.kill(signal);
            }),
    };
}

/** Polls `check` until it returns true, at most `timeoutMs`; throws with `describe()` on timeout. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await check().catch(() => false)) {
            return;
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
}

/** GET an http URL on loopback; resolves with status and body. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.setTimeout(2000, () => req.destroy(new Error("timeout")));
    });
}
