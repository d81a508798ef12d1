#!/usr/bin/env node
// Stand-in for bklite/nats-executor (not the real program: the fork's agents/nats-executor is module `nats-executor`,
// which no registry serves), run as /opt/nats-executor --config /opt/config.yml: reads the config its startup.sh
// wrote, connects to NATS (TLS verified with tls_ca_file when tls_enabled), and answers requests on the executor's
// subjects for its instance. Its contract, from the fork (superfm831010/bk-lite huangpu-dev):
// - requests are `{args: [request], kwargs}` (agents/nats-executor/local/executor.go SubscribeLocalExecutor), sent by
//   server/apps/rpc/executor.py (`Executor.execute_local`: `{command, execute_timeout}`);
// - replies are ExecuteResponse (agents/nats-executor/local/entity.go): `{result, instance_id, success}`, plus
//   `error` only when it failed (`omitempty`); server/apps/node_mgmt/tasks/installer.py reads `success`, `error`,
//   `result` and `instance_id` of a failed reply.
// It runs nothing, with one exception: `echo WORD` on local.execute answers WORD and a newline, as a shell would, so
// a caller can tell a live reply from a canned one; anything else fails as not executed, in the real failure shape.
"use strict";
const fs = require("fs");
const { connect } = require("nats");

const file = process.argv[process.argv.indexOf("--config") + 1];
const config = Object.fromEntries(
    fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
            const [key, ...rest] = line.split(":");
            return [key.trim(), rest.join(":").trim().replace(/^"|"$/g, "")];
        }),
);
// PID 1 ignores SIGTERM unless it handles it: stop at once, as the Go executor does.
process.on("SIGTERM", () => process.exit(0));
const SUBJECTS = [
    "local.execute",
    "download.local",
    "unzip.local",
    "ssh.execute",
    "download.remote",
    "upload.remote",
    "health.check",
];

/** A reply in ExecuteResponse's shape: `echo WORD` on local.execute succeeds; the rest fails, saying why. */
function reply(subject, data) {
    let command;
    try {
        command = JSON.parse(new TextDecoder().decode(data)).args[0].command;
    } catch {
        command = undefined;
    }
    const echo =
        subject === "local.execute" && typeof command === "string" ? /^echo ([A-Za-z0-9_.-]+)$/.exec(command) : null;
    return echo
        ? { result: `${echo[1]}\n`, instance_id: config.nats_instanceId, success: true }
        : {
              result: "",
              instance_id: config.nats_instanceId,
              success: false,
              error: `stand-in executor: ${subject} is not executed`,
          };
}

(async () => {
    // Credentials in the URL, as the Go executor takes them; nats.js wants them apart.
    const url = new URL(config.nats_urls);
    const nc = await connect({
        servers: `${url.protocol}//${url.host}`,
        user: decodeURIComponent(url.username),
        pass: decodeURIComponent(url.password),
        tls: config.tls_enabled === "true" ? { ca: fs.readFileSync(config.tls_ca_file, "utf8") } : undefined,
        name: "nats-executor",
        maxReconnectAttempts: -1,
    });
    const id = config.nats_instanceId;
    for (const subject of SUBJECTS) {
        nc.subscribe(`${subject}.${id}`, {
            callback: (_err, msg) => msg.respond(new TextEncoder().encode(JSON.stringify(reply(subject, msg.data)))),
        });
    }
    process.stdout.write(
        `[nats-executor stand-in] instance ${id} listening on ${SUBJECTS.map((s) => `${s}.${id}`).join(", ")}\n`,
    );
})().catch((e) => {
    process.stdout.write(`[nats-executor stand-in] failed: ${e.message}\n`);
    process.exit(1);
});
