/**
 * The files the program renders, run by the real servers: nats-server with the rendered nats.conf (TLS,
 * JetStream, the server side's user) and redis-server with the rendered redis.conf and the spec's own health check.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import { VALUE_REFS, stackWorkloads } from "../../src/services/stack";
import { renderText } from "../../src/services/template";
import { loadStackConfig } from "../../src/config/stackFiles";
import { TestNats, startNats } from "../support/nats";
import { freePort, httpGet, requireBinary, start, tempDir, waitFor } from "../support/processes";
import { PROJECT_ROOT } from "../support/stackFiles";

/** Reads protocol lines from a socket until one matches. */
function readLine(socket: net.Socket, pattern: RegExp, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
        let buffer = "";
        const timer = setTimeout(() => done(new Error(`no line matching ${pattern} in: ${buffer}`)), timeoutMs);
        const onData = (chunk: Buffer) => {
            buffer += chunk.toString();
            const line = buffer.split("\r\n").find((l) => pattern.test(l));
            if (line !== undefined) {
                done(undefined, line);
            }
        };
        const done = (err?: Error, line?: string) => {
            clearTimeout(timer);
            socket.off("data", onData);
            if (err) {
                reject(err);
            } else {
                resolve(line!);
            }
        };
        socket.on("data", onData);
    });
}

/** Connects as a NATS client: plain INFO, TLS upgrade verified against the CA, then CONNECT and PING. */
async function natsLogin(port: number, ca: string, user: string, pass: string): Promise<string> {
    const plain = net.connect(port, "127.0.0.1");
    try {
        const info = await readLine(plain, /^INFO /);
        assert.match(info, /"tls_required":true/);
        const secure = tls.connect({ socket: plain, ca: fs.readFileSync(ca), servername: "localhost" });
        await new Promise<void>((resolve, reject) => {
            secure.once("secureConnect", resolve);
            secure.once("error", reject);
        });
        secure.write(
            `CONNECT ${JSON.stringify({ user, pass, verbose: false, pedantic: false, tls_required: true })}\r\nPING\r\n`,
        );
        return await readLine(secure as unknown as net.Socket, /^(PONG|-ERR)/);
    } finally {
        plain.destroy();
    }
}

describe("rendered NATS config on a real nats-server", function () {
    this.timeout(60000);
    let nats: TestNats;
    let clientPort: number;
    let monitorPort: number;
    let password: string;
    let certs: { ca: string };

    before(async () => {
        // startNats renders the stack's nats.conf (src/services/natsConfig.ts) and checks it with `nats-server -t`.
        nats = await startNats();
        ({ clientPort, monitorPort, password } = nats);
        certs = { ca: nats.caFile };
    });

    after(async () => {
        await nats?.stop();
    });

    it("accepts the user over TLS verified by the stack's CA", async () => {
        assert.strictEqual(await natsLogin(clientPort, certs.ca, nats.user, password), "PONG");
    });

    it("refuses a wrong password", async () => {
        assert.match(await natsLogin(clientPort, certs.ca, nats.user, "wrong-password"), /Authorization Violation/);
    });

    it("refuses clients that do not use TLS", async () => {
        const socket = net.connect(clientPort, "127.0.0.1");
        await readLine(socket, /^INFO /);
        let received = "";
        socket.on("data", (d) => (received += d));
        const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        socket.write(`CONNECT ${JSON.stringify({ user: nats.user, pass: password, verbose: false })}\r\nPING\r\n`);
        await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
        socket.destroy();
        assert.ok(!received.includes("PONG"), `a plaintext client got in: ${received}`);
    });

    it("runs JetStream on the configured store directory", async () => {
        const jsz = JSON.parse((await httpGet(`http://127.0.0.1:${monitorPort}/jsz`)).body);
        // nats-server keeps JetStream in <store_dir>/jetstream.
        assert.strictEqual(jsz.config.store_dir, nats.storeDir);
        assert.strictEqual((await httpGet(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`)).status, 200);
    });
});

describe("rendered Redis config on a real redis-server", function () {
    this.timeout(60000);
    const password = "redispassword0123456789";
    let dir: string;
    let port: number;
    let server: ReturnType<typeof start>;
    const redisSpec = () => stackWorkloads(loadStackConfig(PROJECT_ROOT, "dev")).find((s) => s.name === "redis")!;
    /** The spec's health check, pointed at this test's port. */
    const healthCheck = () => {
        const [kind, command] = redisSpec().health.test;
        assert.strictEqual(kind, "CMD-SHELL");
        try {
            execFileSync("sh", ["-c", command.replace("redis-cli", `redis-cli -p ${port}`)], { stdio: "pipe" });
            return true;
        } catch {
            return false;
        }
    };
    const cli = (...args: string[]) =>
        execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8", env: { ...process.env } }).trim();

    before(async () => {
        const redisServer = requireBinary("redis-server");
        requireBinary("redis-cli");
        dir = tempDir("redis");
        port = await freePort();
        const file = redisSpec().files.find((f) => f.path.endsWith("redis.conf"))!;
        // The rendered file with this test's directory for the volume's, then its port (later directives win).
        const rendered = renderText(file.content, { [VALUE_REFS.redisPassword]: password });
        assert.match(rendered, /^dir \/data$/m, "data goes to the volume");
        const conf = `${rendered.replace(/^dir \/data$/m, `dir ${dir}`)}port ${port}\nbind 127.0.0.1\n`;
        fs.writeFileSync(path.join(dir, "redis.conf"), conf);
        assert.strictEqual(healthCheck(), false, "the health check fails while nothing listens");
        server = start(redisServer, [path.join(dir, "redis.conf")]);
        await waitFor(
            async () => healthCheck(),
            15000,
            () => server.output(),
        );
    });

    after(async () => {
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("passes the spec's health check without knowing the password", () => {
        assert.strictEqual(healthCheck(), true);
        assert.match(cli("ping"), /NOAUTH/);
    });

    it("requires the rendered password", () => {
        assert.strictEqual(cli("--no-auth-warning", "-a", password, "ping"), "PONG");
        assert.match(cli("--no-auth-warning", "-a", "wrong", "ping"), /WRONGPASS|invalid password|NOAUTH/i);
    });

    it("keeps an append-only file for durability", () => {
        assert.deepStrictEqual(cli("--no-auth-warning", "-a", password, "config", "get", "appendonly").split("\n"), [
            "appendonly",
            "yes",
        ]);
    });
});
