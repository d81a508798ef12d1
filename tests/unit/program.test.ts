/**
 * The whole program under Pulumi mocks, for the committed dev and prod stacks: what it asks Docker, PostgreSQL,
 * random and tls for, with which options, and what it exports.
 */
import * as assert from "assert";
import { parse } from "yaml";
import { servicesFor } from "../../src/services/catalog";
import { DEFAULT_INSTALL_APPS } from "../../src/config/keys";
import { HEALTH_CHECKS } from "../support/healthChecks";
import * as mocks from "../support/mocks";
import { ProgramRun, RecordedResource, containsSecret, mockSecret, runProgram } from "../support/mocks";
import { agentPassword } from "../../src/services/natsAccounts";
import { CORE_SECRETS } from "../../src/services/stack";
import { programConfig as stackConfig } from "../support/stackFiles";
import { stackConfigFromValues } from "../../src/config/stackFiles";

const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const VOLUME = "docker:index/volume:Volume";
const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

function container(run: ProgramRun, service: string): RecordedResource {
    return run.recorder.named(`bklite-docker-${service}`);
}

/** A container's env as a map. */
function envOf(c: RecordedResource): Record<string, string> {
    return Object.fromEntries(
        (c.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    );
}

function upload(c: RecordedResource, file: string): { content: string; permissions?: string } {
    const found = (c.inputs.uploads as Array<{ file: string; content: string; permissions?: string }>).find(
        (u) => u.file === file,
    );
    assert.ok(found, `${c.name} uploads ${file}`);
    return found;
}

function urnOf(run: ProgramRun, name: string): string {
    const match = run.recorder.resources.find((r) => r.name === name);
    assert.ok(match, name);
    // Dependencies are URNs; match by the trailing `::name`.
    return `::${name}`;
}

function dependsOn(c: RecordedResource, run: ProgramRun, name: string): boolean {
    return c.dependencies.some((urn) => urn.endsWith(urnOf(run, name)));
}

/** The services the committed stacks run: the default apps' (neither sets installApps). */
const SERVICE_NAMES = servicesFor(DEFAULT_INSTALL_APPS).map((s) => s.name);

for (const stack of ["dev", "prod"]) {
    describe(`program (${stack} stack)`, () => {
        let run: ProgramRun;
        const config = stackConfig(stack);
        const hostAddress = config["bklite:hostAddress"];

        before(async () => {
            run = await runProgram(stack, config);
        });

        it("runs the services of the default apps as containers named after the stack", () => {
            const names = run.recorder
                .ofType(CONTAINER)
                .map((c) => c.inputs.name)
                .sort();
            assert.deepStrictEqual(names, SERVICE_NAMES.map((s) => `bklite-${stack}-${s}`).sort());
        });

        it("puts every container on the one stack network under its service name", () => {
            const networks = run.recorder.ofType("docker:index/network:Network");
            assert.strictEqual(networks.length, 1);
            for (const service of SERVICE_NAMES) {
                assert.deepStrictEqual(container(run, service).inputs.networksAdvanced, [
                    { name: `bklite-${stack}`, aliases: [service] },
                ]);
            }
        });

        it("takes each container's image from a RemoteImage that is never removed from the host", () => {
            const images = run.recorder.ofType(REMOTE_IMAGE);
            assert.ok(images.length > 0);
            for (const image of images) {
                assert.strictEqual(image.inputs.keepLocally, true, image.name);
                assert.strictEqual(image.inputs.pullTriggers, undefined, image.name);
            }
            for (const service of SERVICE_NAMES) {
                const c = container(run, service);
                const image = images.find((i) => c.dependencies.some((d) => d.endsWith(`::${i.name}`)));
                assert.ok(image, `${service} depends on its image`);
                assert.match(c.inputs.image, /^sha256:[0-9a-f]{64}$/, `${service} runs the image by id`);
                assert.strictEqual(
                    run.outputs.images && (run.outputs.images as Record<string, string>)[service],
                    image.inputs.name,
                );
            }
        });

        if (stack === "prod") {
            it("takes every image from the private registry: bk-lite's under the release tag, the others pinned", () => {
                for (const image of run.recorder.ofType(REMOTE_IMAGE)) {
                    assert.match(image.inputs.name, /^aiharbor\.msxf\.local\/aihpc\/[a-z0-9/_.-]+:[\w.-]+$/);
                    const own = /\/aihpc\/bklite\//.test(image.inputs.name);
                    assert.strictEqual(/:v0\.3\.5$/.test(image.inputs.name), own, image.inputs.name);
                }
                const images = run.outputs.images as Record<string, string>;
                assert.strictEqual(images.postgres, "aiharbor.msxf.local/aihpc/postgres:15.10");
                assert.strictEqual(images.server, "aiharbor.msxf.local/aihpc/bklite/server:v0.3.5");
            });
        } else {
            it("uses pinned default images, never latest", () => {
                for (const image of run.recorder.ofType(REMOTE_IMAGE)) {
                    assert.match(image.inputs.name, /:[A-Za-z0-9_.-]+$/);
                    assert.doesNotMatch(image.inputs.name, /:latest$/);
                }
            });
        }

        it("gives the server its database, NATS, Redis, secret key, apps and offline uv settings", () => {
            const env = envOf(container(run, "server"));
            const secrets = run.recorder.ofType(RANDOM_PASSWORD);
            const generated = (key: string) => secrets.find((s) => s.name === `bklite-secrets-${key}`)!;
            assert.ok(generated("postgresPassword"));
            assert.deepStrictEqual(
                {
                    DB_ENGINE: env.DB_ENGINE,
                    DB_NAME: env.DB_NAME,
                    DB_USER: env.DB_USER,
                    DB_HOST: env.DB_HOST,
                    DB_PORT: env.DB_PORT,
                },
                { DB_ENGINE: "postgresql", DB_NAME: "bklite", DB_USER: "bklite", DB_HOST: "postgres", DB_PORT: "5432" },
            );
            assert.notStrictEqual(env.DB_USER, "postgres", "the server never connects as the superuser");
            assert.match(env.DB_PASSWORD, /^mock[0-9a-f]{28}$/);
            assert.notStrictEqual(env.DB_PASSWORD, envOf(container(run, "postgres")).POSTGRES_PASSWORD);
            assert.match(env.NATS_SERVERS, /^tls:\/\/bklite:mock[0-9a-f]{28}@nats:4222$/);
            assert.strictEqual(env.NATS_TLS_ENABLED, "true");
            assert.strictEqual(env.NATS_TLS_CA_FILE, "/etc/nats/certs/ca.crt");
            assert.strictEqual(env.NATS_NAMESPACE, "bklite");
            assert.match(env.SECRET_KEY, /^mock[0-9a-f]{28}$/);
            assert.strictEqual(env.ENABLE_CELERY, "true");
            assert.match(env.CELERY_BROKER_URL, /^redis:\/\/:mock[0-9a-f]{28}@redis:6379\/3$/);
            assert.strictEqual(env.CELERY_RESULT_BACKEND, env.CELERY_BROKER_URL);
            assert.match(env.INSTALL_APPS, /(^|,)node_mgmt(,|$)/);
            assert.strictEqual(env.UV_OFFLINE, "1");
            assert.strictEqual(env.UV_NO_SYNC, "1");
            assert.strictEqual(
                upload(container(run, "server"), "/etc/nats/certs/ca.crt").content,
                run.outputs.natsCaCert,
            );
        });

        it("seeds the default region with all six SidecarEnv keys through DEFAULT_ZONE_VAR_*", () => {
            const env = envOf(container(run, "server"));
            const agentKey = mockSecret("bklite-secrets-natsAgentKey");
            assert.deepStrictEqual(
                Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("DEFAULT_ZONE_VAR_"))),
                {
                    DEFAULT_ZONE_VAR_NODE_SERVER_URL: `http://${hostAddress}:8080`,
                    DEFAULT_ZONE_VAR_NATS_SERVERS: `${hostAddress}:24222`,
                    DEFAULT_ZONE_VAR_NATS_USERNAME: "agent-default",
                    DEFAULT_ZONE_VAR_NATS_PASSWORD: agentPassword(agentKey, "default"),
                    DEFAULT_ZONE_VAR_NATS_PROTOCOL: "tls",
                    DEFAULT_ZONE_VAR_NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
                },
            );
        });

        it("gives the web console its public URL, secret and the server's address", () => {
            const env = envOf(container(run, "web"));
            assert.strictEqual(env.NEXTAUTH_URL, `http://${hostAddress}:8080`);
            assert.match(env.NEXTAUTH_SECRET, /^mock[0-9a-f]{28}$/);
            assert.strictEqual(env.NEXTAPI_URL, "http://server:8000");
        });

        it("holds every env list and file with a secret in it as a Pulumi secret", () => {
            for (const service of ["server", "web", "postgres"]) {
                assert.ok(containsSecret(container(run, service).rawInputs.envs), `${service} envs are secret`);
            }
            // nats.conf and the server key (nats), redis.conf (redis): the SDK marks the whole upload list secret.
            for (const service of ["nats", "redis"]) {
                assert.ok(containsSecret(container(run, service).rawInputs.uploads), `${service} uploads are secret`);
            }
            assert.ok(!containsSecret(container(run, "traefik").rawInputs), "traefik holds nothing secret");
        });

        it("never passes a secret value as component inputs (they are stored in state)", () => {
            const secretValues = run.recorder
                .ofType(RANDOM_PASSWORD)
                .map((p) => `mock${require("crypto").createHash("sha256").update(p.name).digest("hex").slice(0, 28)}`);
            secretValues.push("PRIVATE KEY");
            const components = run.recorder.resources.filter((r) => !r.custom);
            assert.ok(components.length >= 5);
            for (const component of components) {
                const text = JSON.stringify(component.rawInputs);
                assert.ok(!containsSecret(component.rawInputs), component.name);
                for (const secret of secretValues) {
                    assert.ok(!text.includes(secret), `${component.name} inputs hold a secret`);
                }
            }
        });

        it("gives every container a restart policy and a health check that suits its image, and waits for health", () => {
            for (const service of SERVICE_NAMES) {
                const c = container(run, service).inputs;
                assert.strictEqual(c.restart, "unless-stopped", service);
                assert.deepStrictEqual(c.healthcheck.tests, HEALTH_CHECKS[service], service);
                assert.strictEqual(c.wait, true, service);
                assert.ok(c.waitTimeout > 0 && c.waitTimeout <= 900, service);
            }
            assert.ok(
                (container(run, "traefik").inputs.command as string[]).includes("--ping=true"),
                "traefik serves the ping its probe uses",
            );
            assert.match(
                upload(container(run, "nats"), "/etc/nats/nats-server.conf").content,
                /monitor_port: 8222/,
                "nats serves the probe's port",
            );
        });

        it("replaces every container delete-first: each keeps a fixed name, some fixed host ports (pulumi-docker#1356)", () => {
            const containers = run.recorder.ofType(CONTAINER);
            assert.strictEqual(containers.length, SERVICE_NAMES.length);
            for (const c of containers) {
                assert.strictEqual(c.deleteBeforeReplace, true, c.name);
                assert.match(c.inputs.name, new RegExp(`^bklite-${stack}-`), `${c.name} has a fixed name`);
            }
            // Nothing else is replaced delete-first: volumes and the network are never replaced with data in them.
            assert.deepStrictEqual(
                run.recorder.resources.filter((r) => r.deleteBeforeReplace && r.type !== CONTAINER),
                [],
            );
        });

        it("lets redis (which drops root) read its config file, and no one else", () => {
            const file = upload(container(run, "redis"), "/usr/local/etc/redis/redis.conf") as {
                permissions?: string;
                owner?: string;
                group?: string;
            };
            assert.deepStrictEqual(
                { permissions: file.permissions, owner: file.owner, group: file.group },
                { permissions: "0600", owner: "999", group: "999" },
            );
            assert.deepStrictEqual(container(run, "redis").inputs.command, [
                "redis-server",
                "/usr/local/etc/redis/redis.conf",
            ]);
        });

        it("lets the server start for at least 90 s and gives up within 15 minutes", () => {
            const h = container(run, "server").inputs.healthcheck;
            // Go's duration form, as the provider reads it back: 2m0s.
            const seconds = (d: string) => {
                const [, m = "0", s = "0"] = /^(?:(\d+)m)?(\d+)s$/.exec(d)!;
                return Number(m) * 60 + Number(s);
            };
            assert.ok(seconds(h.startPeriod) >= 90);
            const giveUp = seconds(h.startPeriod) + h.retries * (seconds(h.interval) + seconds(h.timeout));
            assert.ok(giveUp <= 15 * 60, `gives up after ${giveUp}s`);
        });

        it("starts the server after postgres, redis, nats and its database, and web after the server", () => {
            const server = container(run, "server");
            for (const dep of [
                "bklite-docker-postgres",
                "bklite-docker-redis",
                "bklite-docker-nats",
                "bklite-db-database",
                "bklite-db-owner",
            ]) {
                assert.ok(dependsOn(server, run, dep), `server waits for ${dep}`);
            }
            assert.ok(dependsOn(container(run, "web"), run, "bklite-docker-server"));
            assert.ok(dependsOn(container(run, "traefik"), run, "bklite-docker-server"));
            assert.ok(
                !dependsOn(container(run, "traefik"), run, "bklite-docker-web"),
                "agents reach /api/v1 even while web starts",
            );
            assert.ok(!dependsOn(container(run, "postgres"), run, "bklite-docker-server"));
        });

        it("keeps every service's data in a named volume retained on delete", () => {
            const volumes = run.recorder.ofType(VOLUME);
            const dataOf = ["falkordb", "nats", "postgres", "redis", "victoria-logs", "victoria-metrics"];
            assert.deepStrictEqual(
                volumes.map((v) => v.inputs.name).sort(),
                dataOf.map((s) => `bklite-${stack}-${s}-data`),
            );
            for (const v of volumes) {
                assert.strictEqual(v.retainOnDelete, true, v.name);
            }
            const mount = (service: string) => container(run, service).inputs.volumes;
            assert.deepStrictEqual(mount("postgres"), [
                { volumeName: `bklite-${stack}-postgres-data`, containerPath: "/var/lib/postgresql/data" },
            ]);
            assert.deepStrictEqual(mount("nats"), [
                { volumeName: `bklite-${stack}-nats-data`, containerPath: "/data" },
            ]);
            assert.deepStrictEqual(mount("redis"), [
                { volumeName: `bklite-${stack}-redis-data`, containerPath: "/data" },
            ]);
            assert.deepStrictEqual(mount("falkordb"), [
                { volumeName: `bklite-${stack}-falkordb-data`, containerPath: "/var/lib/falkordb/data" },
            ]);
            assert.deepStrictEqual(mount("victoria-metrics"), [
                { volumeName: `bklite-${stack}-victoria-metrics-data`, containerPath: "/victoria-metrics-data" },
            ]);
            assert.deepStrictEqual(mount("victoria-logs"), [
                { volumeName: `bklite-${stack}-victoria-logs-data`, containerPath: "/vlogs" },
            ]);
            assert.deepStrictEqual(run.outputs.dataVolumes, volumes.map((v) => v.inputs.name).sort());
        });

        it("publishes Traefik on 8080, NATS on 24222, PostgreSQL on loopback only, and nothing else", () => {
            const published = Object.fromEntries(SERVICE_NAMES.map((s) => [s, container(run, s).inputs.ports]));
            assert.deepStrictEqual(published, {
                traefik: [{ internal: 80, external: 8080, ip: "0.0.0.0", protocol: "tcp" }],
                nats: [{ internal: 4222, external: 24222, ip: "0.0.0.0", protocol: "tcp" }],
                postgres: [{ internal: 5432, external: 25432, ip: "127.0.0.1", protocol: "tcp" }],
                redis: [],
                server: [],
                web: [],
                falkordb: [],
                "victoria-metrics": [],
                "victoria-logs": [],
                telegraf: [],
                vector: [],
                "nats-executor": [],
            });
        });

        it("mounts no Docker socket anywhere", () => {
            for (const c of run.recorder.ofType(CONTAINER)) {
                assert.ok(!JSON.stringify(c.inputs).includes("docker.sock"), c.name);
            }
        });

        it("routes /api/v1 to server:8000 and the rest to web:3000 on path alone, dashboard off", () => {
            const traefik = container(run, "traefik");
            const routes = parse(upload(traefik, "/etc/traefik/dynamic.yml").content);
            const routers = Object.values(routes.http.routers) as Array<{
                rule: string;
                service: string;
                priority: number;
            }>;
            const target = (prefix: string) => {
                const router = routers.find((r) => r.rule === `PathPrefix(\`${prefix}\`)`)!;
                return {
                    url: routes.http.services[router.service].loadBalancer.servers[0].url,
                    priority: router.priority,
                };
            };
            assert.strictEqual(target("/api/v1").url, "http://server:8000");
            assert.strictEqual(target("/").url, "http://web:3000");
            assert.ok(target("/api/v1").priority > target("/").priority);
            assert.ok(
                routers.every((r) => !r.rule.includes("Host(")),
                "no Host rule",
            );
            const flags = traefik.inputs.command as string[];
            assert.ok(flags.includes("--api.dashboard=false"));
            assert.ok(flags.includes("--providers.file.filename=/etc/traefik/dynamic.yml"));
            assert.ok(!flags.some((f) => f.startsWith("--providers.docker")));
        });

        it("renders the NATS config: JetStream on the volume, TLS with the stack's CA, the two accounts", () => {
            const nats = container(run, "nats");
            const conf = upload(nats, "/etc/nats/nats-server.conf").content;
            const natsPassword = mockSecret("bklite-secrets-natsServerPassword");
            assert.match(conf, /store_dir: "\/data"/, "JetStream lives in /data/jetstream, on the volume");
            assert.match(conf, /cert_file: "\/etc\/nats\/certs\/server.crt"/);
            assert.match(conf, /ca_file: "\/etc\/nats\/certs\/ca.crt"/);
            assert.ok(conf.includes(`users: [ { user: "bklite", password: "${natsPassword}" } ]`));
            assert.match(
                conf,
                /AGENTS: \{\n {4}jetstream: enabled\n {4}include "\.\.\/\.\.\/data\/agents\/users\.conf"/,
            );
            assert.match(conf, /pid_file: "\/data\/agents\/nats-server\.pid"/);
            // A new volume starts with the server side's user there and, with an agent's rights, the shared one.
            const initial = upload(nats, "/etc/nats/agent-users.initial.conf");
            assert.strictEqual(initial.permissions, "0600");
            assert.ok(initial.content.includes(`{ user: "bklite-agents", password: "${natsPassword}" }`));
            const shared = mockSecret("bklite-secrets-natsPassword");
            assert.ok(
                initial.content.includes(
                    `{ user: "admin", password: "${shared}", permissions: { publish: { allow: ["metrics.*"`,
                ),
            );
            assert.deepStrictEqual(nats.inputs.entrypoints.slice(0, 2), ["/bin/sh", "-c"]);
            assert.match(nats.inputs.entrypoints[2], /exec nats-server --config \/etc\/nats\/nats-server\.conf$/);
            assert.strictEqual(upload(nats, "/etc/nats/certs/ca.crt").content, run.outputs.natsCaCert);
            assert.match(upload(nats, "/etc/nats/certs/server.key").content, /PRIVATE KEY/);
            assert.strictEqual(upload(nats, "/etc/nats/certs/server.key").permissions, "0600");
        });

        it("signs the NATS certificate for nats, localhost, 127.0.0.1 and the host address", () => {
            const csr = run.recorder.named("bklite-nats-tls-server-csr").inputs;
            assert.deepStrictEqual(
                [...csr.dnsNames, ...csr.ipAddresses].sort(),
                [...new Set(["127.0.0.1", hostAddress, "localhost", "nats"])].sort(),
            );
            const ca = run.recorder.named("bklite-nats-tls-ca").inputs;
            assert.strictEqual(ca.isCaCertificate, true);
            const server = run.recorder.named("bklite-nats-tls-server").inputs;
            assert.ok(server.allowedUses.includes("server_auth"));
        });

        it("declares the bklite database and its owner role through the loopback port, both retained", () => {
            const provider = run.recorder.named("bklite-db-provider");
            assert.deepStrictEqual(
                {
                    host: provider.inputs.host,
                    port: provider.inputs.port,
                    username: provider.inputs.username,
                    sslmode: provider.inputs.sslmode,
                },
                { host: "127.0.0.1", port: "25432", username: "postgres", sslmode: "disable" },
            );
            assert.strictEqual(provider.inputs.password, envOf(container(run, "postgres")).POSTGRES_PASSWORD);
            assert.ok(containsSecret(provider.rawInputs.password), "the superuser password is a secret");
            assert.ok(dependsOn(provider, run, "bklite-docker-postgres"), "connects once the container is healthy");
            const role = run.recorder.named("bklite-db-owner");
            assert.deepStrictEqual(
                { name: role.inputs.name, login: role.inputs.login },
                { name: "bklite", login: true },
            );
            assert.strictEqual(role.inputs.password, envOf(container(run, "server")).DB_PASSWORD);
            assert.ok(containsSecret(role.rawInputs.password), "the role password is a secret");
            assert.ok(role.provider.includes("bklite-db-provider"));
            const database = run.recorder.named("bklite-db-database");
            assert.deepStrictEqual(
                { name: database.inputs.name, owner: database.inputs.owner },
                { name: "bklite", owner: "bklite" },
            );
            assert.strictEqual(role.retainOnDelete, true);
            assert.strictEqual(database.retainOnDelete, true);
        });

        it("generates every secret that the config does not give", () => {
            const generated = run.recorder.ofType(RANDOM_PASSWORD);
            assert.deepStrictEqual(generated.map((g) => g.name.replace("bklite-secrets-", "")).sort(), [
                "adminPassword",
                "falkordbPassword",
                "natsAgentKey",
                "natsPassword",
                "natsServerPassword",
                "nextauthSecret",
                "postgresAdminPassword",
                "postgresPassword",
                "redisPassword",
                "secretKey",
            ]);
            for (const g of generated) {
                assert.deepStrictEqual(
                    { length: g.inputs.length, special: g.inputs.special },
                    { length: 32, special: false },
                );
            }
        });

        it("protects the data volumes and what retained data depends on: its passwords, SECRET_KEY, the NATS password and the CA", () => {
            const protectedNames = run.recorder.resources
                .filter((r) => r.protect)
                .map((r) => r.name)
                .sort();
            assert.deepStrictEqual(protectedNames, [
                "bklite-docker-falkordb-data",
                "bklite-docker-nats-data",
                "bklite-docker-postgres-data",
                "bklite-docker-redis-data",
                "bklite-docker-victoria-logs-data",
                "bklite-docker-victoria-metrics-data",
                "bklite-nats-tls-ca",
                "bklite-nats-tls-ca-key",
                "bklite-secrets-natsPassword",
                "bklite-secrets-postgresAdminPassword",
                "bklite-secrets-postgresPassword",
                "bklite-secrets-secretKey",
            ]);
        });

        it("exports the console URL, NATS endpoint, CA and the admin login with a secret password", () => {
            assert.strictEqual(run.outputs.consoleUrl, `http://${hostAddress}:8080`);
            assert.strictEqual(run.outputs.natsEndpoint, `tls://${hostAddress}:24222`);
            assert.match(String(run.outputs.natsCaCert), /BEGIN CERTIFICATE/);
            assert.strictEqual(run.outputs.adminUser, "admin");
            assert.strictEqual(run.outputs.adminPassword, envOf(container(run, "server")).ADMIN_PASSWORD);
            assert.ok(run.secretOutputs.has("adminPassword"));
            assert.ok(!run.secretOutputs.has("natsCaCert"));
        });

        it("exports, as one secret, every variable the operator's commands connect with: the seed command's own", () => {
            assert.ok(run.secretOutputs.has("operatorEnvironment"));
            const exported = run.outputs.operatorEnvironment as Record<string, string>;
            const seedEnv = run.recorder.named("bklite-seed-apply").inputs.environment as Record<string, string>;
            for (const [name, value] of Object.entries(seedEnv)) {
                assert.strictEqual(exported[name], value, name);
            }
            assert.strictEqual(exported.BKLITE_ADMIN_PASSWORD, run.outputs.adminPassword);
            assert.ok(exported.BKLITE_FALKORDB_PASSWORD, "cmdb's store: backups and verify need it");
            assert.ok(Object.keys(exported).every((name) => name.startsWith("BKLITE_")));
        });

        it("parents every resource under the platform and prefixes child names with the parent's", () => {
            const byUrn = new Map(run.recorder.resources.map((r) => [r.name, r]));
            for (const r of run.recorder.resources) {
                if (r.type === "bklite:index:Platform") {
                    continue;
                }
                const parentName = r.parent.slice(r.parent.lastIndexOf("::") + 2);
                assert.ok(byUrn.has(parentName), `${r.name} has a parent`);
                assert.ok(r.name.startsWith(`${parentName}-`), `${r.name} starts with ${parentName}-`);
            }
        });
    });
}

