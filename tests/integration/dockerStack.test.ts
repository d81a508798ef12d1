/**
 * The dev stack for real on a Docker engine: the program's own registered containers, network, volumes, database
 * and seed command (from a mock run of Pulumi.dev.yaml) created as the providers create them, on stand-in images
 * built here from Debian's packages (tests/support/standinImages.ts). Then what a site needs: every container
 * healthy and the server's wiring checked from inside, the seeding over TLS, the console login, the executor
 * answering, the engine reporting back what was sent, and all of it surviving a restart of every container.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn } from "child_process";
import { connect } from "nats";
import { Client } from "pg";
import { DEFAULT_INSTALL_APPS } from "../../src/config/keys";
import { NATS_SERVER_USER, agentPassword, agentUserName } from "../../src/services/natsAccounts";
import { aesDecrypt } from "../../src/seed/aes";
import { mapStrings } from "../../src/util/json";
import { RecordedResource } from "../../src/plan/mockRun";
import { goDuration } from "../../src/runtimes/docker/containers";
import { containerLogs, dockerApi } from "../support/dockerApi";
import { requireDockerEngine } from "../support/docker";
import { ProgramRun, runProgram } from "../support/mocks";
import { makeCertificates } from "../support/nats";
import { freePort, httpGet, tempDir } from "../support/processes";
import { Replayed, removeStack, replay, replayChange, runCommand, waitHealthy } from "../support/replay";
import { STAND_INS, standInImages } from "../support/standinImages";
import { stackConfig } from "../support/stackFiles";
import { djangoChecks } from "../support/django";
import { readZip, writeZip } from "../support/zips";

/** The mock run's placeholder for a generated PEM (tests/support/mocks.ts), by resource name. */
const mockPem = (kind: "CERTIFICATE" | "PRIVATE KEY", name: string) =>
    `-----BEGIN ${kind}-----\nmock-${name}\n-----END ${kind}-----\n`;

