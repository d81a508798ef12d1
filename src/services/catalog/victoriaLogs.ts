/** VictoriaLogs: where the Log app reads logs; Vector writes into it. */
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";

export const VICTORIA_LOGS_PORT = 9428;
const DATA_DIR = "/vlogs";

export const victoriaLogs: ServiceDefinition = {
    name: "victoria-logs",
    defaultImage: "victoriametrics/victoria-logs:v1.25.0",
    apps: ["log"],
    data: [
        {
            kind: "volume",
            name: "victoria-logs-data",
            mountPath: DATA_DIR,
            holds: { notBackedUp: "the agents' logs: telemetry, kept for its retention and sent again as it comes" },
        },
    ],
    probe: { kind: "http", port: VICTORIA_LOGS_PORT, path: "/health", status: 200 },
    checkImage: (ref) =>
        ref.tag?.includes("scratch")
            ? `${ref.repository}:${ref.tag} is the scratch variant, without the wget its health check needs; use the default (Alpine) tag, e.g. v1.25.0`
            : undefined,
    serverEnv: () => ({ VICTORIALOGS_HOST: `http://victoria-logs:${VICTORIA_LOGS_PORT}` }),
    workload: ({ image }) => ({
        name: "victoria-logs",
        image,
        command: [
            `-storageDataPath=${DATA_DIR}`,
            `-httpListenAddr=:${VICTORIA_LOGS_PORT}`,
            "-loggerFormat=json",
            "-insert.maxLineSizeBytes=10000000",
        ],
        env: {},
        ports: [{ name: "victoria-logs", containerPort: VICTORIA_LOGS_PORT }],
        files: [],
        // The image is Alpine-based: busybox wget.
        health: healthCheck(["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${VICTORIA_LOGS_PORT}/health`]),
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 30,
        stateful: true,
    }),
};
