/**
 * FalkorDB: the graph database CMDB keeps its model in (graph `cmdb_graph`). The server waits for it healthy, as
 * upstream's compose does, because its `model_init` needs it at start.
 */
import { VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { joinText, ref, tpl } from "../template";

/** Its Redis protocol port, on the stack network only. */
export const FALKORDB_PORT = 6379;
const PORT = FALKORDB_PORT;
const DATA_DIR = "/var/lib/falkordb/data";
const CONFIG_FILE = "/etc/falkordb/falkordb.conf";

export const falkordb: ServiceDefinition = {
    name: "falkordb",
    defaultImage: "falkordb/falkordb:v4.12.4",
    apps: ["cmdb"],
    secrets: ["falkordbPassword"],
    // CMDB's graphs, in its append-only file on the volume: taken through the Redis protocol, key by key.
    data: [
        { kind: "keyspace", port: PORT, password: "falkordbPassword" },
        { kind: "volume", name: "falkordb-data", mountPath: DATA_DIR, holds: ["keyspace"] },
    ],
    serverWaits: true,
    // CMDB's own use: AUTH with the stack's password, then PING.
    probe: { kind: "redis", port: PORT, passwordFrom: "falkordbPassword" },
    serverEnv: () => ({
        FALKORDB_HOST: "falkordb",
        FALKORDB_PORT: String(PORT),
        FALKORDB_DATABASE: "cmdb_graph",
        FALKORDB_REQUIREPASS: tpl`${ref(VALUE_REFS.falkordbPassword)}`,
    }),
    workload: ({ image }) => ({
        name: "falkordb",
        image,
        env: {
            // The image's run.sh passes REDIS_ARGS to redis-server: only the file's path shows in `ps`, not the password.
            REDIS_ARGS: `--include ${CONFIG_FILE}`,
            FALKORDB_ARGS: "THREAD_COUNT 4",
            // No browser UI: it would listen on 3000 without a password.
            BROWSER: "0",
        },
        ports: [{ name: "falkordb", containerPort: PORT }],
        files: [
            {
                path: CONFIG_FILE,
                content: joinText(
                    [tpl`requirepass ${ref(VALUE_REFS.falkordbPassword)}`, `dir ${DATA_DIR}`, "appendonly yes", ""],
                    "\n",
                ),
                mode: "0600",
                // The redis base image's user (uid 999), in case the entrypoint drops root before reading it.
                owner: { uid: 999, gid: 999 },
            },
        ],
        // An unauthenticated PING answers NOAUTH once the server is up; no password needed in the probe.
        health: healthCheck(["CMD-SHELL", "redis-cli ping | grep -Eq 'PONG|NOAUTH'"], { intervalSeconds: 5 }),
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 30,
        stateful: true,
    }),
};
