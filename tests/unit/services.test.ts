/**
 * The app model: which services `bklite:installApps` brings, what the server is told about them, their start order,
 * and what every service spec must hold (pinned image, health check, data kept, nothing published it need not be);
 * then the program under mocks with mlops on, on both runtimes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { SERVICES } from "../../src/services/catalog";
import { APP_NEEDS } from "../../src/services/appNeeds";
import { ServiceDefinition } from "../../src/services/definition";
import { CORE_SECRETS, stackWorkloads, stackDatabases, stackSecrets, stackStreams } from "../../src/services/stack";
import { Workload } from "../../src/services/workload";
import { METRICS_STREAM } from "../../src/services/catalog/telegraf";
import { refsOf, renderText } from "../../src/services/template";
import { DEFAULT_INSTALL_APPS, KNOWN_APPS } from "../../src/config/keys";
import { loadStackConfig, readStackFiles, stackFileSource } from "../../src/config/stackFiles";
import { StackConfig } from "../../src/config/types";
import { parseStackConfig } from "../../src/config/parse";
import { parseImageRef } from "../../src/supply/imageRefs";
import { ProgramRun, RecordedResource, containsSecret, runProgram } from "../support/mocks";
import { PROJECT_ROOT, programConfig } from "../support/stackFiles";

const CORE = ["postgres", "redis", "nats", "server", "web", "traefik"];
const withApps = (apps: string[]): StackConfig => ({ ...loadStackConfig(PROJECT_ROOT, "dev"), installApps: apps });
const names = (specs: Workload[]) => specs.map((s) => s.name).sort();
const serverOf = (specs: Workload[]) => specs.find((s) => s.name === "server")!;

describe("apps decide services", () => {
    const cases: Array<[string[], string[]]> = [
        [["system_mgmt", "node_mgmt"], ["nats-executor"]],
        [
            ["system_mgmt", "node_mgmt", "cmdb"],
            ["nats-executor", "falkordb", "victoria-metrics", "telegraf"],
        ],
        [
            ["system_mgmt", "node_mgmt", "monitor"],
            ["nats-executor", "victoria-metrics", "telegraf"],
        ],
        [
            ["system_mgmt", "node_mgmt", "log"],
            ["nats-executor", "victoria-logs", "vector"],
        ],
        [
            ["system_mgmt", "node_mgmt", "mlops"],
            ["nats-executor", "minio", "mlflow"],
        ],
        [
            DEFAULT_INSTALL_APPS,
            ["nats-executor", "falkordb", "victoria-metrics", "telegraf", "victoria-logs", "vector"],
        ],
    ];
    for (const [apps, extra] of cases) {
        it(`${apps.join(",")}: the core services and ${extra.join(", ")}`, () => {
            assert.deepStrictEqual(names(stackWorkloads(withApps(apps))), [...CORE, ...extra].sort());
        });
    }

    it("runs what an app needs from another, with upstream's reason: CMDB's collection without monitor", () => {
        const server = serverOf(stackWorkloads(withApps(["system_mgmt", "node_mgmt", "cmdb"])));
        assert.match(renderText(server.env.VICTORIAMETRICS_HOST, {}), /^http:\/\/victoria-metrics:8428$/);
        const cmdb = APP_NEEDS.find((n) => n.app === "cmdb")!;
        assert.deepStrictEqual(cmdb.services, ["victoria-metrics", "telegraf"]);
        assert.match(cmdb.source, /cmdb\/constants\.py/);
    });

    it("refuses an app whose needed app is missing, saying upstream's reason and the fix", () => {
        const problems = parseStackConfigProblems({ "bklite:installApps": ["system_mgmt", "node_mgmt", "playground"] });
        assert.strictEqual(problems.length, 1);
        assert.strictEqual(problems[0].path, "installApps");
        assert.match(
            problems[0].message,
            /playground needs mlops: its migration 0003 depends on \('mlops', '0001_initial'\)/,
        );
        assert.match(problems[0].message, /add mlops or remove playground/);
    });

    it("every install-apps choice validation accepts has everything its apps need (property)", () => {
        const optional = KNOWN_APPS.filter((a) => !["node_mgmt", "opspilot", "patch_mgmt"].includes(a));
        fc.assert(
            fc.property(fc.subarray([...optional]), (apps) => {
                const installApps = ["node_mgmt", ...apps];
                if (parseStackConfigProblems({ "bklite:installApps": installApps }).length > 0) {
                    return;
                }
                const running = names(stackWorkloads(withApps(installApps)));
                for (const need of APP_NEEDS.filter((n) => installApps.includes(n.app))) {
                    (need.apps ?? []).forEach((app) => assert.ok(installApps.includes(app), `${need.app} has ${app}`));
                    (need.services ?? []).forEach((svc) => assert.ok(running.includes(svc), `${need.app} has ${svc}`));
                }
            }),
            { numRuns: 60 },
        );
    });

    it("tells the server where each service is, and only the services that run", () => {
        const env = (apps: string[]) => serverOf(stackWorkloads(withApps(apps))).env;
        const full = env([...DEFAULT_INSTALL_APPS, "mlops"]);
        assert.deepStrictEqual(
            {
                host: full.FALKORDB_HOST,
                port: full.FALKORDB_PORT,
                database: full.FALKORDB_DATABASE,
                password: refsOf(full.FALKORDB_REQUIREPASS),
            },
            { host: "falkordb", port: "6379", database: "cmdb_graph", password: ["falkordbPassword"] },
        );
        assert.strictEqual(full.VICTORIAMETRICS_HOST, "http://victoria-metrics:8428");
        assert.strictEqual(full.VICTORIALOGS_HOST, "http://victoria-logs:9428");
        assert.deepStrictEqual(
            [full.MINIO_ENDPOINT, full.MINIO_USE_HTTPS, full.MINIO_ACCESS_KEY, refsOf(full.MINIO_SECRET_KEY)],
            ["minio:9000", "0", "minio", ["minioPassword"]],
        );
        assert.deepStrictEqual(
            [full.MLFLOW_TRACKER_URL, full.MLFLOW_S3_ENDPOINT_URL, full.AWS_ACCESS_KEY_ID],
            ["http://mlflow:15000", "http://minio:9000", "minio"],
        );
        assert.strictEqual(full.INSTALL_APPS, [...DEFAULT_INSTALL_APPS, "mlops"].join(","));
        const bare = env(["system_mgmt", "node_mgmt"]);
        for (const key of Object.keys(full).filter((k) => /^(FALKORDB|VICTORIA|MINIO|MLFLOW|AWS)_/.test(k))) {
            assert.strictEqual(bare[key], undefined, `${key} only when its service runs`);
        }
    });

    it("starts the server after FalkorDB is healthy (upstream's depends_on), and each pipeline after its ends", () => {
        const specs = stackWorkloads(withApps([...DEFAULT_INSTALL_APPS, "mlops"]));
        const dependsOn = (name: string) => specs.find((s) => s.name === name)!.dependsOn;
        assert.deepStrictEqual(dependsOn("server"), ["postgres", "redis", "nats", "falkordb"]);
        assert.deepStrictEqual(
            serverOf(specs).connectsTo,
            ["victoria-metrics", "victoria-logs", "minio", "mlflow"],
            "reached without waiting at start",
        );
        assert.deepStrictEqual(dependsOn("telegraf"), ["nats", "victoria-metrics"]);
        assert.deepStrictEqual(dependsOn("vector"), ["nats", "victoria-logs"]);
        assert.deepStrictEqual(dependsOn("nats-executor"), ["nats"]);
        assert.deepStrictEqual(dependsOn("mlflow"), ["postgres", "minio"]);
        assert.deepStrictEqual(
            names(stackWorkloads(withApps(["system_mgmt", "node_mgmt"]))).includes("falkordb"),
            false,
        );
        assert.deepStrictEqual(dependsOn("server").length, 4);
    });

    it("plans the databases, secrets and streams of what runs, and nothing for what does not", () => {
        const mlops = withApps([...DEFAULT_INSTALL_APPS, "mlops"]);
        assert.deepStrictEqual(stackDatabases(mlops), [
            { name: "mlflow", owner: "mlflow", passwordRef: "mlflowDatabasePassword" },
            { name: "bklite", owner: "bklite", passwordRef: "postgresPassword" },
        ]);
        assert.deepStrictEqual(stackSecrets(mlops).slice(CORE_SECRETS.length).sort(), [
            "falkordbPassword",
            "minioPassword",
            "mlflowDatabasePassword",
        ]);
        assert.deepStrictEqual(stackStreams(mlops), [{ stream: METRICS_STREAM, consumers: ["telegraf"] }]);
        const bare = withApps(["system_mgmt", "node_mgmt"]);
        assert.deepStrictEqual(
            stackDatabases(bare).map((d) => d.name),
            ["bklite"],
        );
        assert.strictEqual(stackSecrets(bare).length, CORE_SECRETS.length);
        assert.deepStrictEqual(stackStreams(bare), []);
    });

    it("runs every service for any set of apps with node_mgmt, each spec sound (property)", () => {
        const apps = KNOWN_APPS.filter((a) => a !== "node_mgmt" && a !== "opspilot" && a !== "patch_mgmt");
        fc.assert(
            fc.property(fc.subarray([...apps]), (chosen) => {
                const specs = stackWorkloads(withApps(["node_mgmt", ...chosen]));
                const running = new Set(specs.map((s) => s.name));
                for (const spec of specs) {
                    for (const dep of [...spec.dependsOn, ...(spec.connectsTo ?? [])]) {
                        assert.ok(running.has(dep), `${spec.name} needs ${dep}, which runs`);
                    }
                    assertSound(spec);
                }
            }),
        );
    });

    it("keeps each service in a file of its own under src/services/catalog/, and the catalog lists every one", () => {
        const dir = path.join(PROJECT_ROOT, "src", "services", "catalog");
        const defined: ServiceDefinition[] = [];
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "index.ts")) {
            const exported = Object.values(require(path.join(dir, file)) as Record<string, unknown>).filter(
                (v): v is ServiceDefinition =>
                    typeof v === "object" && v !== null && "defaultImage" in v && "workload" in v,
            );
            assert.strictEqual(exported.length, 1, `${file} defines one service`);
            defined.push(exported[0]);
        }
        assert.deepStrictEqual(defined.map((d) => d.name).sort(), SERVICES.map((s) => s.name).sort());
    });
});

/** What every service spec must hold, whatever it runs. */
function assertSound(spec: Workload): void {
    const image = parseImageRef(spec.image);
    assert.ok(
        typeof image !== "string" && image.tag && image.tag !== "latest",
        `${spec.name}: a pinned image (${spec.image})`,
    );
    assert.ok(spec.health.test.length > 1 && spec.health.retries > 0, `${spec.name}: a health check`);
    for (const port of spec.ports.filter((p) => p.hostPort !== undefined)) {
        assert.ok(
            ["traefik", "nats", "postgres"].includes(spec.name),
            `${spec.name}: published only by the ingress, NATS and loopback PostgreSQL`,
        );
        if (spec.name === "postgres") {
            assert.strictEqual(port.hostIp, "127.0.0.1");
        }
    }
    if (spec.stateful) {
        assert.ok(spec.volumes.length > 0, `${spec.name}: a data store keeps its data on a volume`);
    }
    // Secrets only by reference, never in plain text: every env value and file renders from references alone.
    for (const value of [...Object.values(spec.env), ...spec.files.map((f) => f.content)]) {
        assert.doesNotThrow(() => renderText(value, Object.fromEntries(refsOf(value).map((r) => [r, "x"]))));
    }
}

