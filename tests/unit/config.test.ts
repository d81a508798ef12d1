import * as assert from "assert";
import { CONFIG_KEYS, SECRET_KEYS, STRUCTURED_KEYS, isDeclaredInProjectFile } from "../../src/config/keys";
import { Problem } from "../../src/util/problem";
import { ConfigSource } from "../../src/config/types";
import { parseStackConfig, unusedSettings } from "../../src/config/parse";
import { ConfigError } from "../../src/config/problems";
import { stackConfigFromValues } from "../../src/config/stackFiles";
import { configValuesOf } from "../../src/config/programConfig";
import { readProjectFile, stackConfig } from "../support/stackFiles";
import { configSource } from "../support/mocks";

/** A config source over namespaced `bklite:*` strings, as the program sees them; `secretKeys` were decrypted. */
function source(config: Record<string, string>, secretKeys: string[] = []): ConfigSource {
    return configSource(config, secretKeys);
}

/** Problems for the dev stack with the given keys changed (`undefined` removes a key). */
function problemsWith(overrides: Record<string, unknown>, stack = "dev", secretKeys: string[] = []): Problem[] {
    return parseStackConfig(source(stackConfig(stack, overrides), secretKeys)).problems;
}

function only(problems: Problem[], key: string): Problem {
    const matching = problems.filter((p) => p.path === key);
    assert.strictEqual(
        matching.length,
        1,
        `expected one problem for ${key}, got: ${JSON.stringify(problems, null, 2)}`,
    );
    return matching[0];
}