describe("program with secrets given in config", () => {
    it("uses them as secrets and generates only the rest", async () => {
        const given = "given-secret-key-0123456789abcdef";
        const run = await runProgram(
            "dev",
            { ...stackConfig("dev"), "bklite:secretKey": given },
            { secretKeys: ["bklite:secretKey"] },
        );
        const names = run.recorder.ofType(RANDOM_PASSWORD).map((r) => r.name);
        assert.ok(!names.includes("bklite-secrets-secretKey"));
        assert.strictEqual(names.length, CORE_SECRETS.length, "the other core secrets and FalkorDB's");
        const server = run.recorder.named("bklite-docker-server");
        assert.ok(envOf(server).SECRET_KEY === given);
        assert.ok(containsSecret(server.rawInputs.envs));
        for (const component of run.recorder.resources.filter((r) => !r.custom)) {
            assert.ok(!JSON.stringify(component.rawInputs).includes(given), component.name);
        }
    });
});

describe("program verification", () => {
    it("runs bklite verify last, on the spec rendered from the config, with its secrets only in the environment", async () => {
        const config = stackConfig("dev");
        const run = await runProgram("dev", config);
        const verify = run.recorder.named("bklite-verify-run");
        assert.strictEqual(
            verify.inputs.create,
            "node bin/bklite verify --spec - --retry-seconds 90 --docker-stack dev",
        );
        const spec = JSON.parse(verify.inputs.stdin);
        const { parseVerifySpec } = require("../../src/verify/spec") as typeof import("../../src/verify/spec");
        assert.deepStrictEqual(parseVerifySpec(spec), spec, "a spec the CLI takes as it is");
        assert.strictEqual(spec.consoleUrl, "http://127.0.0.1:8080");
        assert.strictEqual(spec.natsEndpoint, "tls://127.0.0.1:24222");
        assert.deepStrictEqual(spec.login, { username: "admin" });
        assert.deepStrictEqual(
            spec.services.map((s: { service: string; address?: unknown }) => [s.service, s.address]),
            [
                ["falkordb", { container: "bklite-dev-falkordb", network: "bklite-dev" }],
                ["victoria-metrics", { container: "bklite-dev-victoria-metrics", network: "bklite-dev" }],
                ["victoria-logs", { container: "bklite-dev-victoria-logs", network: "bklite-dev" }],
                ["nats-executor", undefined],
            ],
        );
        assert.deepStrictEqual(Object.keys(verify.inputs.environment).sort(), [
            "BKLITE_ADMIN_PASSWORD",
            "BKLITE_FALKORDB_PASSWORD",
            "BKLITE_NATS_BUCKET",
            "BKLITE_NATS_CA",
            "BKLITE_NATS_PASSWORD",
            "BKLITE_NATS_USER",
            "BKLITE_PG_URL",
            "BKLITE_SECRET_KEY",
        ]);
        assert.ok(containsSecret(verify.rawInputs.environment), "the environment is secret");
        assert.ok(!verify.inputs.stdin.includes("mock"), "no generated secret in the spec");
        // After seeding; again whenever seeding re-runs or a container is replaced.
        assert.ok(verify.dependencies.some((d) => d.endsWith("::bklite-seed-apply")));
        assert.deepStrictEqual(verify.inputs.triggers.slice(1), [
            "bklite-seed-apply-id",
            ...SERVICE_NAMES.slice()
                .sort()
                .map((s) => `bklite-docker-${s}-id`),
        ]);
        const again = await runProgram("dev", config);
        assert.deepStrictEqual(
            again.recorder.named("bklite-verify-run").inputs.triggers,
            verify.inputs.triggers,
            "nothing changed, nothing re-runs",
        );
    });

    it("verifies the firewall after applying it, and is off with a warning when bklite:verify is false", async () => {
        const withFirewall = await runProgram(
            "prod",
            stackConfig("prod", {
                "bklite:security": {
                    hostFirewall: true,
                    rules: [{ port: "http", sources: ["10.0.0.0/8"], description: "console" }],
                },
            }),
        );
        const verify = withFirewall.recorder.named("bklite-verify-run");
        assert.ok(verify.dependencies.some((d) => d.endsWith("::bklite-firewall")));
        assert.deepStrictEqual(JSON.parse(verify.inputs.stdin).firewall, {
            stack: "prod",
            rules: [{ port: 8080, protocol: "tcp", sources: ["10.0.0.0/8"], description: "console", purpose: "http" }],
        });

        const { result: off, warnings } = await mocks.capturingWarnings(() =>
            runProgram("dev", stackConfig("dev", { "bklite:verify": false })),
        );
        assert.ok(!off.recorder.resources.some((r) => r.name.startsWith("bklite-verify")));
        assert.ok(
            warnings.some((w) => /bklite:verify is false: nothing proves this platform works/.test(w)),
            warnings.join("\n"),
        );
    });
});

