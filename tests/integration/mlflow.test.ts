/**
 * mlops' MLflow as the stack runs it, with exactly the Python packages of the image the fork builds (PyPI's mlflow
 * and psycopg2-binary, no boto3): the service's own launcher, plugin files and environment as its workload
 * declares them, against a real PostgreSQL and a real S3 server (versitygw, from the Go module proxy, in MinIO's
 * place: MinIO's server is served by no registry here). The tracking server answers, runs land in PostgreSQL and
 * artifacts, logged through the server by a client that knows nothing of S3, land in MinIO's bucket.
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PassThrough } from "stream";
import { Client } from "pg";
import { S3Client } from "../../src/backup/s3Client";
import { loadStackConfig } from "../../src/config/stackFiles";
import { MLFLOW_BUCKET } from "../../src/services/catalog/mlflow";
import { VALUE_REFS } from "../../src/services/shared";
import { stackWorkloads } from "../../src/services/stack";
import { renderText } from "../../src/services/template";
import { VERSITYGW, goProgram } from "../support/goPrograms";
import { mlflowEnvironment } from "../support/mlflow";
import { TestPostgres, databaseUrl, startPostgres } from "../support/postgres";
import { freePort, httpGet, tempDir, waitFor } from "../support/processes";
import { PROJECT_ROOT } from "../support/stackFiles";

const MINIO_PASSWORD = "mlflow-test-minio-0123456789";
const DB_PASSWORD = "mlflow-test-db-0123456789";

/** A client that knows only the tracking server: every artifact goes through its proxy. */
const CLIENT = `
import hashlib, json, os, sys
import mlflow
from mlflow import MlflowClient
work = sys.argv[1]
small, big = os.path.join(work, "model.txt"), os.path.join(work, "weights.bin")
open(small, "w").write("a model\\n")
open(big, "wb").write(os.urandom(5 * 1024 * 1024))
with mlflow.start_run() as run:
    mlflow.log_param("alpha", "0.5")
    mlflow.log_metric("rmse", 0.25)
    mlflow.log_artifact(small)
    mlflow.log_artifact(big, "weights")
back = MlflowClient().download_artifacts(run.info.run_id, "weights/weights.bin", os.path.join(work, "back"))
same = hashlib.sha256(open(big, "rb").read()).digest() == hashlib.sha256(open(back, "rb").read()).digest()
print(json.dumps({"run": run.info.run_id, "same": same, "sha256": hashlib.sha256(open(big, "rb").read()).hexdigest()}))
`;