describe("config validation", () => {
    it("accepts the committed dev and prod stacks", () => {
        for (const stack of ["dev", "prod"]) {
            const result = parseStackConfig(source(stackConfig(stack)));
            assert.deepStrictEqual(result.problems, [], `${stack}: ${JSON.stringify(result.problems)}`);
        }
    });

    it("applies the documented defaults to the dev stack", () => {
        const { config } = parseStackConfig(source(stackConfig("dev")));
        assert.ok(config);
        assert.deepStrictEqual(config.ports, { http: 8080, nats: 24222, postgres: 25432 });
        assert.strictEqual(config.runtime, "docker");
        assert.strictEqual(config.offline, true);
        assert.deepStrictEqual(config.regions, [{ name: "default" }]);
        assert.deepStrictEqual(config.providedSecrets, []);
    });

    it("takes bklite:backup with its defaults, and refuses every bad setting of it by name at once", () => {
        assert.deepStrictEqual(parseStackConfig(source(stackConfig("dev"))).config?.backup, {
            dir: "backups",
            keep: 5,
            beforeUpgrade: true,
        });
        const given = parseStackConfig(
            source(stackConfig("dev", { "bklite:backup": { dir: "/srv/b", keep: 2 } })),
        ).config;
        assert.deepStrictEqual(given?.backup, { dir: "/srv/b", keep: 2, beforeUpgrade: true });
        const problems = problemsWith({ "bklite:backup": { dir: "", keep: 0, beforeUpgrade: "yes", every: "day" } });
        assert.deepStrictEqual(problems.map((p) => p.path).sort(), [
            "backup.beforeUpgrade",
            "backup.dir",
            "backup.every",
            "backup.keep",
        ]);
        assert.match(only(problems, "backup.keep").message, /from 1 to 1000/);
        assert.match(only(problems, "backup.every").message, /is not a backup setting \(dir, keep, beforeUpgrade\)/);
        assert.match(
            only(problemsWith({ "bklite:backup": [] }), "backup").message,
            /must be an object \{dir, keep, beforeUpgrade\}/,
        );
    });

    it("refuses source rules on a NodePort cluster without an edge node, where clients' addresses are lost", () => {
        const rules = { rules: [{ port: "http", sources: ["10.0.0.0/8"], description: "console" }] };
        const p = only(
            problemsWith({ "bklite:runtime": "kubernetes", "bklite:security": rules, "bklite:kubernetes": {} }),
            "security.rules[0].sources",
        );
        assert.match(p.message, /node ports answer on every node/);
        assert.match(p.message, /set bklite:kubernetes\.edgeNode to the node at hostAddress/);
        assert.deepStrictEqual(
            problemsWith({
                "bklite:runtime": "kubernetes",
                "bklite:security": rules,
                "bklite:kubernetes": { edgeNode: "node-1" },
            }),
            [],
        );
        assert.deepStrictEqual(
            problemsWith({
                "bklite:runtime": "kubernetes",
                "bklite:security": rules,
                "bklite:kubernetes": { serviceType: "LoadBalancer", natsAddress: "192.168.31.21" },
            }),
            [],
        );
        assert.deepStrictEqual(
            problemsWith({
                "bklite:runtime": "kubernetes",
                "bklite:security": { rules: [{ port: "http", sources: ["0.0.0.0/0"], description: "open" }] },
            }),
            [],
        );
        assert.match(
            only(
                problemsWith({ "bklite:runtime": "kubernetes", "bklite:kubernetes": { edgeNode: "Node_1" } }),
                "kubernetes.edgeNode",
            ).message,
            /kubectl get nodes/,
        );
    });

    it("refuses pull secrets in a namespace the stack creates, and registry credentials without their password (or the reverse)", () => {
        const k8s = (kubernetes: unknown) => ({ "bklite:runtime": "kubernetes", "bklite:kubernetes": kubernetes });
        const p = only(problemsWith(k8s({ imagePullSecrets: ["harbor-cred"] })), "kubernetes.imagePullSecrets");
        assert.match(p.message, /namespace the stack creates/);
        assert.match(p.message, /registryAuth/);
        assert.match(p.message, /createNamespace false/);
        assert.deepStrictEqual(problemsWith(k8s({ imagePullSecrets: ["harbor-cred"], createNamespace: false })), []);
        assert.match(
            only(
                problemsWith(k8s({ registryAuth: { server: "harbor.local", username: "robot" } })),
                "kubernetes.registryAuth",
            ).message,
            /bklite:registryPassword is not/,
        );
        assert.match(
            only(problemsWith(k8s({ registryAuth: { server: "harbor.local" } })), "kubernetes.registryAuth").message,
            /must be \{server, username\}/,
        );
        assert.deepStrictEqual(
            problemsWith({ "bklite:runtime": "docker", "bklite:kubernetes": { imagePullSecrets: ["harbor-cred"] } }),
            [],
            "only on a cluster",
        );
        const orphan = only(
            problemsWith({ "bklite:registryPassword": "registry-robot-token-0123456789" }, "dev", [
                "bklite:registryPassword",
            ]),
            "registryPassword",
        );
        assert.match(orphan.message, /bklite:kubernetes\.registryAuth is not/);
        assert.strictEqual(orphan.value, undefined, "the secret is not shown");
    });

    it("takes the cluster's ingress or the stack's own, and a NATS address only behind load balancers", () => {
        const k8s = (kubernetes: unknown, extra: Record<string, unknown> = {}) => ({
            "bklite:runtime": "kubernetes",
            "bklite:kubernetes": kubernetes,
            ...extra,
        });
        assert.match(
            only(problemsWith(k8s({ ingress: "k3s" })), "kubernetes.ingress").message,
            /must be own .* or cluster/,
        );
        assert.match(
            only(problemsWith(k8s({ natsAddress: "10.0.0.9" })), "kubernetes.natsAddress").message,
            /applies only behind load balancers/,
        );
        assert.match(
            only(problemsWith(k8s({ serviceType: "LoadBalancer", natsAddress: "0.0.0.0" })), "kubernetes.natsAddress")
                .message,
            /nats-external load balancer/,
        );
        const http = { rules: [{ port: "http", sources: ["10.0.0.0/8"], description: "console" }] };
        assert.match(
            only(
                problemsWith(k8s({ ingress: "cluster", edgeNode: "node-1" }, { "bklite:security": http })),
                "security.rules[0].sources",
            ).message,
            /the cluster's Traefik takes those connections/,
        );
        assert.deepStrictEqual(problemsWith(k8s({ ingress: "cluster", ingressNamespace: "traefik-system" })), []);
    });

    it("refuses a missing hostAddress and says how to set it", () => {
        const p = only(problemsWith({ "bklite:hostAddress": undefined }), "hostAddress");
        assert.match(p.message, /is missing/);
        assert.match(p.message, /pulumi config set bklite:hostAddress/);
    });

    for (const bad of ["192.168.31", "256.1.1.1", "host name", "0.0.0.0", "-bad-.example"]) {
        it(`refuses the malformed hostAddress '${bad}'`, () => {
            const p = only(problemsWith({ "bklite:hostAddress": bad }), "hostAddress");
            assert.strictEqual(p.value, JSON.stringify(bad));
            assert.match(p.message, /192\.168\.31\.10/, "the message shows a valid example");
        });
    }

    it("accepts IPv6 addresses and DNS names as hostAddress", () => {
        assert.deepStrictEqual(problemsWith({ "bklite:hostAddress": "fd00::10" }), []);
        assert.deepStrictEqual(problemsWith({ "bklite:hostAddress": "bklite.customs.local" }), []);
    });

    it("refuses the literal null NODE_SERVER_URL", () => {
        const p = only(
            problemsWith({ "bklite:regions": [{ name: "default" }, { name: "管理网", nodeServerUrl: "null" }] }),
            "regions[1].nodeServerUrl",
        );
        assert.strictEqual(p.value, '"null"');
        assert.match(p.message, /not an absolute URL/);
        assert.match(p.message, /管理网/);
    });

    for (const bad of [
        "null/api/v1",
        "10.1.0.5:8080",
        "ftp://10.1.0.5",
        "http://",
        "http://10.1.0.5:8080/api/v1",
        "http://user:pw@10.1.0.5",
    ]) {
        it(`refuses the NODE_SERVER_URL '${bad}'`, () => {
            const problems = problemsWith({ "bklite:regions": [{ name: "edge", nodeServerUrl: bad }] });
            only(problems, "regions[0].nodeServerUrl");
        });
    }

    it("refuses a NODE_SERVER_URL given in a region's env", () => {
        const problems = problemsWith({ "bklite:regions": [{ name: "edge", env: { NODE_SERVER_URL: "null" } }] });
        only(problems, "regions[0].env.NODE_SERVER_URL");
    });

    it("refuses duplicate region names", () => {
        const problems = problemsWith({ "bklite:regions": [{ name: "default" }, { name: "edge" }, { name: "edge" }] });
        const p = only(problems, "regions[2].name");
        assert.match(p.message, /duplicates regions\[1\]\.name/);
    });

    it("refuses a NATS password in a region's env (it would be plaintext config)", () => {
        only(
            problemsWith({ "bklite:regions": [{ name: "edge", env: { NATS_PASSWORD: "x" } }] }),
            "regions[0].env.NATS_PASSWORD",
        );
    });

    it("refuses two services on one host port", () => {
        const p = only(problemsWith({ "bklite:natsPort": 8080 }), "natsPort");
        assert.match(p.message, /host port 8080/);
        assert.match(p.message, /bklite:httpPort/);
    });

    it("refuses an image variant a service's command or health check cannot run on, naming the tag that works", () => {
        const plain = only(
            problemsWith({ "bklite:images": { overrides: { nats: "nats:2.10.25" } } }),
            "images.overrides.nats",
        );
        assert.match(
            plain.message,
            /nats:2\.10\.25 is the scratch variant, without the wget its health check needs; use the Alpine variant, e\.g\. nats:2\.10\.25-alpine/,
        );
        only(
            problemsWith({
                "bklite:images": {
                    overrides: { "victoria-metrics": "victoriametrics/victoria-metrics:v1.106.1-scratch" },
                },
            }),
            "images.overrides.victoria-metrics",
        );
        only(
            problemsWith({ "bklite:images": { overrides: { vector: "timberio/vector:0.48.0-distroless-libc" } } }),
            "images.overrides.vector",
        );
        only(
            problemsWith({ "bklite:images": { overrides: { nats: "docker.io/library/nats:2.10.25-scratch" } } }),
            "images.overrides.nats",
        );
        for (const fine of [
            { nats: "nats:2.10.26-alpine3.21" },
            { nats: "harbor.local/mirror/nats:2.10.25-alpine" },
            { nats: "site/nats-with-tools:1" },
            { vector: "timberio/vector:0.48.0-alpine" },
            { postgres: "postgres:15-alpine" },
        ]) {
            assert.deepStrictEqual(problemsWith({ "bklite:images": { overrides: fine } }), [], JSON.stringify(fine));
        }
    });

    it("refuses an unknown service in images.overrides", () => {
        const p = only(
            problemsWith({ "bklite:images": { overrides: { sever: "bklite/server:v1" } } }),
            "images.overrides.sever",
        );
        assert.match(
            p.message,
            /postgres, redis, nats, falkordb, victoria-metrics, victoria-logs, minio, nats-executor, telegraf, vector, mlflow, server, web, traefik/,
        );
    });

    it("refuses an image tag `latest` on an offline stack", () => {
        only(problemsWith({ "bklite:images": { tag: "latest" } }), "images.tag");
        only(problemsWith({ "bklite:images": { overrides: { server: "bklite/server" } } }), "images.overrides.server");
        only(problemsWith({ "bklite:images": { overrides: { web: "bklite/web:latest" } } }), "images.overrides.web");
    });

    it("allows `latest` when the stack is not offline", () => {
        assert.deepStrictEqual(problemsWith({ "bklite:offline": false, "bklite:images": { tag: "latest" } }), []);
    });

    it("refuses a malformed registry", () => {
        only(problemsWith({ "bklite:images": { registry: "not a registry" } }), "images.registry");
    });

    it("reports every problem together, each naming its key, value and fix", () => {
        const problems = problemsWith({
            "bklite:hostAddress": "192.168.31",
            "bklite:natsPort": 8080,
            "bklite:regions": [{ name: "a" }, { name: "a", nodeServerUrl: "null" }],
            "bklite:images": { tag: "latest", overrides: { db: "postgres:15" } },
        });
        const keys = problems.map((p) => p.path).sort();
        assert.deepStrictEqual(
            keys,
            [
                "hostAddress",
                "images.overrides.db",
                "images.tag",
                "natsPort",
                "regions[1].name",
                "regions[1].nodeServerUrl",
            ].sort(),
        );
        for (const p of problems) {
            assert.ok(p.message.length > 20, `message for ${p.path} explains the fix`);
        }
    });

    it("names an unknown key and suggests the right one", () => {
        const p = only(problemsWith({ "bklite:hostaddress": "10.0.0.1" }), "hostaddress");
        assert.match(p.message, /did you mean bklite:hostAddress/);
    });

    it("refuses a secret stored in plaintext without showing it", () => {
        const value = "a-long-enough-secret-0123456789";
        const problems = problemsWith({ "bklite:secretKey": value });
        const p = only(problems, "secretKey");
        assert.strictEqual(p.value, undefined);
        assert.ok(!JSON.stringify(problems).includes(value));
        assert.match(p.message, /plaintext/);
        assert.match(p.message, /pulumi config set --secret bklite:secretKey/);
        assert.deepStrictEqual(problemsWith({ "bklite:secretKey": value }, "dev", ["bklite:secretKey"]), []);
    });

    it("refuses a weak given secret without showing it", () => {
        const problems = problemsWith({ "bklite:secretKey": "short pw" }, "dev", ["bklite:secretKey"]);
        const p = only(problems, "secretKey");
        assert.strictEqual(p.value, undefined);
        assert.ok(!JSON.stringify(problems).includes("short pw"));
        assert.match(p.message, /pulumi config set --secret bklite:secretKey/);
    });

    it("refuses installApps without node_mgmt", () => {
        only(problemsWith({ "bklite:installApps": ["system_mgmt", "cmdb"] }), "installApps");
    });

    it("refuses an unknown app, an app whose services the program does not run, and an app listed twice", () => {
        const unknown = only(problemsWith({ "bklite:installApps": ["node_mgmt", "cmbd"] }), "installApps");
        assert.match(unknown.message, /unknown apps cmbd; known apps: system_mgmt, cmdb/);
        assert.ok(!unknown.message.includes("opspilot"), "only the apps it can run are offered");
        const unsupported = only(problemsWith({ "bklite:installApps": ["node_mgmt", "opspilot"] }), "installApps");
        assert.match(
            unsupported.message,
            /opspilot needs metis \(the RAG server\) and pgvector, which this program does not run; remove it/,
        );
        only(problemsWith({ "bklite:installApps": ["node_mgmt", "log", "log"] }), "installApps");
        assert.deepStrictEqual(problemsWith({ "bklite:installApps": ["node_mgmt", "mlops", "playground"] }), []);
    });

    it("refuses malformed security rules", () => {
        const problems = problemsWith({
            "bklite:security": {
                rules: [
                    { port: "ssh", sources: ["10.0.0.0/33"], description: "" },
                    { port: "postgres", sources: ["0.0.0.0/0"], description: "db" },
                ],
            },
        });
        assert.deepStrictEqual(problems.map((p) => p.path).sort(), [
            "security.rules[0].description",
            "security.rules[0].port",
            "security.rules[0].sources[0]",
            "security.rules[1].sources[0]",
        ]);
    });

    it("refuses opening postgres (by name or number) or redis to the world, and allows a world-open nats", () => {
        const problems = problemsWith({
            "bklite:security": {
                rules: [
                    { port: 25432, sources: ["::/0"], description: "db" },
                    { port: 6379, sources: ["0.0.0.0/0"], description: "cache" },
                    { port: "nats", sources: ["0.0.0.0/0"], description: "agents" },
                    {
                        port: "postgres",
                        sources: ["::0/0", "1.2.3.4/0", "10.0.0.0/8"],
                        description: "db, written otherwise",
                    },
                ],
            },
        });
        assert.deepStrictEqual(problems.map((p) => p.path).sort(), [
            "security.rules[0].sources[0]",
            "security.rules[1].sources[0]",
            "security.rules[3].sources[0]",
            "security.rules[3].sources[1]",
        ]);
        assert.match(problems.find((p) => p.path === "security.rules[1].sources[0]")!.message, /opens redis/);
        only(problemsWith({ "bklite:security": { rules: [], hostFirewall: "yes" } }), "security.hostFirewall");
    });

    it("refuses a data store opened to the world in pieces, within a rule or across rules, and unknown rule settings", () => {
        const halves = problemsWith({
            "bklite:security": {
                rules: [{ port: "postgres", sources: ["0.0.0.0/1", "128.0.0.0/1"], description: "db" }],
            },
        });
        assert.deepStrictEqual(
            halves.map((p) => p.path),
            ["security.rules[0].sources"],
        );
        assert.match(
            halves[0].message,
            /opens postgres \(port postgres\) to the whole world; .*together these ranges cover every IPv4 address/,
        );
        const across = problemsWith({
            "bklite:security": {
                rules: [
                    { port: 6379, sources: ["::/1"], description: "cache, half" },
                    { port: 6379, sources: ["8000::/1", "10.0.0.0/8"], description: "cache, the other half" },
                ],
            },
        });
        assert.deepStrictEqual(
            across.map((p) => p.path),
            ["security.rules[0].sources", "security.rules[1].sources"],
        );
        assert.match(across[0].message, /every IPv6 address/);
        assert.deepStrictEqual(
            problemsWith({
                "bklite:security": {
                    rules: [{ port: "postgres", sources: ["0.0.0.0/1", "10.0.0.0/8"], description: "db, half" }],
                },
            }),
            [],
            "half the world is not the world",
        );
        only(
            problemsWith({
                "bklite:security": {
                    rules: [{ port: "http", sources: ["10.0.0.0/8"], description: "x", source: "typo" }],
                },
            }),
            "security.rules[0].source",
        );
    });

    it("refuses a key in a misspelt namespace or none, which the program would never read; other programs' keys are theirs", () => {
        const problems = problemsWith({
            "bklit:hostAddress": "10.0.0.5",
            hostAddress: "10.0.0.5",
            "docker:host": "unix:///var/run/docker.sock",
            "BKlite:natsPort": 1,
        });
        assert.deepStrictEqual(problems.map((p) => p.path).sort(), [
            "BKlite:natsPort",
            "bklit:hostAddress",
            "hostAddress",
        ]);
        assert.match(
            only(problems, "bklit:hostAddress").message,
            /is not in the bklite namespace, so the program never reads it; did you mean bklite:hostAddress\?/,
        );
        const { formatProblems } = require("../../src/config/problems") as typeof import("../../src/config/problems");
        assert.match(
            formatProblems(problems),
            /^ {2}- bklit:hostAddress: is not in the bklite namespace/m,
            "printed as written, not under bklite:",
        );
    });

    it("checks Kubernetes settings as Kubernetes does: quantities, StorageClass names, reserved namespaces", () => {
        only(problemsWith({ "bklite:kubernetes": { namespace: "kube-system" } }), "kubernetes.namespace");
        only(problemsWith({ "bklite:kubernetes": { storageClass: "Local_Path" } }), "kubernetes.storageClass");
        only(problemsWith({ "bklite:kubernetes": { volumeSize: "10GB" } }), "kubernetes.volumeSize");
        only(problemsWith({ "bklite:kubernetes": { volumeSize: "0Gi" } }), "kubernetes.volumeSize");
        only(problemsWith({ "bklite:kubernetes": { resources: { server: { cpu: "two" } } } }), "kubernetes.resources");
        assert.deepStrictEqual(
            problemsWith({
                "bklite:kubernetes": {
                    namespace: "bklite-prod",
                    storageClass: "ceph.rbd-fast",
                    volumeSize: "500Mi",
                    resources: { server: { cpu: "1500m", memory: "2Gi" }, postgres: { cpu: "1", memory: "1.5Gi" } },
                },
            }),
            [],
        );
    });

    it("says which settings the runtime does not use, without refusing them", () => {
        const prod = parseStackConfig(source(stackConfig("prod", {}))).config!;
        assert.deepStrictEqual(unusedSettings(prod, ["hostAddress", "kubernetes"]), [
            "bklite:kubernetes is set, but bklite:runtime is docker: it applies only on a cluster",
        ]);
        const cluster = parseStackConfig(
            source(
                stackConfig("prod", {
                    "bklite:runtime": "kubernetes",
                    "bklite:security": { hostFirewall: true, rules: [] },
                }),
            ),
        ).config!;
        const said = unusedSettings(cluster, ["runtime", "httpPort", "kubernetes"]);
        assert.strictEqual(said.length, 2);
        assert.match(said[0], /bklite:httpPort is set, but on a cluster ports come from bklite:kubernetes\.nodePorts/);
        assert.match(said[1], /bklite:security\.hostFirewall is on, but on a cluster/);
    });

    it("refuses an oversized value before parsing it, and quotes only the start of a long bad value", () => {
        const huge = "1".repeat(50 * 1024 * 1024);
        const problems = problemsWith({
            "bklite:hostAddress": huge,
            "bklite:regions": JSON.stringify([{ name: "x".repeat(70 * 1024) }]),
            "bklite:runtime": "d".repeat(1000),
        });
        assert.match(
            only(problems, "hostAddress").message,
            /^is 52428800 characters long; a value holds at most 65536/,
        );
        assert.match(only(problems, "regions").message, /characters long; a value holds at most 65536/);
        const runtime = only(problems, "runtime");
        assert.ok(runtime.value!.length < 300 && runtime.value!.endsWith("… (1002 characters)"), runtime.value);
        assert.ok(
            problems.every((p) => (p.value ?? "").length < 300),
            JSON.stringify(problems.map((p) => [p.path, p.value?.length])),
        );
    });

    it("refuses malformed probe packages", () => {
        const problems = problemsWith({
            "bklite:probePackages": [{ file: "", version: "1 0", os: "aix", collectors: "Telegraf" }],
        });
        assert.deepStrictEqual(problems.map((p) => p.path).sort(), [
            "probePackages[0].collectors",
            "probePackages[0].file",
            "probePackages[0].os",
            "probePackages[0].version",
        ]);
    });
});

