/**
 * Test hosts in network namespaces: a veth pair between two namespaces (or a namespace and this host), addresses
 * on each end, and a TCP probe that says whether a connection from a given source address gets through.
 */
import { execFileSync, spawn } from "child_process";
import * as crypto from "crypto";

export function ip(...args: string[]): string {
    return execFileSync("ip", args, { encoding: "utf8" });
}

/** Runs a command inside a namespace (or on this host when `ns` is undefined). */
export function inNs(ns: string | undefined, command: string, args: string[], input?: string): string {
    const [bin, all] = ns ? ["ip", ["netns", "exec", ns, command, ...args]] : [command, args];
    return execFileSync(bin as string, all as string[], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

export function uniqueName(prefix: string): string {
    return `${prefix}${crypto.randomBytes(3).toString("hex")}`;
}

/**
 * A /24 in 10.232.0.0/16 that no interface of this host uses, as a function from host number to address: tests
 * that put addresses on this host's own interfaces (the DOCKER-USER path) must not share one with another run.
 */
export function uniqueSubnet(): (host: number) => string {
    const used = ip("-o", "-4", "addr", "show");
    const start = crypto.randomInt(1, 255);
    for (let i = 0; i < 254; i++) {
        const third = ((start + i) % 254) + 1;
        if (!used.includes(` 10.232.${third}.`)) {
            return (host) => `10.232.${third}.${host}`;
        }
    }
    throw new Error("no free /24 in 10.232.0.0/16 on this host");
}

/** Whether a TCP connection from `source` to host:port is accepted within `timeoutMs` (run inside `ns`). */
export function canConnect(
    ns: string | undefined,
    source: string,
    host: string,
    port: number,
    timeoutMs = 1500,
): boolean {
    const script = `
const s = require("net").connect({ host: ${JSON.stringify(host)}, port: ${port}, localAddress: ${JSON.stringify(source)} });
const t = setTimeout(() => { process.stdout.write("timeout"); process.exit(0); }, ${timeoutMs});
s.on("connect", () => { clearTimeout(t); process.stdout.write("connected"); s.destroy(); process.exit(0); });
s.on("error", (e) => { clearTimeout(t); process.stdout.write("error " + e.code); process.exit(0); });`;
    return inNs(ns, process.execPath, ["-e", script]).startsWith("connected");
}

/** Starts TCP listeners on the given ports inside a namespace; returns a stop function. */
export function listen(ns: string, ports: number[]): () => void {
    // Clients hang up at once: a reset must not kill the listener.
    const script = `for (const p of ${JSON.stringify(ports)}) require("net").createServer((s) => { s.on("error", () => {}); s.end("ok\\n"); }).listen(p, "0.0.0.0"); setInterval(() => {}, 1000);`;
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script], { stdio: "ignore" });
    return () => child.kill("SIGKILL");
}