describe("services declare their data", () => {
    const declared = SERVICES.flatMap((d) => (d.data ?? []).map((data) => ({ service: d.name, data })));

    it("says of every data volume which declared data it holds, or why none of it is kept", () => {
        const kinds = new Set(declared.map(({ data }) => data.kind));
        const volumes = declared.filter(({ data }) => data.kind === "volume");
        assert.ok(volumes.length >= 7, "every stateful service's volume is declared");
        for (const { service, data } of volumes) {
            if (data.kind !== "volume") {
                continue;
            }
            if ("notBackedUp" in data.holds) {
                assert.ok(data.holds.notBackedUp.length > 20, `${service}'s ${data.name}: why it is not kept`);
            } else {
                assert.ok(data.holds.length > 0, `${service}'s ${data.name} holds some kind of data`);
                for (const kind of data.holds) {
                    assert.ok(kinds.has(kind), `${service}'s ${data.name} holds ${kind}, which some service declares`);
                }
            }
        }
    });

    it("mounts no volume its service does not declare: a workload's volumes are its data's", () => {
        const config = withApps(KNOWN_APPS.filter((a) => a !== "opspilot" && a !== "patch_mgmt"));
        for (const workload of stackWorkloads(config)) {
            const definition = SERVICES.find((d) => d.name === workload.name)!;
            const own = (definition.data ?? [])
                .filter((d) => d.kind === "volume")
                .map((d) => (d as { name: string }).name);
            assert.deepStrictEqual(
                workload.volumes.map((v) => v.name),
                own,
                workload.name,
            );
            const made = definition.workload({
                config,
                endpoints: {
                    hostAddress: "127.0.0.1",
                    httpPort: 8080,
                    natsHost: "127.0.0.1",
                    natsPort: 24222,
                },
                image: "x:1",
                bindAddress: () => "0.0.0.0",
                peers: [],
            });
            assert.ok(
                !("volumes" in made),
                `${workload.name}'s workload takes its volumes from its data, not of its own`,
            );
        }
    });

    it("declares MLflow's database and MinIO's buckets, so backups take them", () => {
        const of = (service: string) => declared.filter((d) => d.service === service).map(({ data }) => data.kind);
        assert.deepStrictEqual(of("mlflow"), ["database"]);
        assert.deepStrictEqual(of("minio"), ["s3", "volume"]);
        assert.deepStrictEqual(of("falkordb"), ["keyspace", "volume"]);
        assert.deepStrictEqual(of("nats"), ["objectStore", "volume"]);
        assert.deepStrictEqual(of("telegraf"), ["streams"]);
    });
});

