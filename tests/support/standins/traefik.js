// Stand-in for Traefik with the file provider, run by Node in the stand-in image: reads the entrypoint's address and
// the dynamic config file from its flags (as the stack passes them), and routes each request by the config's rules
// (PathPrefix only, the highest priority first, as Traefik orders them) to the service's load-balancer URL, reached
// by name on the stack's network. So the stack's own routes decide where /api/v1 and / go. /ping on :8080.
"use strict";
const fs = require("fs");
const http = require("http");
const { parse } = require("yaml");

const flags = Object.fromEntries(
    process.argv.slice(2).map((arg) => {
        const [key, ...value] = arg.replace(/^--/, "").split("=");
        return [key, value.join("=")];
    }),
);
const log = (line) => process.stdout.write(`[traefik stand-in] ${line}\n`);
const file = flags["providers.file.filename"];
const address = Object.entries(flags).find(([key]) => /^entrypoints\.[^.]+\.address$/.test(key))?.[1] ?? ":80";

function routes() {
    const config = parse(fs.readFileSync(file, "utf8")).http;
    return Object.entries(config.routers)
        .map(([name, router]) => {
            const prefix = /^PathPrefix\(`([^`]+)`\)$/.exec(router.rule);
            if (!prefix) {
                throw new Error(`router ${name}: the stand-in routes only PathPrefix rules, not ${router.rule}`);
            }
            return {
                name,
                prefix: prefix[1],
                priority: router.priority ?? router.rule.length,
                target: new URL(config.services[router.service].loadBalancer.servers[0].url),
            };
        })
        .sort((a, b) => b.priority - a.priority);
}

http.createServer((req, res) => {
    const route = routes().find((r) => req.url.startsWith(r.prefix));
    if (!route) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("404 page not found\n");
        return;
    }
    const upstream = http.request(
        {
            host: route.target.hostname,
            port: route.target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
        },
        (answer) => {
            res.writeHead(answer.statusCode, answer.headers);
            answer.pipe(res);
        },
    );
    upstream.on("error", (err) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`Bad Gateway: ${err.message}\n`);
    });
    req.pipe(upstream);
}).listen(Number(address.replace(/^.*:/, "")), "0.0.0.0", () =>
    log(
        `routing ${routes()
            .map((r) => `${r.prefix} -> ${r.target.host}`)
            .join(", ")} on ${address}`,
    ),
);

if (flags.ping === "true") {
    http.createServer((req, res) => {
        res.writeHead(req.url === "/ping" ? 200 : 404, { "content-type": "text/plain" });
        res.end(req.url === "/ping" ? "OK" : "not found");
    }).listen(8080, "0.0.0.0");
}

// PID 1 ignores SIGTERM unless it handles it: stop at once, as Traefik does.
process.on("SIGTERM", () => process.exit(0));
