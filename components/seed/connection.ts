/**
 * Where `bklite seed apply` connects and with which secrets: the BKLITE_* environment, never the command line (where
 * `ps` shows it). Kept apart from the seeding itself so the program and the CLI's help name the variables without
 * loading the PostgreSQL and NATS clients.
 */
import * as fs from "fs";

/** Connection settings for seeding. */
export interface SeedConnection {
    pgUrl: string;
    natsUrl: string;
    natsUser: string;
    natsPassword: string;
    /** PEM text of the CA that signed the NATS server certificate. */
    natsCa?: string;
    bucket: string;
    secretKey: string;
}

/** The variables, by the connection field each one sets. */
export const SEED_ENV = {
    pgUrl: "BKLITE_PG_URL",
    natsUrl: "BKLITE_NATS_URL",
    natsUser: "BKLITE_NATS_USER",
    natsPassword: "BKLITE_NATS_PASSWORD",
    natsCa: "BKLITE_NATS_CA",
    bucket: "BKLITE_NATS_BUCKET",
    secretKey: "BKLITE_SECRET_KEY",
} as const;

/** What each variable holds, for the CLI's help. */
export const SEED_ENV_HELP: Record<(typeof SEED_ENV)[keyof typeof SEED_ENV], string> = {
    BKLITE_PG_URL: "bk-lite's database, e.g. postgres://bklite:PASSWORD@127.0.0.1:25432/bklite (required)",
    BKLITE_NATS_URL: "NATS with JetStream, e.g. tls://127.0.0.1:24222 (required when the spec has packages)",
    BKLITE_NATS_USER: "NATS user (required when the spec has packages)",
    BKLITE_NATS_PASSWORD: "NATS password (required when the spec has packages)",
    BKLITE_NATS_CA: "the CA that signed NATS's certificate: PEM text or a file (optional)",
    BKLITE_NATS_BUCKET: "the JetStream object store bucket (default bklite)",
    BKLITE_SECRET_KEY: "the server's SECRET_KEY, which encrypts secret SidecarEnv values (required)",
};

/** Throws naming every one of `keys` whose variable is unset or empty. */
function requireEnv(env: NodeJS.ProcessEnv, keys: ReadonlyArray<keyof typeof SEED_ENV>): void {
    const missing = keys.filter((k) => !env[SEED_ENV[k]]).map((k) => SEED_ENV[k]);
    if (missing.length > 0) {
        throw new Error(`missing environment: ${missing.join(", ")} (connection settings and secrets come from the environment, never from arguments)`);
    }
}

/** The NATS CA: BKLITE_NATS_CA as PEM text, or the file it names; undefined when unset. */
function natsCaFromEnv(env: NodeJS.ProcessEnv): string | undefined {
    const value = env[SEED_ENV.natsCa] || undefined;
    if (value === undefined || value.includes("-----BEGIN")) {
        return value;
    }
    if (!fs.existsSync(value)) {
        throw new Error(`${SEED_ENV.natsCa} is neither a PEM certificate nor an existing file: ${value}`);
    }
    return fs.readFileSync(value, "utf8");
}

/** Reads the connection from the environment; throws naming every missing variable. */
export function connectionFromEnv(env: NodeJS.ProcessEnv, needNats: boolean): SeedConnection {
    requireEnv(env, ["pgUrl", "secretKey", ...(needNats ? (["natsUrl", "natsUser", "natsPassword"] as const) : [])]);
    return {
        pgUrl: env[SEED_ENV.pgUrl]!,
        natsUrl: env[SEED_ENV.natsUrl] ?? "",
        natsUser: env[SEED_ENV.natsUser] ?? "",
        natsPassword: env[SEED_ENV.natsPassword] ?? "",
        natsCa: natsCaFromEnv(env),
        bucket: env[SEED_ENV.bucket] || "bklite",
        secretKey: env[SEED_ENV.secretKey]!,
    };
}

/** NATS alone (`bklite streams apply`), from the same variables. */
export function natsEndpointFromEnv(env: NodeJS.ProcessEnv): { url: string; user: string; password: string; ca?: string } {
    requireEnv(env, ["natsUrl", "natsUser", "natsPassword"]);
    return { url: env[SEED_ENV.natsUrl]!, user: env[SEED_ENV.natsUser]!, password: env[SEED_ENV.natsPassword]!, ca: natsCaFromEnv(env) };
}
