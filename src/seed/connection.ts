/**
 * Where `bklite seed apply` connects and with which secrets: the BKLITE_* environment, never the command line (where
 * `ps` shows it). Kept apart from the seeding itself so the program and the CLI's help name the variables without
 * loading the PostgreSQL and NATS clients.
 */
import * as fs from "fs";
import { InputError } from "../util/inputError";

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
    /** SECRET_KEY before a rotation: what --reencrypt decrypts old values with. */
    previousSecretKey?: string;
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
    previousSecretKey: "BKLITE_PREVIOUS_SECRET_KEY",
} as const;

/** What each variable holds, for the CLI's help. */
export const SEED_ENV_HELP: Record<(typeof SEED_ENV)[keyof typeof SEED_ENV], string> = {
    BKLITE_PG_URL: "bk-lite's database, e.g. postgres://bklite:PASSWORD@127.0.0.1:25432/bklite (required)",
    BKLITE_NATS_URL: "NATS with JetStream, e.g. tls://127.0.0.1:24222 (required)",
    BKLITE_NATS_USER: "NATS user: the server side's, bklite (required)",
    BKLITE_NATS_PASSWORD:
        "its password, the stack's natsServerPassword; also that of bklite-agents, which keeps the agents' package mirror (required)",
    BKLITE_NATS_CA: "the CA that signed NATS's certificate: PEM text or a file (optional)",
    BKLITE_NATS_BUCKET: "the JetStream object store bucket (default bklite)",
    BKLITE_SECRET_KEY: "the server's SECRET_KEY, which encrypts secret SidecarEnv values (required)",
    BKLITE_PREVIOUS_SECRET_KEY:
        "with --reencrypt: the SECRET_KEY before a rotation, to re-encrypt the values the spec does not set (optional)",
};

/** The most a BKLITE_NATS_CA file may hold: a CA bundle is a few KiB. */
const MAX_CA_BYTES = 1024 * 1024;

/** Why `value` is not a PostgreSQL URL the seed can use, or undefined. The value is never quoted: it holds a password. */
export function pgUrlProblem(value: string): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "is not a URL";
    }
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
        return `has the scheme ${url.protocol.replace(/:$/, "")}, not postgres`;
    }
    // A socket directory may come as ?host=/path instead of a host name.
    if (url.hostname === "" && !url.searchParams.has("host")) {
        return "has no host";
    }
    if (url.pathname.replace(/^\//, "") === "") {
        return "names no database";
    }
    return undefined;
}

/** Why `value` is not a NATS URL, or undefined. */
export function natsUrlProblem(value: string): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return "is not a URL";
    }
    if (url.protocol !== "nats:" && url.protocol !== "tls:") {
        return `has the scheme ${url.protocol.replace(/:$/, "")}, not nats or tls`;
    }
    if (url.hostname === "") {
        return "has no host";
    }
    if (url.username !== "" || url.password !== "") {
        return `holds credentials; give them in ${SEED_ENV.natsUser} and ${SEED_ENV.natsPassword}`;
    }
    if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "") {
        return "has a path or query; NATS takes only a host and a port";
    }
    return undefined;
}

const URL_FORMS = {
    pgUrl: {
        problem: pgUrlProblem,
        form: "postgres://USER:PASSWORD@HOST:PORT/DATABASE (percent-encode reserved characters in the password)",
    },
    natsUrl: { problem: natsUrlProblem, form: "tls://HOST:PORT" },
} as const;

/**
 * Every problem with the variables `keys` need, at once: unset, or a URL that is not one. Thrown as input to fix
 * (exit 2) before anything connects; no value is printed.
 */
function checkEnv(env: NodeJS.ProcessEnv, keys: ReadonlyArray<keyof typeof SEED_ENV>): void {
    const missing = keys.filter((k) => !env[SEED_ENV[k]]).map((k) => SEED_ENV[k]);
    const problems =
        missing.length > 0
            ? [
                  `missing environment: ${missing.join(", ")} (connection settings and secrets come from the environment, never from arguments)`,
              ]
            : [];
    for (const key of ["pgUrl", "natsUrl"] as const) {
        const value = env[SEED_ENV[key]];
        const problem = value ? URL_FORMS[key].problem(value) : undefined;
        if (problem !== undefined) {
            problems.push(`${SEED_ENV[key]} ${problem}: write it as ${URL_FORMS[key].form}`);
        }
    }
    if (problems.length > 0) {
        throw new InputError(problems.join("\n"));
    }
}

/** The NATS CA: BKLITE_NATS_CA as PEM text, or the file it names; undefined when unset. */
export function natsCaFromEnv(env: NodeJS.ProcessEnv): string | undefined {
    const value = env[SEED_ENV.natsCa] || undefined;
    if (value === undefined || value.includes("-----BEGIN")) {
        return value;
    }
    const stat = fs.statSync(value, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) {
        throw new InputError(`${SEED_ENV.natsCa} is neither a PEM certificate nor an existing file: ${value}`);
    }
    if (stat.size > MAX_CA_BYTES) {
        throw new InputError(
            `${SEED_ENV.natsCa} names ${value}, of ${stat.size} bytes: a CA certificate is a few KiB; name the stack's ca.crt`,
        );
    }
    const pem = fs.readFileSync(value, "utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new InputError(
            `${SEED_ENV.natsCa} names ${value}, which holds no PEM certificate: name the stack's ca.crt`,
        );
    }
    return pem;
}

/** Reads the connection from the environment; throws naming every missing or malformed variable. */
export function connectionFromEnv(env: NodeJS.ProcessEnv, needNats: boolean): SeedConnection {
    checkEnv(env, ["pgUrl", "secretKey", ...(needNats ? (["natsUrl", "natsUser", "natsPassword"] as const) : [])]);
    return {
        pgUrl: env[SEED_ENV.pgUrl]!,
        natsUrl: env[SEED_ENV.natsUrl] ?? "",
        natsUser: env[SEED_ENV.natsUser] ?? "",
        natsPassword: env[SEED_ENV.natsPassword] ?? "",
        natsCa: natsCaFromEnv(env),
        bucket: env[SEED_ENV.bucket] || "bklite",
        secretKey: env[SEED_ENV.secretKey]!,
        previousSecretKey: env[SEED_ENV.previousSecretKey] || undefined,
    };
}

/** NATS alone (`bklite streams apply`), from the same variables. */
export function natsEndpointFromEnv(env: NodeJS.ProcessEnv): {
    url: string;
    user: string;
    password: string;
    ca?: string;
} {
    checkEnv(env, ["natsUrl", "natsUser", "natsPassword"]);
    return {
        url: env[SEED_ENV.natsUrl]!,
        user: env[SEED_ENV.natsUser]!,
        password: env[SEED_ENV.natsPassword]!,
        ca: natsCaFromEnv(env),
    };
}