describe("program upgrades", () => {
    it("backs up before any image changes: the containers' images wait for it, its triggers are every service's image", async () => {
        const config = stackConfig("dev");
        const run = await runProgram("dev", config);
        const backup = run.recorder.named("bklite-backup-run");
        assert.strictEqual(
            backup.inputs.create,
            "node bin/bklite backup --stack dev --stack-config - --dir backups --keep 5 --if-deployed",
        );
        assert.deepStrictEqual(Object.keys(backup.inputs.environment).sort(), [
            "BKLITE_FALKORDB_PASSWORD",
            "BKLITE_NATS_CA",
            "BKLITE_NATS_PASSWORD",
            // An upgrade from the release before meets NATS still running its config: its shared credential.
            "BKLITE_NATS_PREVIOUS_PASSWORD",
            "BKLITE_SECRET_KEY",
        ]);
        assert.strictEqual(
            backup.inputs.environment.BKLITE_NATS_PREVIOUS_PASSWORD,
            mockSecret("bklite-secrets-natsPassword"),
        );
        assert.ok(containsSecret(backup.rawInputs.environment), "the environment is secret");
        // The config as the program was given it, which the CLI's one parser reads back to the same StackConfig.
        const given = JSON.parse(backup.inputs.stdin);
        const parsed = stackConfigFromValues(given, "stdin");
        assert.deepStrictEqual(
            [parsed.runtime, parsed.ports.nats, parsed.backup],
            ["docker", 24222, { dir: "backups", keep: 5, beforeUpgrade: true }],
            "the stack's config on stdin",
        );
        assert.ok(
            Object.keys(given.values).every((k) => !/password|secretKey/i.test(k)),
            "secrets are only named, never passed",
        );
        assert.strictEqual(
            backup.inputs.update,
            "echo 'no image changed: no backup needed'",
            "a change that is no upgrade takes no backup",
        );
        const images = run.outputs.images as Record<string, string>;
        assert.deepStrictEqual(
            backup.inputs.triggers,
            Object.keys(images)
                .sort()
                .map((s) => `${s}=${images[s]}`),
        );
        const remoteImages = run.recorder.ofType("docker:index/remoteImage:RemoteImage");
        assert.ok(remoteImages.length > 0);
        for (const image of remoteImages) {
            assert.ok(
                image.dependencies.some((d) => d.endsWith("::bklite-backup-run")),
                `${image.name} (and so its containers) waits for the backup`,
            );
        }
        assert.ok(
            !JSON.stringify(run.recorder.named("bklite-backup").inputs).includes("mock"),
            "no secret in the component's inputs",
        );

        const again = await runProgram("dev", config);
        assert.deepStrictEqual(
            again.recorder.named("bklite-backup-run").inputs.triggers,
            backup.inputs.triggers,
            "nothing changed, no backup",
        );
        const upgraded = await runProgram(
            "dev",
            stackConfig("dev", {
                "bklite:images": { tag: "huangpu-v1.1" },
                "bklite:backup": { dir: "/srv/bklite-backups", keep: 3 },
            }),
        );
        const next = upgraded.recorder.named("bklite-backup-run");
        assert.strictEqual(
            next.inputs.create,
            "node bin/bklite backup --stack dev --stack-config - --dir /srv/bklite-backups --keep 3 --if-deployed",
        );
        assert.notDeepStrictEqual(next.inputs.triggers, backup.inputs.triggers, "a new release tag runs the backup");
        assert.ok(next.inputs.triggers.includes("server=bklite/server:huangpu-v1.1"), next.inputs.triggers.join(" "));
    });

    it("is off with a warning when bklite:backup.beforeUpgrade is false", async () => {
        const { result: off, warnings } = await mocks.capturingWarnings(() =>
            runProgram("dev", stackConfig("dev", { "bklite:backup": { beforeUpgrade: false } })),
        );
        assert.ok(!off.recorder.resources.some((r) => r.name.startsWith("bklite-backup")));
        const remoteImages = off.recorder.ofType("docker:index/remoteImage:RemoteImage");
        assert.ok(remoteImages.every((i) => !i.dependencies.some((d) => d.includes("backup"))));
        assert.ok(
            warnings.some((w) =>
                /bklite:backup\.beforeUpgrade is false: an image change replaces containers without a backup first/.test(
                    w,
                ),
            ),
            warnings.join("\n"),
        );
    });
});

