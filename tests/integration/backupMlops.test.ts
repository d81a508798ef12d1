/**
 * Backups take every service's declared data, not only bk-lite's: with mlops installed, MLflow's own database and
 * MinIO's buckets are backed up and restored like the rest, by the real CLI. PostgreSQL runs in a container on the
 * Docker engine (the stand-in image: Debian's PostgreSQL with its pg_dump and pg_restore); MinIO's place is taken by
 * versitygw (github.com/versity/versitygw, an S3 server over a directory, built here from the Go module proxy),
 * because MinIO's server is served by neither the module proxy nor PyPI: the backup speaks the S3 API, which both
 * answer, signatures checked.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PassThrough } from "stream";
import { Client } from "pg";
import { BackupManifest, MANIFEST_FILE } from "../../src/backup/manifest";
import { S3Client } from "../../src/backup/s3Client";
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
import { VERSITYGW, goProgram } from "../support/goPrograms";
import { TestNats, startNats } from "../support/nats";
import { freePort, tempDir, waitFor } from "../support/processes";
import { standInImages } from "../support/standinImages";

const SECRET_KEY = "mlops-backup-secret-key-0123456789";
const PG_ADMIN_PASSWORD = "mlops-backup-postgres-0123456789";
const MINIO_PASSWORD = "mlops-backup-minio-0123456789";
const BUCKET = "mlflow-artifacts";

/** The CLI run to completion. */
const cli = (...args: Parameters<typeof startCli>): Promise<CliResult> => startCli(...args).done;