describe("program with mlops (Docker, dev stack)", () => {
    let run: ProgramRun;
    const named = (name: string): RecordedResource => run.recorder.named(name);
    const envOf = (c: RecordedResource) =>
        Object.fromEntries(
            (c.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
        );
    const dependsOn = (r: RecordedResource, name: string) => r.dependencies.some((d) => d.endsWith(`::${name}`));

    before(async () => {
        run = await runProgram(
            "dev",
            programConfig("dev", { "bklite:installApps": [...DEFAULT_INSTALL_APPS, "mlops"] }),
        );
    });

    it("creates MLflow's database and role through the loopback port, with its own generated password", () => {
        const role = named("bklite-db-mlflow-owner");
        assert.deepStrictEqual({ name: role.inputs.name, login: role.inputs.login }, { name: "mlflow", login: true });
        const password = String(named("bklite-secrets-mlflowDatabasePassword").rawOutputs.result);
        assert.strictEqual(role.inputs.password, password);
        assert.deepStrictEqual(
            {
                name: named("bklite-db-mlflow-database").inputs.name,
                owner: named("bklite-db-mlflow-database").inputs.owner,
            },
            { name: "mlflow", owner: "mlflow" },
        );
        const mlflow = named("bklite-docker-mlflow");
        assert.strictEqual(
            envOf(mlflow).MLFLOW_BACKEND_STORE_URI,
            `postgresql+psycopg2://mlflow:${password}@postgres:5432/mlflow`,
        );
        assert.ok(dependsOn(mlflow, "bklite-db-mlflow-database"), "MLflow starts once its database exists");
        assert.ok(
            !(mlflow.inputs.entrypoints as string[]).join(" ").includes(password),
            "no password on a command line",
        );
        assert.ok(containsSecret(mlflow.rawInputs.envs));
    });

    it("keeps MinIO's data on a retained, protected volume, with its own generated password, unpublished", () => {
        const volume = named("bklite-docker-minio-data");
        assert.strictEqual(volume.retainOnDelete, true);
        assert.strictEqual(volume.protect, true);
        const minio = named("bklite-docker-minio");
        assert.deepStrictEqual(minio.inputs.ports, []);
        assert.strictEqual(
            envOf(minio).MINIO_ROOT_PASSWORD,
            String(named("bklite-secrets-minioPassword").rawOutputs.result),
        );
        assert.deepStrictEqual(minio.inputs.healthcheck.tests, ["CMD", "mc", "ready", "local"]);
    });

    it("applies the metrics stream once NATS is healthy, and starts Telegraf only after it", () => {
        const streams = named("bklite-streams-apply");
        assert.strictEqual(streams.inputs.create, "node bin/bklite streams apply --spec - --docker-stack dev");
        assert.deepStrictEqual(JSON.parse(streams.inputs.stdin), { streams: [METRICS_STREAM] });
        assert.ok(dependsOn(streams, "bklite-docker-nats"));
        const env = streams.inputs.environment as Record<string, string>;
        assert.strictEqual(env.BKLITE_NATS_URL, "tls://127.0.0.1:24222");
        assert.strictEqual(env.BKLITE_NATS_CA, run.outputs.natsCaCert);
        assert.ok(containsSecret(streams.rawInputs.environment));
        // Applied again when NATS is replaced: its container id is a trigger.
        assert.strictEqual((streams.inputs.triggers as string[]).length, 2);
        assert.ok(dependsOn(named("bklite-docker-telegraf"), "bklite-streams-apply"));
    });

    it("gives FalkorDB its password in a file only the server and its config read, and no browser UI", () => {
        const falkordb = named("bklite-docker-falkordb");
        const env = envOf(falkordb);
        const password = String(named("bklite-secrets-falkordbPassword").rawOutputs.result);
        assert.strictEqual(env.REDIS_ARGS, "--include /etc/falkordb/falkordb.conf");
        assert.strictEqual(env.BROWSER, "0");
        assert.ok(!JSON.stringify(env).includes(password), "not in FalkorDB's environment");
        const conf = (falkordb.inputs.uploads as Array<{ file: string; content: string; permissions: string }>).find(
            (u) => u.file === "/etc/falkordb/falkordb.conf",
        )!;
        assert.match(conf.content, new RegExp(`^requirepass ${password}$`, "m"));
        assert.strictEqual(conf.permissions, "0600");
        assert.strictEqual(envOf(named("bklite-docker-server")).FALKORDB_REQUIREPASS, password);
    });
});

describe("program with mlops (Kubernetes, prod stack)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram(
            "prod",
            programConfig("prod", {
                "bklite:runtime": "kubernetes",
                "bklite:installApps": [...DEFAULT_INSTALL_APPS, "mlops"],
            }),
        );
    });

    it("creates MLflow's database and role in PostgreSQL's first-start script", () => {
        const init = run.recorder
            .ofType("kubernetes:core/v1:Secret")
            .find((s) => s.inputs.metadata.name === "postgres-files")!;
        const script = Object.values(init.inputs.stringData as Record<string, string>).join("\n");
        assert.match(
            script,
            /CREATE ROLE bklite LOGIN PASSWORD '[^']+';\nCREATE DATABASE bklite OWNER bklite ENCODING 'UTF8';/,
        );
        assert.match(
            script,
            /CREATE ROLE mlflow LOGIN PASSWORD '[^']+';\nCREATE DATABASE mlflow OWNER mlflow ENCODING 'UTF8';/,
        );
    });

    it("applies the streams through a port-forward, and gives a NATS client with no port no Service", () => {
        const streams = run.recorder.named("bklite-streams-apply");
        assert.strictEqual(streams.inputs.create, "node bin/bklite streams apply --spec - --kube-namespace bklite");
        assert.strictEqual((streams.inputs.environment as Record<string, string>).BKLITE_NATS_URL, "tls://nats:4222");
        const services = run.recorder.ofType("kubernetes:core/v1:Service").map((s) => s.inputs.metadata.name);
        for (const name of ["nats-executor", "telegraf", "vector"]) {
            assert.ok(!services.includes(name), `${name} listens on no port`);
        }
        for (const name of ["falkordb", "victoria-metrics", "victoria-logs", "minio", "mlflow"]) {
            assert.ok(services.includes(name), `${name} has its Service`);
        }
        const mlflow = run.recorder
            .ofType("kubernetes:apps/v1:Deployment")
            .find((d) => d.inputs.metadata.name === "mlflow")!;
        assert.deepStrictEqual(mlflow.inputs.spec.template.spec.containers[0].command, [
            "python",
            "/opt/bklite/mlflow-start.py",
        ]);
    });
});