describe("program rotating SECRET_KEY", () => {
    const newKey = "new-secret-key-0123456789abcdef";
    const oldKey = "old-secret-key-0123456789abcdef";

    it("re-encrypts the stored secrets while previousSecretKey is given, and never generates one", async () => {
        const run = await runProgram(
            "dev",
            { ...stackConfig("dev"), "bklite:secretKey": newKey, "bklite:previousSecretKey": oldKey },
            { secretKeys: ["bklite:secretKey", "bklite:previousSecretKey"] },
        );
        const apply = run.recorder.named("bklite-seed-apply");
        assert.strictEqual(apply.inputs.create, "node bin/bklite seed apply --spec - --docker-stack dev --reencrypt");
        assert.strictEqual(apply.inputs.environment.BKLITE_PREVIOUS_SECRET_KEY, oldKey);
        assert.strictEqual(apply.inputs.environment.BKLITE_SECRET_KEY, newKey);
        assert.ok(containsSecret(apply.rawInputs.environment), "the environment is secret");
        assert.ok(
            !run.recorder.ofType(RANDOM_PASSWORD).some((r) => /secretKey/i.test(r.name)),
            "neither key generated",
        );
        assert.ok(
            !run.recorder.named("bklite-docker-server").inputs.envs.some((e: string) => e.includes(oldKey)),
            "the server has only the new key",
        );

        const settled = await runProgram(
            "dev",
            { ...stackConfig("dev"), "bklite:secretKey": newKey },
            { secretKeys: ["bklite:secretKey"] },
        );
        const plain = settled.recorder.named("bklite-seed-apply");
        assert.strictEqual(plain.inputs.create, "node bin/bklite seed apply --spec - --docker-stack dev");
        assert.ok(!("BKLITE_PREVIOUS_SECRET_KEY" in plain.inputs.environment));
    });

    it("refuses a previous key without a new one, or the same key twice", async () => {
        for (const [config, expected] of [
            [
                { "bklite:previousSecretKey": oldKey },
                /bklite:previousSecretKey: \(secret, not shown\) is set but bklite:secretKey is not/,
            ],
            [
                { "bklite:previousSecretKey": newKey, "bklite:secretKey": newKey },
                /bklite:previousSecretKey: \(secret, not shown\) is the same as bklite:secretKey/,
            ],
        ] as Array<[Record<string, string>, RegExp]>) {
            await assert.rejects(
                runProgram("dev", { ...stackConfig("dev"), ...config }, { secretKeys: Object.keys(config) }),
                (err: Error) => {
                    assert.match(err.message, expected);
                    assert.ok(!err.message.includes(oldKey) && !err.message.includes(newKey), "no secret printed");
                    return true;
                },
            );
        }
    });
});

describe("program with a bad config", () => {
    it("registers nothing and lists every problem", async () => {
        const bad = stackConfig("dev", {
            "bklite:hostAddress": undefined,
            "bklite:regions": [{ name: "管理网", nodeServerUrl: "null" }],
        });
        let run: ProgramRun | undefined;
        let error: Error | undefined;
        try {
            run = await runProgram("dev", bad);
        } catch (err) {
            error = err as Error;
        }
        assert.ok(error, "the program fails");
        assert.strictEqual(run, undefined);
        assert.deepStrictEqual(mocks.lastRecorder?.resources, [], "no resource was registered");
        assert.match(error.message, /2 problems/);
        assert.match(error.message, /bklite:hostAddress: is missing/);
        assert.match(error.message, /bklite:regions\[0\]\.nodeServerUrl = "null"/);
    });
});

describe("program in preview", () => {
    it("registers the same resources while provider outputs are unknown", async () => {
        const run = await runProgram("prod", stackConfig("prod"), { preview: true });
        assert.strictEqual(run.recorder.ofType(CONTAINER).length, SERVICE_NAMES.length);
        assert.strictEqual(run.recorder.ofType(VOLUME).length, 6);
    });
});