describe("MLflow with only the image's Python packages: tracking in PostgreSQL, artifacts in S3", function () {
    this.timeout(600000);
    const log = (line: string) => process.stderr.write(`      ${line}\n`);
    const root = tempDir("mlflow-root");
    let venv: string;
    let pg: TestPostgres;
    let s3Server: ChildProcess;
    let mlflowServer: ChildProcess;
    let s3Port: number;
    let port: number;
    let output = "";

    before(async () => {
        venv = mlflowEnvironment(log);
        const python = path.join(venv, "bin", "python");
        assert.throws(
            () => execFileSync(python, ["-c", "import boto3"], { stdio: "pipe" }),
            "no boto3, as in the image",
        );
        pg = await startPostgres();
        await pg.query(`CREATE ROLE mlflow LOGIN PASSWORD '${DB_PASSWORD}'`);
        await pg.query("CREATE DATABASE mlflow OWNER mlflow");
        s3Port = await freePort();
        const s3Dir = tempDir("mlflow-s3");
        fs.mkdirSync(path.join(s3Dir, "data"));
        fs.mkdirSync(path.join(s3Dir, "meta"));
        const versitygw = goProgram(VERSITYGW, log);
        s3Server = spawn(versitygw, [
            ...["--access", "minio", "--secret", MINIO_PASSWORD, "--port", `127.0.0.1:${s3Port}`],
            ...["posix", "--sidecar", path.join(s3Dir, "meta"), path.join(s3Dir, "data")],
        ]);
        port = await freePort();
        mlflowServer = startAsTheStackDoes(python);
        await waitFor(
            async () => (await httpGet(`http://127.0.0.1:${port}/health`)).body.trim() === "OK",
            120000,
            () => output,
        );
    });

    after(async () => {
        mlflowServer?.kill("SIGTERM");
        s3Server?.kill("SIGTERM");
        await pg?.stop();
    });

    /** The mlflow workload of an mlops stack, its files under `root` and its addresses pointed at this host. */
    function startAsTheStackDoes(python: string): ChildProcess {
        const config = loadStackConfig(PROJECT_ROOT, "dev");
        const workload = stackWorkloads({ ...config, installApps: [...config.installApps, "mlops"] }).find(
            (w) => w.name === "mlflow",
        )!;
        const values = { [VALUE_REFS.minioPassword]: MINIO_PASSWORD, [VALUE_REFS.mlflowDatabasePassword]: DB_PASSWORD };
        for (const file of workload.files) {
            fs.mkdirSync(path.dirname(path.join(root, file.path)), { recursive: true });
            fs.writeFileSync(path.join(root, file.path), renderText(file.content, values));
        }
        const env = Object.fromEntries(Object.entries(workload.env).map(([k, v]) => [k, renderText(v, values)]));
        Object.assign(env, {
            MLFLOW_BACKEND_STORE_URI: env.MLFLOW_BACKEND_STORE_URI.replace("@postgres:5432/", `@127.0.0.1:${pg.port}/`),
            MLFLOW_S3_ENDPOINT_URL: `http://127.0.0.1:${s3Port}`,
            MLFLOW_HOST: "127.0.0.1",
            MLFLOW_PORT: String(port),
            PYTHONPATH: path.join(root, env.PYTHONPATH),
            PATH: `${path.join(venv, "bin")}:${process.env.PATH}`,
            HOME: root,
        });
        const [, launcher] = workload.entrypoint!;
        const child = spawn(python, [path.join(root, launcher)], { env, stdio: ["ignore", "pipe", "pipe"] });
        child.stdout!.on("data", (d) => (output = (output + d).slice(-20000)));
        child.stderr!.on("data", (d) => (output = (output + d).slice(-20000)));
        return child;
    }

    it("answers, keeps runs in PostgreSQL and puts artifacts logged through it into MinIO's bucket", async () => {
        const work = tempDir("mlflow-client");
        const printed = execFileSync(path.join(venv, "bin", "python"), ["-c", CLIENT, work], {
            encoding: "utf8",
            env: { PATH: process.env.PATH, HOME: work, MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}` },
        });
        // MLflow prints its own lines ("View run ..."); ours is the last.
        const result = JSON.parse(printed.trim().split("\n").pop()!) as { run: string; same: boolean; sha256: string };
        assert.ok(result.same, "the artifact reads back through the server as it was written");
        const db = new Client({ connectionString: databaseUrl(pg, "mlflow") });
        await db.connect();
        const runs = (await db.query<{ run_uuid: string }>("SELECT run_uuid FROM runs")).rows;
        await db.end();
        assert.ok(
            runs.some((r) => r.run_uuid === result.run),
            "the run is in MLflow's database",
        );
        const s3 = new S3Client({ address: `127.0.0.1:${s3Port}`, accessKey: "minio", secretKey: MINIO_PASSWORD });
        assert.ok((await s3.listBuckets()).includes(MLFLOW_BUCKET), "the launcher made the bucket");
        const keys: string[] = [];
        for await (const object of s3.listObjects(MLFLOW_BUCKET)) {
            keys.push(object.key);
        }
        const weights = keys.find((k) => k.endsWith(`${result.run}/artifacts/weights/weights.bin`));
        assert.ok(weights, `the artifact is in the bucket (${keys.join(", ")})`);
        assert.ok(keys.some((k) => k.endsWith(`${result.run}/artifacts/model.txt`)));
        const sink = new PassThrough();
        const hash = crypto.createHash("sha256");
        sink.on("data", (c: Buffer) => hash.update(c));
        await s3.getObject(MLFLOW_BUCKET, weights!, sink);
        assert.strictEqual(hash.digest("hex"), result.sha256, "byte for byte in S3");
    });
});
