/**
 * The bk-lite platform as service specs: server, web, postgres, nats, redis and traefik, with the facts of
 * bklite-facts §1, §2 and §7. Pure data: secrets and certificates appear only as references.
 */
import { NATS_USER, StackConfig, agentEndpoints } from "../config/validate";
import { resolveImageRef } from "../images/refs";
import { bindAddress, planSecurity } from "../security/plan";
import { WEB_ENTRYPOINT, renderTraefikRoutes } from "../ingress/traefikRoutes";
import { DEFAULT_IMAGES, SERVICE_NAMES, ServiceName } from "./catalog";
import { renderNatsConfig } from "./nats";
import { DEFAULT_REGION, defaultNodeServerUrl, hostForUrl, regionEnv } from "./regions";
import { FileSpec, HealthCheckSpec, ServiceSpec } from "./spec";
import { TextValue, joinText, ref, tpl } from "./template";

/** Names of the runtime values the specs refer to. */
export const VALUE_REFS = {
    postgresAdminPassword: "postgresAdminPassword",
    postgresPassword: "postgresPassword",
    redisPassword: "redisPassword",
    natsPassword: "natsPassword",
    secretKey: "secretKey",
    nextauthSecret: "nextauthSecret",
    adminPassword: "adminPassword",
    natsCaCert: "natsCaCert",
    natsServerCert: "natsServerCert",
    natsServerKey: "natsServerKey",
} as const;

/** The server's database and the role that owns it (the superuser is only for the program's provider). */
export const DATABASE = { name: "bklite", owner: "bklite", superuser: "postgres" } as const;

/** JetStream object-store bucket and subject namespace of the server (NATS_NAMESPACE). */
export const NATS_NAMESPACE = "bklite";

/** Console login created by the server's init commands. */
export const ADMIN_USER = "admin";

const NATS_CERT_DIR = "/etc/nats/certs";
/** The `redis` user of the official redis images (Debian and Alpine variants both use uid 999). */
const REDIS_USER = { uid: 999, gid: 999 };
const NATS_CA_PATH = `${NATS_CERT_DIR}/ca.crt`;
const SERVER_PORT = 8000;
const WEB_PORT = 3000;

/**
 * Server health: a start period long enough for migrations and init commands (seed 000 allowed 90 s), then
 * give up within 15 minutes rather than the 50 of 300 retries; see healthGiveUpSeconds.
 */
export const SERVER_HEALTH: HealthCheckSpec = {
    test: ["CMD", "curl", "-s", "-o", "/dev/null", `http://127.0.0.1:${SERVER_PORT}/`],
    intervalSeconds: 10,
    timeoutSeconds: 5,
    startPeriodSeconds: 120,
    retries: 50,
};

/** The public URL of the console: configured, or the ingress where browsers reach it. */
export function publicUrl(config: StackConfig): string {
    return config.publicUrl || defaultNodeServerUrl(agentEndpoints(config));
}

/** The NATS endpoint agents connect to. */
export function natsAgentEndpoint(config: StackConfig): string {
    const endpoints = agentEndpoints(config);
    return `tls://${hostForUrl(endpoints.hostAddress)}:${endpoints.natsPort}`;
}

/** The default region's SidecarEnv as the server's DEFAULT_ZONE_VAR_* variables (seeded by node_init). */
function defaultZoneEnv(config: StackConfig): Record<string, TextValue> {
    const region = config.regions.find((r) => r.name === DEFAULT_REGION) ?? { name: DEFAULT_REGION };
    const env = regionEnv(region, agentEndpoints(config));
    return Object.fromEntries(Object.entries(env).map(([key, value]) => [`DEFAULT_ZONE_VAR_${key}`, value]));
}

/**
 * On a cluster the program cannot reach PostgreSQL to declare the database, so PostgreSQL's own entrypoint creates
 * the role and the database it owns on first start, from this script (a Secret: it holds the role's password).
 */
export function postgresInitScript(): FileSpec {
    return {
        path: "/docker-entrypoint-initdb.d/10-bklite.sql",
        content: joinText(
            [
                tpl`CREATE ROLE ${DATABASE.owner} LOGIN PASSWORD '${ref(VALUE_REFS.postgresPassword)}';`,
                `CREATE DATABASE ${DATABASE.name} OWNER ${DATABASE.owner} ENCODING 'UTF8';`,
                "",
            ],
            "\n",
        ),
        // Read by the entrypoint after it drops to the postgres user.
        mode: "0644",
    };
}

