/**
 * Telegraf, server side: consumes the JetStream `metrics` stream agents publish into (`metrics.<ip with dashes>`,
 * influx line protocol) and writes it to VictoriaMetrics, as upstream's monitor compose does. The stream is declared
 * here, with upstream's settings, and made to exist before Telegraf starts.
 */
import { StreamSettings } from "../../nats/streamSettings";
import { NATS_CA_FILE, NATS_CA_PATH, NATS_PORT, VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { NATS_SERVER_USER } from "../natsAccounts";
import { ref, tpl } from "../template";
import { VICTORIA_METRICS_PORT } from "./victoriaMetrics";

/** Upstream's `nats stream add metrics …` (bootstrap.sh), as a spec. */
export const METRICS_STREAM: StreamSettings = {
    name: "metrics",
    subjects: ["metrics.*"],
    storage: "file",
    retention: "limits",
    discard: "old",
    maxAgeSeconds: 20 * 60,
    maxBytes: 100 * 1024 * 1024,
    maxMsgs: -1,
    maxMsgsPerSubject: 1_000_000,
    maxMsgSize: -1,
    duplicateWindowSeconds: 5 * 60,
    replicas: 1,
};

/** The durable queue consumer Telegraf reads the stream with (its queue group). */
export const METRICS_QUEUE_GROUP = "metrics_consumers";

const CONFIG_FILE = "/etc/telegraf/telegraf.conf";
const HEALTH_PORT = 8888;

/** telegraf.conf: the NATS password comes from the environment (`${NATS_PASSWORD}`), never the file. */
export function renderTelegrafConfig(): string {
    return [
        "[agent]",
        '  interval = "5s"',
        "  round_interval = true",
        "  metric_buffer_limit = 100000",
        '  flush_interval = "2s"',
        "",
        "[[inputs.nats_consumer]]",
        `  servers = ["tls://nats:${NATS_PORT}"]`,
        `  username = "${NATS_SERVER_USER}"`,
        '  password = "${NATS_PASSWORD}"',
        "  secure = true",
        `  tls_ca = "${NATS_CA_PATH}"`,
        `  jetstream_subjects = ${JSON.stringify(METRICS_STREAM.subjects)}`,
        `  queue_group = "${METRICS_QUEUE_GROUP}"`,
        '  data_format = "influx"',
        "",
        "[[outputs.influxdb]]",
        `  urls = ["http://victoria-metrics:${VICTORIA_METRICS_PORT}"]`,
        '  database = "victoriametrics"',
        "  skip_database_creation = true",
        "  exclude_retention_policy_tag = true",
        '  content_encoding = "gzip"',
        "",
        "# Health for the container's check, on loopback only.",
        "[[outputs.health]]",
        `  service_address = "http://127.0.0.1:${HEALTH_PORT}"`,
        "",
    ].join("\n");
}

export const telegraf: ServiceDefinition = {
    name: "telegraf",
    defaultImage: "telegraf:1.32.3",
    apps: ["monitor"],
    data: [{ kind: "streams", streams: [METRICS_STREAM] }],
    workload: ({ image }) => ({
        name: "telegraf",
        image,
        command: ["telegraf", "--config", CONFIG_FILE],
        env: { NATS_PASSWORD: tpl`${ref(VALUE_REFS.natsServerPassword)}` },
        ports: [],
        files: [{ path: CONFIG_FILE, content: renderTelegrafConfig(), mode: "0644" }, NATS_CA_FILE],
        // wget: in the Debian image (buildpack-deps) and, as busybox, in the Alpine one.
        health: healthCheck(["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${HEALTH_PORT}/`]),
        // NATS with its streams in place (see the platform), and somewhere to write.
        dependsOn: ["nats", "victoria-metrics"],
        routes: [],
    }),
};
