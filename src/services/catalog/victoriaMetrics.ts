/** VictoriaMetrics: where Monitor (and CMDB's collection queries) read metrics; Telegraf writes into it. */
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";

export const VICTORIA_METRICS_PORT = 8428;
const DATA_DIR = "/victoria-metrics-data";

export const victoriaMetrics: ServiceDefinition = {
    name: "victoria-metrics",
    defaultImage: "victoriametrics/victoria-metrics:v1.106.1",
    apps: ["monitor"],
    data: [
        {
            kind: "volume",
            name: "victoria-metrics-data",
            mountPath: DATA_DIR,
            holds: { notBackedUp: "metrics: telemetry, kept 7 days and sent again as it comes" },
        },
    ],
    probe: { kind: "http", port: VICTORIA_METRICS_PORT, path: "/health", status: 200 },
    checkImage: (ref) =>
        ref.tag?.includes("scratch")
            ? `${ref.repository}:${ref.tag} is the scratch variant, without the wget its health check needs; use the default (Alpine) tag, e.g. v1.106.1`
            : undefined,
    serverEnv: () => ({ VICTORIAMETRICS_HOST: `http://victoria-metrics:${VICTORIA_METRICS_PORT}` }),
    workload: ({ image }) => ({
        name: "victoria-metrics",
        image,
        // As upstream's compose: 7 days of metrics.
        command: [
            `--storageDataPath=${DATA_DIR}`,
            `--httpListenAddr=:${VICTORIA_METRICS_PORT}`,
            "--retentionPeriod=168h",
            "--maxLabelsPerTimeseries=300",
        ],
        env: {},
        ports: [{ name: "victoria-metrics", containerPort: VICTORIA_METRICS_PORT }],
        files: [],
        // The image is Alpine-based: busybox wget.
        health: healthCheck([
            "CMD",
            "wget",
            "-q",
            "-O",
            "/dev/null",
            `http://127.0.0.1:${VICTORIA_METRICS_PORT}/health`,
        ]),
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 30,
        stateful: true,
    }),
};
