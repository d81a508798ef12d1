/**
 * The bk-lite server (Django, uvicorn on 8000, Celery, the NATS listener): every app's API, behind /api/v1.
 * Its settings for the optional services come from those services' definitions (serverEnv).
 */
import { DATABASE, NATS_CA_FILE, NATS_CA_PATH, NATS_NAMESPACE, VALUE_REFS, natsServiceUrl } from "../shared";
import { ServiceDefinition } from "../definition";
import { AgentEndpoints, DEFAULT_REGION, regionEnv } from "../regions";
import { HealthCheck, healthCheck } from "../workload";
import { TextValue, ref, tpl } from "../template";
import type { StackConfig } from "../../config/types";

export const SERVER_PORT = 8000;

/**
 * Server health: a start period long enough for migrations and init commands (90 s were seen on a first start),
 * then give up within 15 minutes rather than the 50 of 300 retries; see healthGiveUpSeconds.
 */
export const SERVER_HEALTH: HealthCheck = healthCheck(
    ["CMD", "curl", "-s", "-o", "/dev/null", `http://127.0.0.1:${SERVER_PORT}/`],
    { startPeriodSeconds: 120, retries: 50 },
);

/** The default region's SidecarEnv as the server's DEFAULT_ZONE_VAR_* variables (seeded by node_init). */
function defaultZoneEnv(config: StackConfig, endpoints: AgentEndpoints): Record<string, TextValue> {
    const region = config.regions.find((r) => r.name === DEFAULT_REGION) ?? { name: DEFAULT_REGION };
    const env = regionEnv(region, endpoints);
    return Object.fromEntries(Object.entries(env).map(([key, value]) => [`DEFAULT_ZONE_VAR_${key}`, value]));
}

export const server: ServiceDefinition = {
    name: "server",
    defaultImage: "bklite/server:huangpu-v1.0",
    build: { context: "server", dockerfile: "server/support-files/release/Dockerfile" },
    data: [{ kind: "database", name: DATABASE.name, owner: DATABASE.owner, passwordRef: VALUE_REFS.postgresPassword }],
    workload: ({ config, image, endpoints }) => {
        const redisUrl = (db: number) => tpl`redis://:${ref(VALUE_REFS.redisPassword)}@redis:6379/${db}`;
        return {
            name: "server",
            image,
            env: {
                DEBUG: "False",
                SECRET_KEY: tpl`${ref(VALUE_REFS.secretKey)}`,
                JWT_ALGORITHM: "HS256",
                NATS_SERVERS: natsServiceUrl(),
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
                // Read by opspilot's chat helper only; the console login is set by seeding (see the README).
                ADMIN_PASSWORD: tpl`${ref(VALUE_REFS.adminPassword)}`,
                // Offline, `uv run` would reach for PyPI at every start; the image's .venv is complete.
                UV_OFFLINE: "1",
                UV_NO_SYNC: "1",
                ...defaultZoneEnv(config, endpoints),
            },
            ports: [{ name: "http", containerPort: SERVER_PORT }],
            files: [NATS_CA_FILE],
            health: SERVER_HEALTH,
            // NATS too: the console login is an RPC over NATS to the server's own listener.
            dependsOn: ["postgres", "redis", "nats"],
            routes: [{ pathPrefix: "/api/v1", port: SERVER_PORT, priority: 20 }],
            stopGraceSeconds: 30,
            // Its start migrates the database, and it runs celery beat and the NATS listener: never two at once.
            singleInstance: true,
        };
    },
};