describe("bklite backup and restore of an mlops stack: MLflow's database and MinIO's buckets too", function () {
    this.timeout(600000);
    const stack = `ml${crypto.randomBytes(4).toString("hex")}`;
    const prefix = `bklite-${stack}`;
    const s3Image = `bklite-s3-test-${stack}:1`;
    let nats: TestNats;
    let pgPort: number;
    let project: string;
    let env: Record<string, string>;
    let s3: S3Client;

    const sql = async <T = Record<string, unknown>>(text: string, database = "mlflow"): Promise<T[]> => {
        const client = new Client({
            connectionString: `postgres://postgres:${PG_ADMIN_PASSWORD}@127.0.0.1:${pgPort}/${database}`,
        });
        await client.connect();
        try {
            return (await client.query(text)).rows as T[];
        } finally {
            await client.end();
        }
    };
    const running = (service: string) =>
        docker("inspect", "--format", "{{.State.Running}}", `${prefix}-${service}`) === "true";
    /** Every object of the artifacts bucket with the SHA-256 of its content, as S3 gives it. */
    const artifacts = async (): Promise<Record<string, string>> => {
        const found: Record<string, string> = {};
        for await (const object of s3.listObjects(BUCKET)) {
            const hash = crypto.createHash("sha256");
            const sink = new PassThrough();
            sink.on("data", (c) => hash.update(c));
            await s3.getObject(BUCKET, object.key, sink);
            found[object.key] = hash.digest("hex");
        }
        return found;
    };

    before(async () => {
        requireDockerEngine();
        const log = (line: string) => process.stderr.write(`      ${line}\n`);
        const images = standInImages(log, ["postgres"]);
        makeImage(s3Image, stack, 0, { "/usr/bin/versitygw": goProgram(VERSITYGW, log) });
        nats = await startNats();
        pgPort = await freePort();
        docker("network", "create", "--label", `io.bklite.test=${stack}`, prefix);
        runPostgres(prefix, images.postgres, PG_ADMIN_PASSWORD, pgPort);
        // What the restore stops and starts: the services that write the databases, and the console.
        for (const service of ["server", "web", "mlflow"]) {
            runIdleService(prefix, service, images.postgres);
        }
        runVersitygw(prefix, s3Image, MINIO_PASSWORD);
        await waitFor(
            async () =>
                await sql("SELECT 1", "postgres").then(
                    () => true,
                    () => false,
                ),
            60000,
            () => docker("logs", `${prefix}-postgres`),
        );
        await sql("CREATE ROLE bklite LOGIN PASSWORD 'bklite-owner-password-0123'", "postgres");
        await sql("CREATE DATABASE bklite OWNER bklite", "postgres");
        await sql("CREATE ROLE mlflow LOGIN PASSWORD 'mlflow-owner-password-0123'", "postgres");
        await sql("CREATE DATABASE mlflow OWNER mlflow", "postgres");
        await sql(
            "CREATE TABLE runs (id int PRIMARY KEY, name text); ALTER TABLE runs OWNER TO mlflow; INSERT INTO runs SELECT i, 'run-' || i FROM generate_series(1, 500) i",
        );

        const address = docker(
            "inspect",
            "--format",
            `{{(index .NetworkSettings.Networks "${prefix}").IPAddress}}`,
            `${prefix}-minio`,
        );
        s3 = new S3Client({ address: `${address}:9000`, accessKey: "minio", secretKey: MINIO_PASSWORD });
        await waitFor(
            async () =>
                s3.listBuckets().then(
                    () => true,
                    () => false,
                ),
            30000,
            () => docker("logs", `${prefix}-minio`),
        );
        await s3.createBucket(BUCKET);
        const staging = tempDir("mlops-artifacts");
        for (const [key, size] of [
            ["1/abc/artifacts/model.pkl", 2_000_000],
            ["1/abc/artifacts/metrics json.txt", 513],
            ["2/def/ü.bin", 0],
        ] as const) {
            const file = path.join(staging, crypto.randomBytes(4).toString("hex"));
            fs.writeFileSync(file, crypto.randomBytes(size));
            const sha256 = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
            await s3.putObject(BUCKET, key, { file, sha256, size });
        }

        project = stackProject("mlops-project", stack, {
            "bklite:hostAddress": "127.0.0.1",
            "bklite:natsPort": nats.clientPort,
            "bklite:installApps": ["system_mgmt", "node_mgmt", "mlops"],
        });
        env = {
            BKLITE_SECRET_KEY: SECRET_KEY,
            BKLITE_NATS_USER: nats.user,
            BKLITE_NATS_PASSWORD: nats.password,
            BKLITE_NATS_CA: nats.caFile,
            BKLITE_STATE_DIR: tempDir("restore-state"),
            BKLITE_MINIO_PASSWORD: MINIO_PASSWORD,
        };
    });

    after(async () => {
        for (const service of ["postgres", "server", "web", "mlflow", "minio"]) {
            spawn("docker", ["rm", "--force", `${prefix}-${service}`]);
        }
        await new Promise((r) => setTimeout(r, 3000));
        spawn("docker", ["network", "rm", prefix]);
        removeImages([s3Image]);
        await nats?.stop();
    });

    it("backs up both databases and every bucket's objects, and restores them over wiped ones, MLflow stopped meanwhile", async () => {
        const backups = path.join(project, "backups");
        const missing = await cli(["backup", "--stack", stack, "--dir", backups, "--project-dir", project], {
            ...env,
            BKLITE_MINIO_PASSWORD: "",
        });
        assert.strictEqual(missing.code, 2, missing.stderr);
        assert.match(missing.stderr, /missing environment: BKLITE_MINIO_PASSWORD/);
        const wrong = await cli(["backup", "--stack", stack, "--dir", backups, "--project-dir", project], {
            ...env,
            BKLITE_MINIO_PASSWORD: "not-the-minio-password-0123",
        });
        assert.strictEqual(wrong.code, 1, wrong.stderr);
        assert.match(
            wrong.stderr,
            /minio refused the credentials \(\w+\): set BKLITE_MINIO_PASSWORD to the stack's bklite:minioPassword/,
        );
        assert.ok(!fs.existsSync(backups) || fs.readdirSync(backups).length === 0, "no backup, not even a partial one");

        const taken = await cli(["backup", "--stack", stack, "--dir", backups, "--project-dir", project], env);
        assert.strictEqual(taken.code, 0, taken.stderr);
        const summary = JSON.parse(taken.stdout);
        assert.deepStrictEqual(
            [[...summary.databases].sort(), summary.s3Objects],
            [["bklite", "mlflow"], { minio: 3 }],
        );
        const manifest = JSON.parse(fs.readFileSync(path.join(summary.dir, MANIFEST_FILE), "utf8")) as BackupManifest;
        assert.deepStrictEqual(
            manifest.s3.map((s) => [s.service, s.buckets, s.count]),
            [["minio", [BUCKET], 3]],
        );
        assert.ok(manifest.files.some((f) => f.path === "databases/mlflow.dump"));

        const runsBefore = await sql("SELECT * FROM runs ORDER BY id");
        const artifactsBefore = await artifacts();
        assert.strictEqual(Object.keys(artifactsBefore).length, 3);
        await sql("DELETE FROM runs WHERE id % 3 = 0; UPDATE runs SET name = 'changed' WHERE id = 1");
        await s3.deleteObject(BUCKET, "1/abc/artifacts/model.pkl");
        const stray = path.join(tempDir("mlops-stray"), "stray");
        fs.writeFileSync(stray, "not in the backup");
        await s3.putObject(BUCKET, "stray.txt", {
            file: stray,
            sha256: crypto.createHash("sha256").update("not in the backup").digest("hex"),
            size: 17,
        });

        let stoppedMeanwhile: string[] = [];
        const restored = await cli(
            ["restore", "--stack", stack, "--from", summary.dir, "--project-dir", project],
            env,
            (text) => {
                if (/restoring the database into mlflow_restoring/.test(text) && stoppedMeanwhile.length === 0) {
                    stoppedMeanwhile = ["server", "web", "mlflow"].filter((s) => !running(s));
                }
            },
        );
        assert.strictEqual(restored.code, 0, restored.stderr);
        assert.deepStrictEqual(stoppedMeanwhile.sort(), ["mlflow", "server", "web"]);
        assert.ok(["server", "web", "mlflow"].every(running), "started again");
        assert.deepStrictEqual(await sql("SELECT * FROM runs ORDER BY id"), runsBefore, "MLflow's rows as backed up");
        assert.deepStrictEqual(
            await artifacts(),
            artifactsBefore,
            "every artifact as backed up, the stray one removed",
        );
        const result = JSON.parse(restored.stdout);
        assert.deepStrictEqual(Object.keys(result.previousDatabases).sort(), ["bklite", "mlflow"]);
        assert.deepStrictEqual(result.s3, { minio: { restored: 3, deleted: 1 } });
        assert.match(restored.stderr, /dropdb -U postgres mlflow_before_restore_/);
    });
});
