/** MinIO: the S3 store MLflow keeps artifacts in (mlops only). */
import { VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { ref, tpl } from "../template";

export const MINIO_PORT = 9000;
/** MinIO's root user; its password is the generated `minioPassword`. */
export const MINIO_USER = "minio";

export const minio: ServiceDefinition = {
    name: "minio",
    defaultImage: "minio/minio:RELEASE.2024-05-01T01-11-10Z-cpuv1",
    apps: ["mlops"],
    probe: { kind: "http", port: MINIO_PORT, path: "/minio/health/ready", status: 200 },
    secrets: ["minioPassword"],
    // MLflow's artifacts: taken through the S3 API, bucket by bucket (MinIO's own files are its business).
    data: [
        { kind: "s3", port: MINIO_PORT, user: MINIO_USER, password: "minioPassword" },
        { kind: "volume", name: "minio-data", mountPath: "/data", holds: ["s3"] },
    ],
    serverEnv: () => ({
        MINIO_ENDPOINT: `minio:${MINIO_PORT}`,
        MINIO_USE_HTTPS: "0",
        MINIO_ACCESS_KEY: MINIO_USER,
        MINIO_SECRET_KEY: tpl`${ref(VALUE_REFS.minioPassword)}`,
    }),
    workload: ({ image }) => ({
        name: "minio",
        image,
        command: ["server", "/data", "--console-address", ":9001"],
        env: { MINIO_ROOT_USER: MINIO_USER, MINIO_ROOT_PASSWORD: tpl`${ref(VALUE_REFS.minioPassword)}` },
        ports: [
            { name: "minio", containerPort: MINIO_PORT },
            { name: "minio-console", containerPort: 9001 },
        ],
        files: [],
        // MinIO's own readiness check (the image ships mc, not curl).
        health: healthCheck(["CMD", "mc", "ready", "local"]),
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 30,
        stateful: true,
    }),
};