describe("Pulumi.yaml", () => {
    const project = readProjectFile();

    it("is project bklite on nodejs, run compiled (no TypeScript at deploy time), with local file state", () => {
        assert.strictEqual(project.name, "bklite");
        assert.deepStrictEqual(project.runtime, {
            name: "nodejs",
            options: { typescript: false, packagemanager: "npm" },
        });
        assert.match((project.backend as { url: string }).url, /^file:\/\//);
    });

    it("declares every scalar key with the program's type, default and description", () => {
        const declarable = Object.entries(CONFIG_KEYS).filter(([k]) => isDeclaredInProjectFile(k));
        assert.deepStrictEqual(Object.keys(project.config).sort(), declarable.map(([k]) => k).sort());
        for (const [key, decl] of declarable) {
            const declared = project.config[key];
            assert.strictEqual(declared.type, decl.type, key);
            assert.strictEqual(declared.description, decl.description, key);
            assert.deepStrictEqual(declared.default, decl.default, key);
            assert.strictEqual(declared.secret, undefined, `${key}: no declared secrets`);
            if (decl.items) {
                assert.deepStrictEqual(declared.items, { type: decl.items }, key);
            }
        }
    });

    it("documents the structured and secret keys it does not declare", () => {
        const text = require("fs").readFileSync(
            require("path").join(__dirname, "..", "..", "Pulumi.yaml"),
            "utf8",
        ) as string;
        for (const key of STRUCTURED_KEYS) {
            assert.match(text, new RegExp(`#\\s+${key}:`), key);
        }
        for (const key of Object.keys(SECRET_KEYS)) {
            assert.match(text, new RegExp(`#.*\\b${key}\\b`), key);
        }
    });
});

describe("the config the program hands its commands (--stack-config)", () => {
    it("is read by the one parser, as the stack file is: every problem of it reported at once", () => {
        const given = {
            values: { "bklite:hostAddress": "not an address!", "bklite:natsPort": "70000" },
            encrypted: ["bklite:secretKey"],
        };
        assert.throws(
            () => stackConfigFromValues(given, "--stack-config (standard input)"),
            (err: Error) =>
                err instanceof ConfigError &&
                err.problems.some((p) => p.path === "hostAddress") &&
                err.problems.some((p) => p.path === "natsPort"),
        );
    });

    it("refuses another shape, naming where it came from and the shape it needs", () => {
        for (const given of [
            null,
            { runtime: "docker" },
            { values: { "bklite:x": 1 }, encrypted: [] },
            { values: {} },
        ]) {
            assert.throws(
                () => stackConfigFromValues(given, "--stack-config cfg.json"),
                /^Error: --stack-config cfg\.json: not a stack config as the program passes it \(\{"values"/,
            );
        }
    });

    it("round-trips: what the program passes parses to the config the program validated, secrets only named", () => {
        for (const stack of ["dev", "prod"]) {
            const program = source(stackConfig(stack, { "bklite:secretKey": "a-given-secret-key-0123456789abcdef" }), [
                "bklite:secretKey",
            ]);
            const passed = configValuesOf(program);
            assert.ok(!JSON.stringify(passed).includes("a-given-secret-key"), "no secret value passes");
            assert.deepStrictEqual(passed.encrypted, ["bklite:secretKey"]);
            assert.deepStrictEqual(stackConfigFromValues(passed, "stdin"), parseStackConfig(program).config, stack);
        }
    });
});
