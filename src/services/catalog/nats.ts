/** NATS: JetStream (the object store of probe packages, the `metrics` stream) over TLS with the stack's CA. */
import { NATS_CA_FILE, NATS_CA_PATH, NATS_CERT_DIR, NATS_NAMESPACE, NATS_PORT, VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { renderNatsConfig } from "../natsConfig";
import {
    AGENT_USERS_FILE,
    NATS_CONFIG_FILE,
    NATS_MONITOR_PORT,
    NATS_PID_FILE,
    initialAgentUsers,
} from "../natsAgentUsers";
import { NATS_SERVER_USER } from "../natsAccounts";
import { ref, tpl } from "../template";

/** The agents' users as the stack starts with them, copied to the data volume when it holds none yet. */
const INITIAL_AGENT_USERS = "/etc/nats/agent-users.initial.conf";

/**
 * Makes sure the agents' users file exists before nats-server includes it (a fresh volume has none), then runs
 * nats-server as the image would. The file stays on the volume, so a new container keeps what seeding wrote.
 */
const START = [
    `dir=$(dirname ${AGENT_USERS_FILE})`,
    `mkdir -p "$dir"`,
    `[ -s ${AGENT_USERS_FILE} ] || (umask 077 && cp ${INITIAL_AGENT_USERS} ${AGENT_USERS_FILE})`,
    `exec nats-server --config ${NATS_CONFIG_FILE}`,
].join(" && ");

export const nats: ServiceDefinition = {
    name: "nats",
    defaultImage: "nats:2.10.25-alpine",
    // JetStream on the volume: the probe packages in the object store, and the streams' settings.
    data: [
        { kind: "objectStore", bucket: NATS_NAMESPACE },
        { kind: "volume", name: "nats-data", mountPath: "/data", holds: ["objectStore", "streams"] },
    ],
    // The official plain tag (the huangpu compose's nats:2.10.25) is built from scratch: no shell, no wget for the
    // check. Only the official repository is judged; an image built in-house under another name is its own.
    checkImage: (ref) =>
        /^(library\/)?nats$/.test(ref.repository) &&
        (ref.registry === undefined || ref.registry === "docker.io") &&
        ref.tag !== undefined &&
        !ref.tag.includes("alpine")
            ? `${ref.repository}:${ref.tag} is the scratch variant, without the wget its health check needs; use the Alpine variant, e.g. nats:2.10.25-alpine`
            : undefined,
    workload: ({ config, image, bindAddress }) => ({
        name: "nats",
        image,
        // The Alpine image has a shell (checkImage refuses the scratch one).
        entrypoint: ["/bin/sh", "-c", START],
        env: {},
        ports: [
            {
                name: "nats",
                containerPort: NATS_PORT,
                hostPort: config.ports.nats,
                hostIp: bindAddress(config.ports.nats),
            },
        ],
        files: [
            {
                path: NATS_CONFIG_FILE,
                content: renderNatsConfig({
                    clientPort: NATS_PORT,
                    monitorPort: NATS_MONITOR_PORT,
                    storeDir: "/data", // nats-server adds /jetstream
                    caFile: NATS_CA_PATH,
                    certFile: `${NATS_CERT_DIR}/server.crt`,
                    keyFile: `${NATS_CERT_DIR}/server.key`,
                    user: NATS_SERVER_USER,
                    password: ref(VALUE_REFS.natsServerPassword),
                    agentUsersInclude: `../..${AGENT_USERS_FILE}`,
                    pidFile: NATS_PID_FILE,
                    bucket: NATS_NAMESPACE,
                }),
                mode: "0600",
            },
            { path: INITIAL_AGENT_USERS, content: initialAgentUsers(NATS_NAMESPACE), mode: "0600" },
            NATS_CA_FILE,
            { path: `${NATS_CERT_DIR}/server.crt`, content: tpl`${ref(VALUE_REFS.natsServerCert)}`, mode: "0644" },
            { path: `${NATS_CERT_DIR}/server.key`, content: tpl`${ref(VALUE_REFS.natsServerKey)}`, mode: "0600" },
        ],
        // JetStream-aware health endpoint on the monitor port (not published).
        health: healthCheck(["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${NATS_MONITOR_PORT}/healthz`], {
            intervalSeconds: 5,
        }),
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 30,
        stateful: true,
    }),
};
