/**
 * An agent's NATS credentials on a real nats-server running the stack's rendered config: each thing bk-lite's agents
 * do works (publish a metric and a log line, fetch a package from the object store, receive a command addressed to
 * a node and reply), and what could command the fleet or harm the platform is refused. The agent's side is the
 * agent probe, built with the NATS client nats-executor is built with; the server's side is the CLI's own client.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as readline from "readline";
import { NatsConnection } from "nats";
import { connectNats } from "../../src/nats/client";
import { Readable } from "stream";
import { connectionsOf, ensurePackageMirror, writeAgentUsers, writeUsersScript } from "../../src/seed/agentUsers";
import { planAgentUsers } from "../../src/services/natsAgentUsers";
import { ObjectBucket } from "../../src/seed/objectStore";
import * as fs from "fs";
import * as path from "path";
import { acceptedEndpoint } from "../../src/nats/client";
import { TestNats, makeCertificates, startNats } from "../support/nats";
import { freePort, httpGet, requireBinary, start, tempDir, waitFor } from "../support/processes";
import { agentProbe } from "../support/goPrograms";

const BUCKET = "bklite";
const NODE_A = crypto.randomBytes(16).toString("hex");
const NODE_B = crypto.randomBytes(16).toString("hex");
const REGION_A = { user: "agent-east", password: `east-${crypto.randomBytes(12).toString("hex")}` };
const REGION_B = { user: "agent-west", password: `west-${crypto.randomBytes(12).toString("hex")}` };
const PACKAGE = Buffer.from(`a probe package ${crypto.randomBytes(200000).toString("base64")}`);

interface ProbeResult {
    ok: boolean;
    error?: string;
    [key: string]: unknown;
}

describe("NATS: an agent's credentials (real nats-server, the stack's config)", function () {
    this.timeout(180000);
    let nats: TestNats;
    let server: NatsConnection;
    let probe: string;

    const env = (agent: { user: string; password: string }) => ({
        ...process.env,
        PROBE_URL: nats.url,
        PROBE_USER: agent.user,
        PROBE_PASSWORD: agent.password,
        PROBE_CA: nats.caFile,
    });

    /** One operation of the probe, to its one line of result. */
    function once(agent: { user: string; password: string }, ...args: string[]): Promise<ProbeResult> {
        return new Promise((resolve, reject) => {
            const child = spawn(probe, args, { env: env(agent), stdio: ["ignore", "pipe", "inherit"] });
            let out = "";
            child.stdout.on("data", (d: Buffer) => (out += d.toString()));
            child.on("error", reject);
            child.on("close", () => resolve(JSON.parse(out.trim().split("\n").pop()!) as ProbeResult));
        });
    }

    /** A probe that stays (serve, subscribe): resolves once it is ready, with its end to await. */
    function standing(agent: { user: string; password: string }, ...args: string[]) {
        const child = spawn(probe, args, { env: env(agent), stdio: ["pipe", "pipe", "inherit"] });
        const lines = readline.createInterface({ input: child.stdout });
        const results: ProbeResult[] = [];
        const ready = new Promise<ProbeResult>((resolve) => lines.on("line", (l) => resolve(JSON.parse(l))));
        const done = new Promise<ProbeResult>((resolve) =>
            child.on("close", () => resolve(results[results.length - 1])),
        );
        lines.on("line", (l) => results.push(JSON.parse(l) as ProbeResult));
        return { ready, done, stop: () => child.stdin.end("\n") };
    }

    before(async () => {
        this.timeout(900000);
        probe = agentProbe((line) => console.log(`      ${line}`));
        nats = await startNats();
        const plan = planAgentUsers({
            serverPassword: nats.password,
            regions: [REGION_A, REGION_B],
            handedOut: [],
            bucket: BUCKET,
        });
        await writeAgentUsers(plan, nats.runBeside, nats.files, () => undefined);
        server = await connectNats({ url: nats.url, user: nats.user, password: nats.password, ca: nats.caPem }, "test");
        const store = await ObjectBucket.open(server, BUCKET);
        await server
            .jetstream()
            .views.os(BUCKET)
            .then((os) => os.putBlob({ name: "fusion-collectors.zip" }, PACKAGE));
        assert.ok(store);
        const endpoint = { url: nats.url, password: nats.password, ca: nats.caPem };
        assert.strictEqual(await ensurePackageMirror(endpoint, server, BUCKET), "made");
        assert.strictEqual(await ensurePackageMirror(endpoint, server, BUCKET), "present");
    });

    after(async () => {
        await server?.close();
        await nats?.stop();
    });

    it("publishes a metric (metrics.<ip>) and a log line (vector) that the server side receives", async () => {
        const received: string[] = [];
        const subs = ["metrics.*", "vector"].map((s) =>
            server.subscribe(s, { callback: (_e, m) => received.push(`${m.subject} ${m.string()}`) }),
        );
        await server.flush();
        assert.deepStrictEqual(await once(REGION_A, "publish", "metrics.10-0-0-7", "cpu usage=3"), { ok: true });
        assert.deepStrictEqual(await once(REGION_A, "publish", "vector", '{"message":"x"}'), { ok: true });
        await new Promise((r) => setTimeout(r, 300));
        subs.forEach((s) => s.unsubscribe());
        assert.deepStrictEqual(received.sort(), ["metrics.10-0-0-7 cpu usage=3", 'vector {"message":"x"}']);
    });

    it("fetches a package from the object store, as nats-executor does, and a package uploaded later too", async () => {
        const digest = crypto.createHash("sha256").update(PACKAGE).digest("hex");
        const got = await once(REGION_A, "get", BUCKET, "fusion-collectors.zip");
        assert.deepStrictEqual(got, { ok: true, sha256: digest, size: PACKAGE.length });
        const later = Buffer.from("uploaded after the mirror was made");
        await (await server.jetstream().views.os(BUCKET)).putBlob({ name: "later.zip" }, later);
        let fetched: ProbeResult = { ok: false };
        for (let i = 0; i < 50 && !fetched.ok; i++) {
            fetched = await once(REGION_B, "get", BUCKET, "later.zip");
        }
        assert.strictEqual(fetched.size, later.length, JSON.stringify(fetched));
    });

    it("receives a command addressed to its node and replies; the server side gets the reply", async () => {
        const executor = standing(REGION_A, "serve", `local.execute.${NODE_A}`);
        assert.strictEqual((await executor.ready).ready, true);
        const reply = await server.request(`local.execute.${NODE_A}`, new TextEncoder().encode("echo hi"), {
            timeout: 5000,
        });
        executor.stop();
        await executor.done;
        assert.strictEqual(reply.string(), `${REGION_A.user} answered local.execute.${NODE_A}: echo hi`);
    });

    it("cannot publish a command: to another region's node, or to the server's default executor", async () => {
        const executor = standing(REGION_B, "serve", `local.execute.${NODE_B}`);
        await executor.ready;
        for (const subject of [
            `local.execute.${NODE_B}`,
            `ssh.execute.${NODE_B}`,
            "local.execute.default",
            "ssh.execute.default",
            "upload.remote.default",
        ]) {
            const result = await once(REGION_A, "publish", subject, "rm -rf /");
            assert.strictEqual(result.ok, false, subject);
            assert.match(
                result.error!,
                new RegExp(`Permissions Violation for Publish to "${subject.replace(/\./g, "\\.")}"`),
            );
        }
        const request = await once(REGION_A, "request", `local.execute.${NODE_B}`, "id");
        assert.strictEqual(request.ok, false);
        executor.stop();
        assert.strictEqual((await executor.done).served, 0, "region west's executor received nothing from east");
    });

    it("cannot read the server-side executor's commands (where controller installs send SSH passwords)", async () => {
        for (const subject of ["ssh.execute.default", "upload.remote.default", "local.execute.default"]) {
            const result = await once(REGION_A, "subscribe", subject, "1");
            assert.match(result.error ?? "", /Permissions Violation for Subscription/, subject);
        }
        // A wildcard subscription an agent may make still never delivers the default executor's subjects.
        const listener = standing(REGION_A, "subscribe", "ssh.execute.*", "2");
        await listener.ready;
        server.publish("ssh.execute.default", new TextEncoder().encode('{"password":"secret"}'));
        assert.deepStrictEqual((await listener.done).received, []);
    });

    it("cannot read replies not addressed to it, nor the server side's traffic", async () => {
        const executor = standing(REGION_B, "serve", `local.execute.${NODE_B}`);
        await executor.ready;
        const snooper = standing(REGION_A, "subscribe", "_INBOX.>", "2");
        await snooper.ready;
        const reply = await server.request(`local.execute.${NODE_B}`, new TextEncoder().encode("cat /etc/shadow"), {
            timeout: 5000,
        });
        assert.match(reply.string(), /agent-west answered/);
        await server.request("$JS.API.INFO", undefined, { timeout: 5000 });
        executor.stop();
        await executor.done;
        assert.deepStrictEqual((await snooper.done).received, []);
        for (const subject of ["_R_.>", "metrics.*", "$JS.API.>", ">"]) {
            const result = await once(REGION_A, "subscribe", subject, "1");
            assert.match(result.error ?? "", /Permissions Violation for Subscription/, subject);
        }
    });

    it("cannot delete or write an object, or delete or purge the bucket", async () => {
        const deleted = await once(REGION_A, "delete", BUCKET, "fusion-collectors.zip");
        assert.strictEqual(deleted.ok, false);
        const written = await once(REGION_A, "put", BUCKET, "fusion-collectors.zip", "a trojan");
        assert.strictEqual(written.ok, false);
        for (const subject of [
            `$JS.API.STREAM.DELETE.OBJ_${BUCKET}`,
            `$JS.API.STREAM.PURGE.OBJ_${BUCKET}`,
            "$O.bklite.M.x",
        ]) {
            const result = await once(REGION_A, "publish", subject, "");
            assert.match(result.error ?? "", /Permissions Violation for Publish/, subject);
        }
        const digest = crypto.createHash("sha256").update(PACKAGE).digest("hex");
        assert.strictEqual((await once(REGION_B, "get", BUCKET, "fusion-collectors.zip")).sha256, digest);
        const original = await (await server.jetstream().views.os(BUCKET)).get("fusion-collectors.zip");
        assert.ok(original, "the server side's object is still there");
    });

    it("keeps the users NATS has when a new file is refused, and takes a password with any character", async () => {
        await assert.rejects(
            nats.runBeside(writeUsersScript(nats.files), Readable.from(["users: [ { user: "])),
            /nats-server refused the agents' users/,
        );
        assert.deepStrictEqual(await once(REGION_A, "publish", "metrics.10-0-0-8", "x=1"), { ok: true });
        const odd = { user: "agent-odd", password: 'a "quoted" \\ password, with: colons' };
        const plan = planAgentUsers({
            serverPassword: nats.password,
            regions: [REGION_A, REGION_B],
            handedOut: [odd],
            bucket: BUCKET,
        });
        await writeAgentUsers(plan, nats.runBeside, nats.files, () => undefined);
        assert.deepStrictEqual(await once(odd, "publish", "metrics.10-0-0-9", "x=1"), { ok: true });
        assert.deepStrictEqual(
            (await connectionsOf(["agent-odd"], nats.runBeside, nats.files)).length,
            0,
            "the probe has gone",
        );
    });

    it("a backup before the upgrade reaches a NATS still running the release before, with its shared credential", async () => {
        // The config the release before rendered: one account, the one user `admin` the server and agents shared.
        const dir = tempDir("nats-before");
        const certs = makeCertificates(dir);
        const [port, monitor] = [await freePort(), await freePort()];
        const conf = path.join(dir, "nats-server.conf");
        fs.writeFileSync(
            conf,
            [
                `port: ${port}`,
                `monitor_port: ${monitor}`,
                `jetstream {
  store_dir: "${dir}"
}`,
                `tls {
  cert_file: "${certs.cert}"
  key_file: "${certs.key}"
  ca_file: "${certs.ca}"
}`,
                `accounts {
  BKLITE: {
    jetstream: enabled
    users: [ { user: "admin", password: "the-shared-one-0123456789" } ]
  }
}`,
                "",
            ].join("\n"),
        );
        const older = start(requireBinary("nats-server"), ["-c", conf]);
        try {
            await waitFor(
                async () => (await httpGet(`http://127.0.0.1:${monitor}/healthz`)).status === 200,
                20000,
                older.output,
            );
            const endpoint = {
                url: `tls://127.0.0.1:${port}`,
                user: "bklite",
                password: nats.password,
                ca: fs.readFileSync(certs.ca, "utf8"),
            };
            const said: string[] = [];
            const accepted = await acceptedEndpoint(
                endpoint,
                { user: "admin", password: "the-shared-one-0123456789" },
                (l) => said.push(l),
            );
            assert.deepStrictEqual([accepted.user, accepted.password], ["admin", "the-shared-one-0123456789"]);
            assert.deepStrictEqual(said, [
                "NATS refused bklite and accepted admin: it still runs the release before; using that",
            ]);
            await assert.rejects(
                acceptedEndpoint(endpoint, undefined, () => undefined),
                /refused the user "bklite"/,
            );
            await assert.rejects(
                acceptedEndpoint(endpoint, { user: "admin", password: "not-it-0123456789" }, () => undefined),
                /refused the user "admin"/,
            );
            // The stack's own NATS takes the server side's credential: the previous one is never tried.
            const own = { url: nats.url, user: nats.user, password: nats.password, ca: nats.caPem };
            assert.strictEqual(await acceptedEndpoint(own, { user: "admin", password: "x" }, () => undefined), own);
        } finally {
            await older.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the server side's password does not open the agents' users, nor an agent's the server side's", async () => {
        const asAgent = await once({ user: REGION_A.user, password: nats.password }, "publish", "metrics.x", "1");
        assert.match(asAgent.error!, /Authorization Violation/i);
        const asServer = await once({ user: nats.user, password: REGION_A.password }, "publish", "metrics.x", "1");
        assert.match(asServer.error!, /Authorization Violation/i);
    });
});