describe("addresses agents dial are in the NATS certificate", () => {
    it("adds every host a region's NATS_SERVERS names to the server certificate's SANs", async () => {
        const regions = [
            { name: "default" },
            { name: "管理网", env: { NATS_SERVERS: "10.1.0.5:24222,nats.site-b.example:24222" } },
            { name: "边缘", env: { NATS_SERVERS: "[fd00::5]:24222" } },
        ];
        const run = await runProgram("prod", programConfig("prod", { "bklite:regions": regions }));
        const csr = run.recorder.named("bklite-nats-tls-server-csr").inputs;
        assert.deepStrictEqual([...csr.dnsNames].sort(), ["localhost", "nats", "nats.site-b.example"]);
        assert.deepStrictEqual([...csr.ipAddresses].sort(), ["10.1.0.5", "127.0.0.1", "192.168.31.10", "fd00::5"]);
    });

    const stacks: Array<[string, Record<string, unknown>]> = [
        ["Docker", {}],
        ["Kubernetes, NodePort", { "bklite:runtime": "kubernetes" }],
        [
            "Kubernetes behind load balancers",
            {
                "bklite:runtime": "kubernetes",
                "bklite:kubernetes": { serviceType: "LoadBalancer", natsAddress: "nats-lb.site.example" },
            },
        ],
    ];
    for (const [what, settings] of stacks) {
        it(`names every host every region's agents are told to dial (${what})`, async () => {
            const regions = [{ name: "default" }, { name: "边缘", env: { NATS_SERVERS: "10.9.0.7:4222" } }];
            const run = await runProgram("prod", programConfig("prod", { ...settings, "bklite:regions": regions }));
            const csr = run.recorder.named("bklite-nats-tls-server-csr").inputs;
            const sans = [...csr.dnsNames, ...csr.ipAddresses];
            const spec = JSON.parse(run.recorder.named("bklite-seed-apply").inputs.stdin);
            const dialled = (spec.regions as Array<{ env: { NATS_SERVERS: string } }>).flatMap((r) =>
                r.env.NATS_SERVERS.split(",").map((server) =>
                    server.slice(0, server.lastIndexOf(":")).replace(/^\[|\]$/g, ""),
                ),
            );
            assert.ok(dialled.length >= 2);
            for (const host of dialled) {
                assert.ok(sans.includes(host), `${host} is in the certificate (${sans.join(", ")})`);
            }
            if (what.includes("load balancers")) {
                assert.ok(dialled.includes("nats-lb.site.example"), "the load balancer's address is what agents dial");
            }
        });
    }

    it("refuses a NATS_SERVERS that is not host:port, naming the region and the form agents need", () => {
        const problems = parseStackConfigProblems({
            "bklite:regions": [
                { name: "default" },
                {
                    name: "管理网",
                    nodeServerUrl: "http://10.1.0.5:8080",
                    env: { NATS_SERVERS: "tls://10.1.0.5:24222" },
                },
            ],
        });
        assert.strictEqual(problems.length, 1);
        assert.strictEqual(problems[0].path, "regions[1].env.NATS_SERVERS");
        assert.match(
            problems[0].message,
            /'tls:\/\/10\.1\.0\.5:24222' is not host:port \(expected e\.g\. 10\.1\.0\.5:24222, without a scheme/,
        );
        assert.match(problems[0].message, /agents in region '管理网' would fail/);
    });
});

/** The problems validation finds in the dev stack with these changes. */
function parseStackConfigProblems(overrides: Record<string, unknown>) {
    return parseStackConfig(stackFileSource(readStackFiles(PROJECT_ROOT, "dev", overrides))).problems;
}
