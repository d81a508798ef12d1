/**
 * The server-side nats-executor, instance `default`: every remote install the console starts (controller and
 * collectors) runs through it, on `download.local.default`, `unzip.local.default`, `upload.remote.default` and
 * `ssh.execute.default`. The huangpu server always picks instance `default`, so the id is fixed.
 */
import { NATS_CA_FILE, NATS_CA_PATH, natsServiceUrl } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";

/** The executor instance the server's installer addresses. */
export const EXECUTOR_INSTANCE = "default";

export const natsExecutor: ServiceDefinition = {
    name: "nats-executor",
    defaultImage: "bklite/nats-executor:huangpu-v1.0",
    build: { context: "agents/nats-executor", dockerfile: "agents/nats-executor/support-files/Dockerfile.build" },
    apps: ["node_mgmt"],
    // What the server's installer does with it: a request on its instance's subjects, answered.
    probe: { kind: "nats-executor", instance: EXECUTOR_INSTANCE },
    workload: ({ image }) => ({
        name: "nats-executor",
        image,
        // Read by the image's startup.sh, which writes the executor's config (TLS because the URL is tls://).
        env: { NATS_INSTANCE_ID: EXECUTOR_INSTANCE, NATS_URLS: natsServiceUrl(), NATS_CA_FILE: NATS_CA_PATH },
        ports: [],
        files: [NATS_CA_FILE],
        // It serves requests, not a port: alive means its process runs (supervisord restarts it when it exits).
        // `[n]` keeps the probe's own command line from matching.
        health: healthCheck(["CMD-SHELL", "grep -qas '/opt/[n]ats-executor' /proc/[0-9]*/cmdline"], { retries: 6 }),
        dependsOn: ["nats"],
        routes: [],
        // Two executors with one instance id would both answer every request.
        singleInstance: true,
    }),
};
