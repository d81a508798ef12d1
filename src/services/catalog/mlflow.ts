/**
 * MLflow: mlops' tracking server, runs and models in PostgreSQL (database `mlflow`, its own role) and artifacts in
 * MinIO's `mlflow-artifacts` bucket, which it creates at start when missing (upstream's compose never does).
 */
import { VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
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

/**
 * Makes the artifact bucket exist, then becomes `mlflow server`. The database URI and the bucket come from the
 * environment (MLFLOW_BACKEND_STORE_URI, MLFLOW_ARTIFACTS_DESTINATION), so no password is on a command line.
 */
export function mlflowLauncher(): string {
    return [
        "import os, boto3, botocore",
        "s3 = boto3.client('s3', endpoint_url=os.environ['MLFLOW_S3_ENDPOINT_URL'])",
        "try:",
        `    s3.head_bucket(Bucket='${MLFLOW_BUCKET}')`,
        "except botocore.exceptions.ClientError:",
        `    s3.create_bucket(Bucket='${MLFLOW_BUCKET}')`,
        `os.execvp('mlflow', ['mlflow', 'server', '--host', '0.0.0.0', '--port', '${PORT}', '--serve-artifacts'])`,
        "",
    ].join("\n");
}

export const mlflow: ServiceDefinition = {
    name: "mlflow",
    defaultImage: "bklite/mlflow:huangpu-v1.0",
    apps: ["mlops"],
    secrets: ["mlflowDatabasePassword"],
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
            MLFLOW_BACKEND_STORE_URI: tpl`postgresql+psycopg2://${DATABASE.owner}:${ref(VALUE_REFS.mlflowDatabasePassword)}@postgres:5432/${DATABASE.name}`,
            MLFLOW_ARTIFACTS_DESTINATION: `s3://${MLFLOW_BUCKET}/`,
            ...s3Env(),
        },
        ports: [{ name: "mlflow", containerPort: PORT }],
        files: [{ path: LAUNCHER, content: mlflowLauncher(), mode: "0644" }],
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
