/**
 * MLflow: mlops' tracking server, runs and models in PostgreSQL (database `mlflow`, its own role) and artifacts in
 * MinIO's `mlflow-artifacts` bucket, which it creates at start when missing (upstream's compose never does). The
 * image is the fork's (core MLflow and psycopg2, no boto3), so S3 goes through a plugin of the program's own.
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../../util/shell";
import { VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { WorkloadFile, healthCheck } from "../workload";
import { TextValue, ref, tpl } from "../template";
import { MINIO_PORT, MINIO_USER } from "./minio";

const PORT = 15000;
const DATABASE = { name: "mlflow", owner: "mlflow" };
export const MLFLOW_BUCKET = "mlflow-artifacts";
const LAUNCHER = "/opt/bklite/mlflow-start.py";

/** S3 settings MLflow's clients (the server's mlops app, and MLflow itself) read from the environment. */
function s3Env(): Record<string, TextValue> {
    return {
        MLFLOW_S3_ENDPOINT_URL: `http://minio:${MINIO_PORT}`,
        AWS_ACCESS_KEY_ID: MINIO_USER,
        AWS_SECRET_ACCESS_KEY: tpl`${ref(VALUE_REFS.minioPassword)}`,
        AWS_DEFAULT_REGION: "us-east-1",
    };
}

/** Where the boto3-free s3:// plugin goes, on PYTHONPATH so every process MLflow starts finds it. */
const PLUGIN_DIR = "/opt/bklite/mlflow-plugins";
const PLUGIN_DIST = `${PLUGIN_DIR}/bklite_mlflow_s3-1.0.dist-info`;
/** The plugin's source, kept beside this file so it can be read, tested and linted as Python. */
const PLUGIN_SOURCE = path.join(PROJECT_ROOT, "src", "services", "catalog", "mlflow_s3_plugin.py");

/**
 * Makes the artifact bucket exist (waiting for MinIO), then becomes `mlflow server`, which reads its database,
 * artifact destination, host and port from the environment (MLFLOW_*), so no password is on a command line.
 */
export function mlflowLauncher(): string {
    return [
        "import os, sys, bklite_s3",
        "if bklite_s3.main(['ensure-bucket', os.environ['MLFLOW_ARTIFACTS_DESTINATION'], '--wait', '60']) != 0:",
        "    sys.exit(1)",
        "os.execvp('mlflow', ['mlflow', 'server', '--serve-artifacts'])",
        "",
    ].join("\n");
}

/**
 * The files MLflow's container gets: the launcher, and the s3:// plugin with the entry point that registers it
 * (the fork's image has core MLflow and psycopg2, no boto3: see mlflow_s3_plugin.py).
 */
function mlflowFiles(): WorkloadFile[] {
    return [
        { path: LAUNCHER, content: mlflowLauncher(), mode: "0644" },
        { path: `${PLUGIN_DIR}/bklite_s3.py`, content: fs.readFileSync(PLUGIN_SOURCE, "utf8"), mode: "0644" },
        {
            path: `${PLUGIN_DIST}/METADATA`,
            content: "Metadata-Version: 2.1\nName: bklite-mlflow-s3\nVersion: 1.0\n",
            mode: "0644",
        },
        {
            path: `${PLUGIN_DIST}/entry_points.txt`,
            content: "[mlflow.artifact_repository]\ns3 = bklite_s3:s3_artifact_repository\n",
            mode: "0644",
        },
    ];
}

export const mlflow: ServiceDefinition = {
    name: "mlflow",
    defaultImage: "bklite/mlflow:huangpu-v1.0",
    build: { context: "deploy/docker/mlflow", dockerfile: "deploy/docker/mlflow/Dockerfile" },
    apps: ["mlops"],
    secrets: ["mlflowDatabasePassword"],
    // The tracking server's own health endpoint: OK once it serves (after its database migrations at start).
    probe: { kind: "http", port: PORT, path: "/health", status: 200 },
    // Runs and models; the artifacts are MinIO's.
    data: [
        {
            kind: "database",
            name: DATABASE.name,
            owner: DATABASE.owner,
            passwordRef: VALUE_REFS.mlflowDatabasePassword,
        },
    ],
    serverEnv: () => ({
        MLFLOW_TRACKER_URL: `http://mlflow:${PORT}`,
        MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: "true",
        ...s3Env(),
    }),
    workload: ({ image }) => ({
        name: "mlflow",
        image,
        entrypoint: ["python", LAUNCHER],
        env: {
            PYTHONPATH: PLUGIN_DIR,
            MLFLOW_HOST: "0.0.0.0",
            MLFLOW_PORT: String(PORT),
            MLFLOW_BACKEND_STORE_URI: tpl`postgresql+psycopg2://${DATABASE.owner}:${ref(VALUE_REFS.mlflowDatabasePassword)}@postgres:5432/${DATABASE.name}`,
            MLFLOW_ARTIFACTS_DESTINATION: `s3://${MLFLOW_BUCKET}/`,
            ...s3Env(),
        },
        ports: [{ name: "mlflow", containerPort: PORT }],
        files: mlflowFiles(),
        health: healthCheck(
            [
                "CMD",
                "python",
                "-c",
                `import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/health', timeout=5)`,
            ],
            { timeoutSeconds: 10, startPeriodSeconds: 30 },
        ),
        dependsOn: ["postgres", "minio"],
        routes: [],
    }),
};