/** Plans every service of the platform for the given config. */
export function planServices(config: StackConfig): ServiceSpec[] {
    const image = (service: ServiceName) => resolveImageRef(service, DEFAULT_IMAGES[service], config.images);
    // Published ports bind where the rules say they may be reached from: loopback when only the host may.
    const security = planSecurity(config);
    const bind = (port: number) => bindAddress(security, port) ?? "0.0.0.0";
    const redisUrl = (db: number) => tpl`redis://:${ref(VALUE_REFS.redisPassword)}@redis:6379/${db}`;

    const postgres: ServiceSpec = {
        name: "postgres",
        image: image("postgres"),
        env: {
            POSTGRES_USER: DATABASE.superuser,
            POSTGRES_PASSWORD: tpl`${ref(VALUE_REFS.postgresAdminPassword)}`,
            PGDATA: "/var/lib/postgresql/data/pgdata",
        },
        ports: [{ name: "postgres", containerPort: 5432, hostPort: config.ports.postgres, hostIp: "127.0.0.1" }],
        volumes: [{ name: "postgres-data", mountPath: "/var/lib/postgresql/data" }],
        files: [],
        // Over TCP, so the init-time server (socket only) does not count as ready.
        health: { test: ["CMD-SHELL", `pg_isready -h 127.0.0.1 -U ${DATABASE.superuser}`], intervalSeconds: 5, timeoutSeconds: 5, startPeriodSeconds: 30, retries: 24 },
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 60,
        stateful: true,
    };

    const redis: ServiceSpec = {
        name: "redis",
        image: image("redis"),
        // The password lives in a file, not on the command line where `ps` would show it.
        command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
        env: {},
        // Not published on a host; on a cluster its Service needs the port.
        ports: [{ name: "redis", containerPort: 6379 }],
        volumes: [{ name: "redis-data", mountPath: "/data" }],
        files: [
            {
                path: "/usr/local/etc/redis/redis.conf",
                content: joinText([tpl`requirepass ${ref(VALUE_REFS.redisPassword)}`, "dir /data", "appendonly yes", ""], "\n"),
                mode: "0600",
                // The image's entrypoint runs redis-server as user redis (uid 999), which must read the file.
                owner: REDIS_USER,
            },
        ],
        // An unauthenticated PING answers NOAUTH once the server is up; no password needed in the probe.
        health: { test: ["CMD-SHELL", "redis-cli ping | grep -Eq 'PONG|NOAUTH'"], intervalSeconds: 5, timeoutSeconds: 5, startPeriodSeconds: 10, retries: 12 },
        dependsOn: [],
        routes: [],
    };

    const nats: ServiceSpec = {
        name: "nats",
        image: image("nats"),
        command: ["nats-server", "--config", "/etc/nats/nats-server.conf"],
        env: {},
        ports: [{ name: "nats", containerPort: 4222, hostPort: config.ports.nats, hostIp: bind(config.ports.nats) }],
        volumes: [{ name: "nats-data", mountPath: "/data" }],
        files: [
            {
                path: "/etc/nats/nats-server.conf",
                content: renderNatsConfig({
                    clientPort: 4222,
                    monitorPort: 8222,
                    storeDir: "/data", // nats-server adds /jetstream
                    caFile: NATS_CA_PATH,
                    certFile: `${NATS_CERT_DIR}/server.crt`,
                    keyFile: `${NATS_CERT_DIR}/server.key`,
                    user: NATS_USER,
                    password: ref(VALUE_REFS.natsPassword),
                }),
                mode: "0600",
            },
            { path: NATS_CA_PATH, content: tpl`${ref(VALUE_REFS.natsCaCert)}`, mode: "0644" },
            { path: `${NATS_CERT_DIR}/server.crt`, content: tpl`${ref(VALUE_REFS.natsServerCert)}`, mode: "0644" },
            { path: `${NATS_CERT_DIR}/server.key`, content: tpl`${ref(VALUE_REFS.natsServerKey)}`, mode: "0600" },
        ],
        // JetStream-aware health endpoint on the monitor port (not published).
        health: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz"], intervalSeconds: 5, timeoutSeconds: 5, startPeriodSeconds: 10, retries: 12 },
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 30,
        stateful: true,
    };

    const server: ServiceSpec = {
        name: "server",
        image: image("server"),
        env: {
            DEBUG: "False",
            SECRET_KEY: tpl`${ref(VALUE_REFS.secretKey)}`,
            JWT_ALGORITHM: "HS256",
            NATS_SERVERS: tpl`tls://${NATS_USER}:${ref(VALUE_REFS.natsPassword)}@nats:4222`,
            NATS_TLS_ENABLED: "true",
            NATS_TLS_CA_FILE: NATS_CA_PATH,
            NATS_NAMESPACE,
            DB_ENGINE: "postgresql",
            DB_NAME: DATABASE.name,
            DB_USER: DATABASE.owner,
            DB_PASSWORD: tpl`${ref(VALUE_REFS.postgresPassword)}`,
            DB_HOST: "postgres",
            DB_PORT: "5432",
            ENABLE_CELERY: "true",
            CELERY_BROKER_URL: redisUrl(3),
            CELERY_RESULT_BACKEND: redisUrl(3),
            REDIS_CACHE_URL: redisUrl(1),
            INSTALL_APPS: config.installApps.join(","),
            TOP_GROUP: "Default",
            DEFAULT_GROUP_NAME: "Guest",
            ADMIN_PASSWORD: tpl`${ref(VALUE_REFS.adminPassword)}`,
            BK_INIT_ADMIN_PASSWORD: tpl`${ref(VALUE_REFS.adminPassword)}`,
            // Seed 000: `uv run` reached for PyPI on every start; the image's .venv is complete.
            UV_OFFLINE: "1",
            UV_NO_SYNC: "1",
            ...defaultZoneEnv(config),
        },
        ports: [{ name: "http", containerPort: SERVER_PORT }],
        volumes: [],
        files: [{ path: NATS_CA_PATH, content: tpl`${ref(VALUE_REFS.natsCaCert)}`, mode: "0644" }],
        health: SERVER_HEALTH,
        dependsOn: ["postgres", "redis", "nats"],
        routes: [{ pathPrefix: "/api/v1", port: SERVER_PORT, priority: 20 }],
        stopGraceSeconds: 30,
    };

    const web: ServiceSpec = {
        name: "web",
        image: image("web"),
        env: {
            NEXTAUTH_URL: publicUrl(config),
            NEXTAUTH_SECRET: tpl`${ref(VALUE_REFS.nextauthSecret)}`,
            NEXTAPI_URL: `http://server:${SERVER_PORT}`,
        },
        ports: [{ name: "http", containerPort: WEB_PORT }],
        volumes: [],
        files: [],
        health: { test: ["CMD", "wget", "--no-verbose", "--tries=1", "--spider", `http://127.0.0.1:${WEB_PORT}/`], intervalSeconds: 10, timeoutSeconds: 10, startPeriodSeconds: 30, retries: 12 },
        dependsOn: ["server"],
        routes: [{ pathPrefix: "/", port: WEB_PORT, priority: 10 }],
    };

    const routed = [server, web];
    const traefik: ServiceSpec = {
        name: "traefik",
        image: image("traefik"),
        // File provider only: no Docker socket is mounted anywhere. Dashboard and API off.
        command: [
            `--entrypoints.${WEB_ENTRYPOINT}.address=:80`,
            "--providers.file.filename=/etc/traefik/dynamic.yml",
            "--providers.file.watch=true",
            "--api.dashboard=false",
            "--ping=true",
            "--log.level=INFO",
            "--accesslog=true",
        ],
        env: {},
        ports: [{ name: "http", containerPort: 80, hostPort: config.ports.http, hostIp: bind(config.ports.http) }],
        volumes: [],
        files: [{ path: "/etc/traefik/dynamic.yml", content: renderTraefikRoutes(routed), mode: "0644" }],
        health: { test: ["CMD", "traefik", "healthcheck", "--ping"], intervalSeconds: 10, timeoutSeconds: 5, startPeriodSeconds: 10, retries: 6 },
        // After the server, so /api/v1 works as soon as agents can connect; web may still be starting.
        dependsOn: ["server"],
        routes: [],
    };

    return [postgres, redis, nats, server, web, traefik];
}

/** Every image ref the stack runs, sorted and unique: what the host or the bundle must provide. */
export function serviceImages(config: StackConfig): string[] {
    return [...new Set(planServices(config).map((s) => s.image))].sort();
}

/**
 * Where each image comes from on a connected machine (the default or override, before the registry and release tag
 * are applied: seed 001's `postgres:15-alpine` -> `<registry>/postgres:v0.3.5`) and the ref the stack runs.
 */
export function serviceImageSources(config: StackConfig): Array<{ source: string; target: string }> {
    const pairs = new Map<string, string>();
    for (const service of SERVICE_NAMES) {
        const target = resolveImageRef(service, DEFAULT_IMAGES[service], config.images);
        pairs.set(target, config.images.overrides?.[service] ?? DEFAULT_IMAGES[service]);
    }
    return [...pairs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([target, source]) => ({ source, target }));
}
