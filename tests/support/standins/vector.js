#!/usr/local/bin/node
// Stand-in for timberio/vector (ENTRYPOINT /usr/bin/vector), run as `vector --config FILE`: Vector is a Rust program
// no registry here ships, so this reads the stack's vector.yaml and does what it asks, refusing anything else:
// - `api`: GET /health on api.address answers 200 {"ok":true}, as Vector's API does;
// - `sources.*` of type nats: subscribes to `subject` at `url` with user_password auth (`${VAR}` from the environment,
//   as Vector interpolates) and TLS verified with tls.ca_file; each message is an event {message, subject, ...};
// - `transforms.*` of type remap with exactly `. = parse_json!(.message)`: the event becomes the message's JSON;
// - `sinks.*` of type elasticsearch: batches events to `<endpoint>/_bulk` with the sink's `query` parameters, one
//   `{"create":{}}` action line per event (NDJSON, gzip when compression is gzip), as Vector's bulk mode sends them
//   to VictoriaLogs (https://docs.victoriametrics.com/victorialogs/data-ingestion/vector/).
"use strict";
const fs = require("fs");
const http = require("http");
const zlib = require("zlib");
const { connect } = require("nats");
const { parse } = require("yaml");

const args = process.argv.slice(2);
const file = args[args.indexOf("--config") + 1];
if (args.indexOf("--config") < 0 || !file) {
    fail(`usage: vector --config FILE (got ${args.join(" ")})`);
}
const interpolate = (text) =>
    text.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name) => {
        if (process.env[name] === undefined) {
            fail(`${name} is not set, and ${file} uses it`);
        }
        return process.env[name];
    });
const config = parse(interpolate(fs.readFileSync(file, "utf8")));
process.on("SIGTERM", () => process.exit(0));

function fail(message) {
    process.stderr.write(`vector stand-in: ${message}\n`);
    process.exit(78);
}

/** The chain from a source to the sinks that read it (directly or through one remap). */
function pipelines() {
    const transforms = config.transforms ?? {};
    for (const [name, t] of Object.entries(transforms)) {
        if (t.type !== "remap" || t.source.trim() !== ". = parse_json!(.message)") {
            fail(`transform ${name}: only a remap of \`. = parse_json!(.message)\` is supported`);
        }
    }
    return Object.entries(config.sinks ?? {}).map(([name, sink]) => {
        if (sink.type !== "elasticsearch") {
            fail(`sink ${name}: only type elasticsearch is supported`);
        }
        const [input] = sink.inputs;
        const parsed = input in transforms;
        const source = parsed ? transforms[input].inputs[0] : input;
        if (config.sources?.[source]?.type !== "nats") {
            fail(`sink ${name}: its input ${source} is not a nats source`);
        }
        return { name, sink, source: config.sources[source], parsed };
    });
}

async function post(sink, events) {
    const body = Buffer.from(events.map((e) => `{"create":{}}\n${JSON.stringify(e)}\n`).join(""));
    const url = new URL(`${sink.endpoints[0].replace(/\/$/, "")}/_bulk`);
    for (const [key, value] of Object.entries(sink.query ?? {})) {
        url.searchParams.set(key, value);
    }
    const gzip = sink.compression === "gzip";
    const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-ndjson", ...(gzip ? { "content-encoding": "gzip" } : {}) },
        body: gzip ? zlib.gzipSync(body) : body,
    });
    if (!res.ok) {
        process.stderr.write(`vector stand-in: ${url.origin} answered ${res.status}: ${await res.text()}\n`);
    }
}

async function run({ sink, source, parsed }) {
    const url = new URL(source.url);
    const auth = source.auth?.user_password ?? {};
    const nc = await connect({
        servers: `${url.protocol}//${url.host}`,
        user: auth.user,
        pass: auth.password,
        tls: source.tls?.enabled ? { ca: fs.readFileSync(source.tls.ca_file, "utf8") } : undefined,
        name: source.connection_name,
        maxReconnectAttempts: -1,
    });
    for await (const msg of nc.subscribe(source.subject)) {
        const message = new TextDecoder().decode(msg.data);
        let event = { message, subject: msg.subject, source_type: "nats", timestamp: new Date().toISOString() };
        if (parsed) {
            try {
                event = JSON.parse(message);
            } catch {
                process.stderr.write(`vector stand-in: dropped a message that is not JSON (parse_json! failed)\n`);
                continue;
            }
        }
        await post(sink, [event]);
    }
}

const [host, port] = config.api.address.split(":");
http.createServer((req, res) => {
    const healthy = req.url === "/health";
    res.writeHead(healthy ? 200 : 404, { "content-type": "application/json" });
    res.end(healthy ? '{"ok":true}' : "{}");
}).listen(Number(port), host);
for (const pipeline of pipelines()) {
    run(pipeline).catch((e) => fail(`${pipeline.name}: ${e.message}`));
}
process.stdout.write(`vector stand-in: ${Object.keys(config.sinks).join(", ")} running\n`);