describe("the dev stack on a Docker engine (stand-in images)", function () {
    this.timeout(600000);
    const stack = `e2e${crypto.randomBytes(4).toString("hex")}`;
    const prefix = `bklite-${stack}`;
    let run: ProgramRun;
    let resources: RecordedResource[];
    let deployed: Replayed;
    let ports: { http: number; nats: number; postgres: number };
    let ca: string;
    let packages: { controller: string; telegraf: string };
    let images: Record<string, string>;
    /** The test's stack config, with the default region given. */
    let config: (defaultRegion: Record<string, unknown>) => Record<string, string>;
    /** A mock run's resources with the test's real certificates in place of the mocks' placeholders. */
    let withRealCertificates: (recordedRun: ProgramRun) => RecordedResource[];

    const recorded = (name: string) => resources.find((r) => r.name === name)!;
    const serverEnv = () =>
        Object.fromEntries(
            (recorded("bklite-docker-server").inputs.envs as string[]).map((e) => [
                e.slice(0, e.indexOf("=")),
                e.slice(e.indexOf("=") + 1),
            ]),
        );
    async function database<T>(fn: (db: Client) => Promise<T>): Promise<T> {
        const env = serverEnv();
        const db = new Client({
            host: "127.0.0.1",
            port: ports.postgres,
            user: env.DB_USER,
            password: env.DB_PASSWORD,
            database: env.DB_NAME,
        });
        await db.connect();
        try {
            return await fn(db);
        } finally {
            await db.end();
        }
    }
    const seed = () => recorded("bklite-seed-apply");
    /** Connects to the stack's NATS as its commands do: the server's user, over TLS with the stack's CA. */
    const asServer = () => {
        const env = seed().inputs.environment as Record<string, string>;
        return connect({
            servers: `tls://127.0.0.1:${ports.nats}`,
            user: NATS_SERVER_USER,
            pass: env.BKLITE_NATS_PASSWORD,
            tls: { ca },
        });
    };

    before(async () => {
        requireDockerEngine();
        images = standInImages((line) => process.stderr.write(`      ${line}\n`));
        const work = tempDir("e2e");
        const certs = makeCertificates(work);
        ca = fs.readFileSync(certs.ca, "utf8");
        packages = {
            controller: path.join(work, "fusion-collectors-linux-amd64.zip"),
            telegraf: path.join(work, "telegraf"),
        };
        writeZip(packages.controller, [
            ["fusion-collectors/install.sh", "#!/bin/sh\n"],
            ["fusion-collectors/bin/sidecar", crypto.randomBytes(64 * 1024)],
        ]);
        fs.writeFileSync(packages.telegraf, crypto.randomBytes(32 * 1024));
        ports = { http: await freePort(), nats: await freePort(), postgres: await freePort() };
        config = (defaultRegion) =>
            stackConfig("dev", {
                "bklite:httpPort": ports.http,
                "bklite:natsPort": ports.nats,
                "bklite:postgresPort": ports.postgres,
                // Every app's services: the default apps, and mlops.
                "bklite:installApps": [...DEFAULT_INSTALL_APPS, "mlops"],
                // The backup before an upgrade goes where this run cleans up.
                "bklite:backup": { dir: path.join(work, "backups"), keep: 2 },
                // A second region's agents are elsewhere: told this host's own non-loopback address for the API (so
                // verification reaches it from here) and another for NATS.
                "bklite:regions": [
                    defaultRegion,
                    {
                        name: "管理网",
                        nodeServerUrl: `http://${hostAddress()}:${ports.http}`,
                        env: { NATS_SERVERS: "10.1.0.5:24222" },
                    },
                ],
                "bklite:probePackages": [
                    { file: packages.controller, version: "1.0.0" },
                    { file: packages.telegraf, type: "collector", object: "Telegraf", version: "1.0.0" },
                ],
            });
        run = await runProgram(stack, config({ name: "default" }));
        // Real certificates where the mocks put placeholders: TLS between the containers is checked for real.
        const real: Array<[string, string]> = [
            [mockPem("CERTIFICATE", "bklite-nats-tls-ca"), ca],
            [mockPem("CERTIFICATE", "bklite-nats-tls-server"), fs.readFileSync(certs.cert, "utf8")],
            [mockPem("PRIVATE KEY", "bklite-nats-tls-server-key"), fs.readFileSync(certs.key, "utf8")],
        ];
        withRealCertificates = (recordedRun) =>
            recordedRun.recorder.resources.map((r) => ({
                ...r,
                inputs: mapStrings(r.inputs, (text) =>
                    real.reduce((t, [from, to]) => t.split(from).join(to), text),
                ) as Record<string, any>,
            }));
        resources = withRealCertificates(run);
        assert.deepStrictEqual(
            resources
                .filter((r) => r.type === "docker:index/container:Container")
                .map((r) => r.inputs.name)
                .sort(),
            Object.keys(STAND_INS)
                .map((s) => `${prefix}-${s}`)
                .sort(),
            "a stand-in for every container the stack runs",
        );
        await removeStack(prefix);
        deployed = await replay(resources, { images, log: (line) => process.stderr.write(`      ${line}\n`) });
    });

    after(async () => {
        if (process.env.E2E_KEEP !== "1") {
            await removeStack(prefix);
        }
    });

    it("brings every container up healthy, each on a stand-in labelled as one", async () => {
        for (const [service, id] of Object.entries(deployed.containers)) {
            const info = await dockerApi("GET", `/containers/${id}/json`);
            assert.strictEqual(info.State.Health.Status, "healthy", service);
            const image = await dockerApi("GET", `/images/${info.Image}/json`);
            assert.strictEqual(
                image.Config.Labels["io.bklite.stand-in"],
                STAND_INS[service].standsFor,
                `${service} runs a stand-in of ${STAND_INS[service].standsFor}`,
            );
            assert.strictEqual(image.Config.Labels["io.bklite.runs"], STAND_INS[service].runs, service);
        }
    });

    it("wires the server to the database with its own role, to Redis with the password, and to NATS over TLS with the CA", async () => {
        const log = await containerLogs(deployed.containers.server);
        assert.match(log, /database: bklite@postgres\/bklite ok/);
        assert.match(log, /redis: AUTH ok on the broker and cache URLs/);
        assert.match(log, /nats: TLS connection verified with the CA ok/);
    });

    it("gets back from the engine what the provider sent: network mode, health check durations, log options, bind addresses", async () => {
        for (const r of resources.filter((x) => x.type === "docker:index/container:Container")) {
            const info = await dockerApi("GET", `/containers/${r.inputs.name}/json`);
            assert.strictEqual(info.HostConfig.NetworkMode, r.inputs.networkMode, `${r.name} networkMode`);
            const h = info.Config.Healthcheck;
            const seconds = (ns: number) => goDuration(ns / 1e9);
            assert.deepStrictEqual(
                {
                    tests: h.Test,
                    interval: seconds(h.Interval),
                    timeout: seconds(h.Timeout),
                    startPeriod: seconds(h.StartPeriod),
                    retries: h.Retries,
                },
                r.inputs.healthcheck,
                `${r.name} healthcheck reads back as sent`,
            );
            assert.deepStrictEqual(
                info.HostConfig.LogConfig,
                { Type: r.inputs.logDriver, Config: r.inputs.logOpts },
                `${r.name} log options`,
            );
            assert.strictEqual(info.HostConfig.RestartPolicy.Name, r.inputs.restart);
            assert.strictEqual(info.Config.StopTimeout ?? undefined, r.inputs.stopTimeout, `${r.name} stop timeout`);
            assert.strictEqual(
                seconds(h.StartInterval ?? 0),
                r.inputs.healthcheck.startInterval ?? "0s",
                `${r.name} start_interval reads back as the provider's default`,
            );
            for (const p of r.inputs.ports) {
                assert.deepStrictEqual(
                    info.HostConfig.PortBindings[`${p.internal}/${p.protocol}`],
                    [{ HostIp: p.ip, HostPort: String(p.external) }],
                    `${r.name} port ${p.internal}`,
                );
            }
        }
        const postgres = await dockerApi("GET", `/containers/${prefix}-postgres/json`);
        assert.strictEqual(
            postgres.NetworkSettings.Ports["5432/tcp"][0].HostIp,
            "127.0.0.1",
            "PostgreSQL is published on loopback only",
        );
        assert.strictEqual(
            (await httpGet(`http://127.0.0.1:${ports.http}/`)).status,
            200,
            "the ingress answers on the published http port (Traefik stand-in: no routing)",
        );
    });

    it("seeds through the published ports, as registered: regions, SidecarEnv, packages with the CA, the console login", async () => {
        const summary = JSON.parse(deployed.commands["bklite-seed-apply"].stdout);
        assert.strictEqual(summary.schema, "huangpu");
        assert.deepStrictEqual(
            summary.regions,
            { created: 1, updated: 0, unchanged: 1 },
            "default was made by the server's node_init",
        );
        assert.strictEqual(summary.admin, "updated");
        const env = seed().inputs.environment as Record<string, string>;
        const rows = await database((db) =>
            db.query<{ region: string; key: string; value: string; type: string }>(
                "SELECT r.name AS region, e.key, e.value, e.type FROM node_mgmt_sidecarenv e JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id ORDER BY r.id, e.key",
            ),
        );
        for (const region of ["default", "管理网"]) {
            const mine = rows.rows.filter((r) => r.region === region);
            assert.deepStrictEqual(
                mine.map((r) => r.key),
                [
                    "NATS_PASSWORD",
                    "NATS_PROTOCOL",
                    "NATS_SERVERS",
                    "NATS_TLS_CA_FILE",
                    "NATS_USERNAME",
                    "NODE_SERVER_URL",
                ],
                region,
            );
            const password = mine.find((r) => r.key === "NATS_PASSWORD")!;
            const agentKey = String(run.recorder.named("bklite-secrets-natsAgentKey").rawOutputs.result);
            assert.strictEqual(mine.find((r) => r.key === "NATS_USERNAME")!.value, agentUserName(region));
            assert.strictEqual(
                aesDecrypt(password.value, env.BKLITE_SECRET_KEY),
                agentPassword(agentKey, region),
                `${region}'s own agent password, decrypting with the server's SECRET_KEY`,
            );
            assert.strictEqual(
                mine.find((r) => r.key === "NATS_SERVERS")!.value,
                region === "default" ? `127.0.0.1:${ports.nats}` : "10.1.0.5:24222",
            );
        }
        const [admin] = (
            await database((db) =>
                db.query<{ password: string }>("SELECT password FROM system_mgmt_user WHERE username = 'admin'"),
            )
        ).rows;
        assert.ok(
            djangoChecks(String(run.outputs.adminPassword), admin.password),
            "the console login is the stack's adminPassword",
        );

        // The controller package as agents download it: with this stack's CA.
        const nc = await asServer();
        try {
            const store = await nc.jetstream().views.os("bklite");
            const chunks: Buffer[] = [];
            for await (const chunk of (await store.get("linux/Controller/1.0.0/fusion-collectors-linux-amd64.zip"))!
                .data) {
                chunks.push(Buffer.from(chunk));
            }
            const stored = path.join(tempDir("e2e-stored"), "controller.zip");
            fs.writeFileSync(stored, Buffer.concat(chunks));
            assert.strictEqual(readZip(stored)["fusion-collectors/certs/ca.crt"].toString("utf8"), ca);
            assert.ok(await store.info("linux/Telegraf/1.0.0/telegraf"), "the collector's own file is stored");
        } finally {
            await nc.close();
        }
    });

    it("has the server-side executor `default` answering where the server's installer asks, over TLS", async () => {
        const nc = await asServer();
        try {
            const reply = await nc.request(
                "download.local.default",
                new TextEncoder().encode(JSON.stringify({ args: [{}], kwargs: {} })),
                { timeout: 5000 },
            );
            // ExecuteResponse (the fork's agents/nats-executor/local/entity.go); the stand-in downloads nothing.
            const answer = JSON.parse(new TextDecoder().decode(reply.data));
            assert.deepStrictEqual(Object.keys(answer).sort(), ["error", "instance_id", "result", "success"]);
            assert.strictEqual(answer.instance_id, "default");
            assert.strictEqual(answer.success, false);
            assert.match(answer.error, /stand-in executor: download\.local is not executed/);
        } finally {
            await nc.close();
        }
    });

    it("proves itself as registered: bklite verify ran last, every check holding (console and API through the routes, login, NATS, regions, packages, streams, every service)", async () => {
        const verified = deployed.commands["bklite-verify-run"];
        assert.strictEqual(verified.code, 0, verified.stdout + verified.stderr);
        for (const row of [
            "console",
            "api",
            "login",
            "nats tls",
            "nats plaintext",
            "region default",
            "region 管理网",
            "package linux/Controller 1.0.0",
            "package linux/Telegraf 1.0.0",
            "streams",
            "service nats-executor",
            "service falkordb",
            "service victoria-metrics",
            "service victoria-logs",
            "service minio",
            "service mlflow",
        ]) {
            assert.match(verified.stdout, new RegExp(`^ok +${row} `, "m"), row);
        }
        assert.match(verified.stdout, /^ok +streams +metrics \(metrics\.\*\) /m, "Telegraf's stream");
        assert.match(verified.stdout, /^(\d+) checks: \1 ok, 0 failed, 0 warnings$/m);
    });

    /** A container's address on the stack's network, as verification reaches it. */
    const addressOf = async (service: string) =>
        (await dockerApi("GET", `/containers/${deployed.containers[service]}/json`)).NetworkSettings.Networks[prefix]
            .IPAddress as string;
    /** Connects as an agent of the default region does: its SidecarEnv credentials, TLS with the stack's CA. */
    async function asAgent() {
        const env = seed().inputs.environment as Record<string, string>;
        const rows = await database((db) =>
            db.query<{ key: string; value: string }>(
                "SELECT e.key, e.value FROM node_mgmt_sidecarenv e JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id WHERE r.name = 'default'",
            ),
        );
        const sidecar = Object.fromEntries(rows.rows.map((r) => [r.key, r.value]));
        return connect({
            servers: `tls://${sidecar.NATS_SERVERS}`,
            user: sidecar.NATS_USERNAME,
            pass: aesDecrypt(sidecar.NATS_PASSWORD, env.BKLITE_SECRET_KEY),
            tls: { ca },
        });
    }
    async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
        const deadline = Date.now() + 60000;
        for (;;) {
            const found = await probe();
            if (found !== undefined) {
                return found;
            }
            if (Date.now() > deadline) {
                throw new Error(`${what} did not arrive within 60 s`);
            }
            await new Promise((r) => setTimeout(r, 1000));
        }
    }

    it("gets an agent's metric into VictoriaMetrics through the stream and the real Telegraf, and its log line into the real VictoriaLogs", async () => {
        const marker = crypto.randomBytes(4).toString("hex");
        const nc = await asAgent();
        try {
            // As an agent's Telegraf publishes (the fork's collectors/Telegraf.json): influx lines on metrics.<ip>.
            nc.publish(
                "metrics.10-1-0-5",
                new TextEncoder().encode(`bklite_e2e,marker=${marker},host=10-1-0-5 value=42i ${Date.now()}000000\n`),
            );
            nc.publish(
                "vector",
                new TextEncoder().encode(
                    JSON.stringify({
                        message: `e2e log ${marker}`,
                        instance_id: "10-1-0-5",
                        source_type: "agent",
                        timestamp: new Date().toISOString(),
                    }),
                ),
            );
            await nc.flush();
        } finally {
            await nc.close();
        }
        // /api/v1/export: raw samples, without the instant query's 30 s latency offset.
        const metrics = `http://${await addressOf("victoria-metrics")}:8428`;
        const exported = await eventually("the metric", async () => {
            const res = await httpGet(
                `${metrics}/api/v1/export?match[]=${encodeURIComponent(`bklite_e2e_value{marker="${marker}"}`)}`,
            );
            return res.status === 200 && res.body.trim() !== ""
                ? JSON.parse(res.body.trim().split("\n")[0])
                : undefined;
        });
        assert.deepStrictEqual(exported.values, [42]);
        assert.strictEqual(exported.metric.host, "10-1-0-5");
        const logs = `http://${await addressOf("victoria-logs")}:9428`;
        const line = await eventually("the log line", async () => {
            const res = await httpGet(`${logs}/select/logsql/query?query=${encodeURIComponent(`"e2e log ${marker}"`)}`);
            return res.status === 200 && res.body.trim() !== ""
                ? JSON.parse(res.body.trim().split("\n")[0])
                : undefined;
        });
        assert.strictEqual(line._msg, `e2e log ${marker}`);
        assert.strictEqual(line.instance_id, "10-1-0-5");
    });

    it("keeps the data and the seed through a restart of every container, and re-seeding changes nothing", async () => {
        const before = await database((db) =>
            db.query(
                "SELECT 'e' AS t, id, xmin::text FROM node_mgmt_sidecarenv UNION ALL SELECT 'p', id, xmin::text FROM node_mgmt_packageversion UNION ALL SELECT 'u', id, xmin::text FROM system_mgmt_user ORDER BY 1, 2",
            ),
        );
        const containers = resources.filter((x) => x.type === "docker:index/container:Container");
        await Promise.all(
            containers.map((r) =>
                dockerApi("POST", `/containers/${r.inputs.name}/restart?t=${r.inputs.stopTimeout ?? 10}`),
            ),
        );
        for (const r of containers) {
            await waitHealthy(r.inputs.name, r.inputs.name, r.inputs.waitTimeout);
        }
        assert.match(
            await containerLogs(deployed.containers.server),
            /nats: TLS connection verified with the CA ok[\s\S]*nats: TLS connection verified with the CA ok/,
            "the server's wiring checks passed again",
        );
        const after = await database((db) =>
            db.query(
                "SELECT 'e' AS t, id, xmin::text FROM node_mgmt_sidecarenv UNION ALL SELECT 'p', id, xmin::text FROM node_mgmt_packageversion UNION ALL SELECT 'u', id, xmin::text FROM system_mgmt_user ORDER BY 1, 2",
            ),
        );
        assert.deepStrictEqual(
            after.rows,
            before.rows,
            "every row survived, untouched (the server's start changed nothing either)",
        );
        const again = await runCommand(seed());
        assert.strictEqual(again.code, 0, again.stderr);
        const summary = JSON.parse(again.stdout);
        assert.deepStrictEqual(
            {
                sidecarEnv: summary.sidecarEnv.updated + summary.sidecarEnv.created,
                objects: summary.objects.uploaded,
                bytes: summary.bytesSent,
                admin: summary.admin,
            },
            { sidecarEnv: 0, objects: 0, bytes: 0, admin: "unchanged" },
        );
        const verified = await runCommand(recorded("bklite-verify-run"));
        assert.strictEqual(verified.code, 0, verified.stdout + verified.stderr);
    });

    it("takes the backup before an upgrade as registered (none on the first deployment), and a restore brings back what was wiped", async () => {
        assert.deepStrictEqual(
            JSON.parse(deployed.commands["bklite-backup-run"].stdout),
            { skipped: "not deployed" },
            "the first `pulumi up` found nothing to back up",
        );
        const registered = recorded("bklite-backup-run");
        const taken = await runCommand(registered);
        assert.strictEqual(taken.code, 0, taken.stderr);
        const { dir } = JSON.parse(taken.stdout);
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
        assert.deepStrictEqual(manifest.images, run.outputs.images, "the images the backup was taken under");
        assert.strictEqual(manifest.objectStores[0].count, 2);
        assert.match(taken.stderr, /backup: database bklite \(pg_dump\): .* \(.*\/s\)/);

        const rows =
            "SELECT r.name, e.key, e.value, e.type FROM node_mgmt_sidecarenv e JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id ORDER BY 1, 2";
        const before = (await database((db) => db.query(rows))).rows;
        await database((db) => db.query("DELETE FROM node_mgmt_sidecarenv"));
        const env = registered.inputs.environment as Record<string, string>;
        const nc = await connect({
            servers: `tls://127.0.0.1:${ports.nats}`,
            user: NATS_SERVER_USER,
            pass: env.BKLITE_NATS_PASSWORD,
            tls: { ca },
        });
        try {
            await (await nc.jetstream().views.os("bklite")).delete("linux/Telegraf/1.0.0/telegraf");
        } finally {
            await nc.close();
        }

        const restored = await new Promise<{ code: number; stderr: string }>((resolve) => {
            const child = spawn(
                "/bin/sh",
                ["-c", `node bin/bklite restore --stack ${stack} --stack-config - --from '${dir}'`],
                { cwd: registered.inputs.dir, env: { ...process.env, ...env }, stdio: ["pipe", "ignore", "pipe"] },
            );
            let stderr = "";
            child.stderr!.on("data", (d) => (stderr += d));
            child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
            child.stdin!.end(registered.inputs.stdin);
        });
        assert.strictEqual(restored.code, 0, restored.stderr);
        assert.match(restored.stderr, new RegExp(`stopping server[\\s\\S]*starting server again`));
        assert.deepStrictEqual((await database((db) => db.query(rows))).rows, before, "every SidecarEnv row is back");
        await waitHealthy(`${prefix}-server`, `${prefix}-server`, 120);
        await waitHealthy(`${prefix}-web`, `${prefix}-web`, 120);
        const verified = await runCommand(recorded("bklite-verify-run"));
        assert.strictEqual(verified.code, 0, verified.stdout + verified.stderr);
        assert.match(verified.stdout, /^ok +package linux\/Telegraf 1\.0\.0 /m, "the object is back, with its digest");
    });

    /** What must not change behind a `pulumi up`: the rows, with their versions, and each object's digest. */
    async function dataSnapshot(): Promise<{ rows: unknown[]; objects: Record<string, string> }> {
        const rows = await database((db) =>
            db.query(
                "SELECT 'e' AS t, e.id, e.key, e.value, e.xmin::text FROM node_mgmt_sidecarenv e UNION ALL SELECT 'p', id, name, version, xmin::text FROM node_mgmt_packageversion UNION ALL SELECT 'u', id, username, password, xmin::text FROM system_mgmt_user ORDER BY 1, 2",
            ),
        );
        const nc = await asServer();
        try {
            const objects: Record<string, string> = {};
            for await (const info of await (await nc.jetstream().views.os("bklite")).list()) {
                objects[info.name] = info.digest;
            }
            return { rows: rows.rows, objects };
        } finally {
            await nc.close();
        }
    }
    const volumes = async () =>
        (
            await dockerApi(
                "GET",
                `/volumes?filters=${encodeURIComponent(JSON.stringify({ label: [`io.bklite.stack=${prefix}`] }))}`,
            )
        ).Volumes.map((v: { Name: string; CreatedAt: string }) => `${v.Name} ${v.CreatedAt}`).sort();

    it("applies a second `pulumi up` as the providers do: a changed server env replaces it (delete, then create), seeding and verification run again, nothing is lost; a third, unchanged, changes nothing", async () => {
        const before = { data: await dataSnapshot(), volumes: await volumes(), ids: { ...deployed.containers } };
        // The operator moves the default region's API address (its agents reach this host by another address).
        const moved = `http://${hostAddress()}:${ports.http}`;
        const second = withRealCertificates(await runProgram(stack, config({ name: "default", nodeServerUrl: moved })));
        const log = (line: string) => process.stderr.write(`      ${line}\n`);
        const changed = await replayChange(resources, second, deployed, { images, log });
        assert.deepStrictEqual(changed.replaced, ["server"], "only the server's env changed");
        assert.notStrictEqual(changed.containers.server, before.ids.server, "a new server container");
        for (const service of Object.keys(before.ids).filter((s) => s !== "server")) {
            assert.strictEqual(changed.containers[service], before.ids[service], `${service} was left alone`);
        }
        assert.deepStrictEqual(changed.reran.sort(), ["bklite-backup-run", "bklite-seed-apply", "bklite-verify-run"]);
        assert.match(changed.commands["bklite-backup-run"].stdout, /no image changed: no backup needed/);
        const seeded = JSON.parse(changed.commands["bklite-seed-apply"].stdout);
        assert.deepStrictEqual([seeded.sidecarEnv.updated, seeded.sidecarEnv.created], [1, 0], "NODE_SERVER_URL");
        const verified = changed.commands["bklite-verify-run"];
        assert.strictEqual(verified.code, 0, verified.stdout + verified.stderr);
        const after = await dataSnapshot();
        assert.deepStrictEqual(after.objects, before.data.objects, "every object, byte for byte");
        const differing = after.rows.filter((row) => !JSON.stringify(before.data.rows).includes(JSON.stringify(row)));
        assert.deepStrictEqual(
            differing.map((row) => [(row as { key: string }).key, (row as { value: string }).value]),
            [["NODE_SERVER_URL", moved]],
            "one row changed: the default region's NODE_SERVER_URL",
        );
        assert.deepStrictEqual(await volumes(), before.volumes, "the same volumes, never recreated");

        const third = withRealCertificates(await runProgram(stack, config({ name: "default", nodeServerUrl: moved })));
        const unchanged = await replayChange(second, third, changed, { images, log });
        assert.deepStrictEqual([unchanged.replaced, unchanged.reran], [[], []], "an unchanged stack changes nothing");
        assert.deepStrictEqual(unchanged.containers, changed.containers);
        assert.deepStrictEqual(await dataSnapshot(), after);
        assert.deepStrictEqual(await volumes(), before.volumes);
    });
});

/** This host's first non-loopback IPv4 address (a region's agents reach the site by such an address, not loopback). */
function hostAddress(): string {
    const address = Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;
    if (address === undefined) {
        throw new Error("this host has no non-loopback IPv4 address for the second region's NODE_SERVER_URL");
    }
    return address;
}
