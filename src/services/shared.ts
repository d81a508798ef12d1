/**
 * What the services of a stack share: the names of the values bound at deploy time, where NATS and its CA are,
 * the database, and the addresses browsers and agents use. Plain data and pure functions.
 */
import type { StackConfig } from "../config/types";
import { AgentEndpoints, defaultNodeServerUrl, hostForUrl } from "./regions";
import { NATS_SERVER_USER } from "./natsAccounts";
import { WorkloadFile } from "./workload";
import { TextValue, ref, tpl } from "./template";

/** Names of the runtime values the specs refer to (secrets, keys and certificates). */
export const VALUE_REFS = {
    postgresAdminPassword: "postgresAdminPassword",
    postgresPassword: "postgresPassword",
    redisPassword: "redisPassword",
    natsPassword: "natsPassword",
    natsServerPassword: "natsServerPassword",
    secretKey: "secretKey",
    nextauthSecret: "nextauthSecret",
    adminPassword: "adminPassword",
    falkordbPassword: "falkordbPassword",
    minioPassword: "minioPassword",
    mlflowDatabasePassword: "mlflowDatabasePassword",
    natsCaCert: "natsCaCert",
    natsServerCert: "natsServerCert",
    natsServerKey: "natsServerKey",
} as const;

/** The server's database and the role that owns it (the superuser is only for the program's provider). */
export const DATABASE = { name: "bklite", owner: "bklite", superuser: "postgres" } as const;

/**
 * The service that holds every database the services declare, its port in the stack, and its superuser (whose
 * password only the program's own database provider and the backup's local-socket tools use).
 */
export const DATABASE_SERVER = {
    service: "postgres",
    port: 5432,
    superuser: DATABASE.superuser,
    superuserPassword: "postgresAdminPassword",
} as const;

/** The service that routes browsers and agents to the others (by their workloads' routes). */
export const INGRESS_SERVICE = "traefik";

/** JetStream object-store bucket and subject namespace of the server (NATS_NAMESPACE). */
export const NATS_NAMESPACE = "bklite";

/** Console login created by the server's init commands. */
export const ADMIN_USER = "admin";

/** Where every NATS client of the stack, and NATS itself, finds the stack's CA. */
export const NATS_CERT_DIR = "/etc/nats/certs";
export const NATS_CA_PATH = `${NATS_CERT_DIR}/ca.crt`;

/** NATS's client port inside the stack. */
export const NATS_PORT = 4222;

/** The CA file a NATS client mounts to verify the server. */
export const NATS_CA_FILE: WorkloadFile = {
    path: NATS_CA_PATH,
    content: tpl`${ref(VALUE_REFS.natsCaCert)}`,
    mode: "0644",
};

/** NATS inside the stack, with the server side's credentials, as clients given one URL take it. */
export function natsServiceUrl(): TextValue {
    return tpl`tls://${NATS_SERVER_USER}:${ref(VALUE_REFS.natsServerPassword)}@nats:${NATS_PORT}`;
}

/** The public URL of the console: configured, or the ingress where browsers reach it. */
export function publicUrl(config: Pick<StackConfig, "publicUrl">, endpoints: AgentEndpoints): string {
    return config.publicUrl || defaultNodeServerUrl(endpoints);
}

/** The NATS endpoint agents connect to. */
export function natsAgentEndpoint(endpoints: AgentEndpoints): string {
    return `tls://${hostForUrl(endpoints.natsHost)}:${endpoints.natsPort}`;
}
