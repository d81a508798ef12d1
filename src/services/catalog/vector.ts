/**
 * Vector, server side: takes what agents' Vector publishes on the NATS subject `vector` (JSON events) and writes it
 * to VictoriaLogs through its Elasticsearch-compatible endpoint, as upstream's log compose does.
 */
import { stringify } from "yaml";
import { NATS_CA_FILE, NATS_CA_PATH, NATS_PORT, VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { NATS_SERVER_USER } from "../natsAccounts";
import { ref, tpl } from "../template";
import { VICTORIA_LOGS_PORT } from "./victoriaLogs";

/** The core NATS subject agents publish logs on. */
export const LOGS_SUBJECT = "vector";

const CONFIG_FILE = "/etc/vector/vector.yaml";
const API_PORT = 8686;

/** vector.yaml: the NATS password comes from the environment (`${NATS_PASSWORD}`), never the file. */
export function renderVectorConfig(): string {
    return stringify({
        api: { enabled: true, address: `127.0.0.1:${API_PORT}` },
        sources: {
            agents: {
                type: "nats",
                url: `tls://nats:${NATS_PORT}`,
                subject: LOGS_SUBJECT,
                connection_name: "bklite-vector",
                tls: { enabled: true, ca_file: NATS_CA_PATH },
                auth: {
                    strategy: "user_password",
                    user_password: { user: NATS_SERVER_USER, password: "${NATS_PASSWORD}" },
                },
            },
        },
        transforms: {
            parse_json: { type: "remap", inputs: ["agents"], source: ". = parse_json!(.message)" },
        },
        sinks: {
            victoria_logs: {
                type: "elasticsearch",
                inputs: ["parse_json"],
                endpoints: [`http://victoria-logs:${VICTORIA_LOGS_PORT}/insert/elasticsearch/`],
                compression: "gzip",
                healthcheck: { enabled: false },
                query: { _msg_field: "message", _time_field: "timestamp", _stream_fields: "instance_id,source_type" },
            },
        },
    });
}

export const vector: ServiceDefinition = {
    name: "vector",
    defaultImage: "timberio/vector:0.48.0-debian",
    apps: ["log"],
    checkImage: (ref) =>
        ref.tag?.includes("distroless")
            ? `${ref.repository}:${ref.tag} is the distroless variant, without a shell for its health check; use the -debian or -alpine variant, e.g. timberio/vector:0.48.0-debian`
            : undefined,
    workload: ({ image }) => ({
        name: "vector",
        image,
        command: ["--config", CONFIG_FILE],
        env: { NATS_PASSWORD: tpl`${ref(VALUE_REFS.natsServerPassword)}` },
        ports: [],
        files: [{ path: CONFIG_FILE, content: renderVectorConfig(), mode: "0644" }, NATS_CA_FILE],
        // Vector's API health endpoint: busybox wget in the Alpine variant, bash's /dev/tcp in the Debian one (no curl
        // or wget there).
        health: healthCheck([
            "CMD-SHELL",
            `wget -q -O /dev/null http://127.0.0.1:${API_PORT}/health 2>/dev/null || bash -c 'exec 3<>/dev/tcp/127.0.0.1/${API_PORT} && printf "GET /health HTTP/1.0\\r\\n\\r\\n" >&3 && grep -q " 200 " <&3'`,
        ]),
        dependsOn: ["nats", "victoria-logs"],
        routes: [],
    }),
};
