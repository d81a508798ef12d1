import { Readable } from "stream";
import { accessFromOptions } from "../src/runtimes";
import { RuntimeAccess } from "../src/runtimes/runtime";
import { localNatsFiles, runHere } from "../src/seed/agentUsers";
import { applySeed } from "../src/seed/apply";
import { SEED_ENV, connectionFromEnv } from "../src/seed/connection";
import { parseSeedSpec } from "../src/seed/spec";
import { CommandHandler } from "./types";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";
import * as path from "path";
import { seedSpecOf } from "../src/seed/stackSpec";
import { VERIFY_SECRETS } from "../src/verify/env";
import { InputError } from "../src/util/inputError";
import { StackTarget, stackOrSpec, stackTarget } from "./stackTarget";
import { CONTAINER_NATS_FILES } from "../src/services/natsAgentUsers";
import { secretEnv } from "../src/backup/env";
import { agentPassword } from "../src/services/natsAccounts";

const ADMIN_PASSWORD = VERIFY_SECRETS.adminPassword;
/** The key the regions' agent passwords derive from, which a stack's rendered spec needs. */
const NATS_AGENT_KEY = secretEnv("natsAgentKey");

/** `bklite seed apply`. Progress on stderr; the JSON summary on stdout. */
export const seedApply: CommandHandler = async ({ values, out, err }) => {
    const waitSeconds = secondsOption(values, "wait-seconds", 900);
    const graceSeconds = secondsOption(values, "agent-grace-seconds", 600);
    if (values["kube-namespace"] === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const given = stackOrSpec(values, "seed");
    const target = given.stack === undefined ? undefined : stackTarget(values, given.stack);
    const spec = parseSeedSpec(target ? renderedSpec(target) : readJsonOption("spec", given.spec!));
    // NATS always: seeding writes the agents' NATS users with the regions' SidecarEnv.
    const connection = connectionFromEnv(process.env, true);
    const reencrypt = values.reencrypt === true;
    if (connection.previousSecretKey !== undefined && !reencrypt) {
        throw new UsageError(
            `${SEED_ENV.previousSecretKey} is set but --reencrypt is not: pass --reencrypt to re-encrypt the stored secrets under ${SEED_ENV.secretKey}, or unset it`,
        );
    }
    // PostgreSQL and NATS where the URLs say, reached through the stack's access (a cluster's port-forwards).
    const access = target?.access ?? accessFromOptions(values);
    try {
        const pgUrl = await access.reach(connection.pgUrl);
        const natsUrl = await access.reach(connection.natsUrl);
        const summary = await applySeed(
            spec,
            { ...connection, pgUrl, natsUrl },
            {
                force: values.force === true,
                reencrypt,
                migrationTimeoutMs: waitSeconds * 1000,
                log: (line) => err.write(`${line}\n`),
                natsAgents: natsBeside(values, access, graceSeconds),
            },
        );
        out.write(`${JSON.stringify(summary)}\n`);
        return 0;
    } finally {
        await access.close();
    }
};

/**
 * Where NATS runs, for the agents' users: in the stack's container (through its access), or with `--nats-config`
 * on this host, as a process with a config the program rendered.
 */
function natsBeside(values: Readonly<Record<string, unknown>>, access: RuntimeAccess, graceSeconds: number) {
    const config = values["nats-config"];
    const graceMs = graceSeconds * 1000;
    if (typeof config === "string") {
        return { run: runHere, files: localNatsFiles(config), graceMs };
    }
    return {
        run: (argv: string[], stdin: Readable) => access.exec("nats", argv, { stdin }),
        files: CONTAINER_NATS_FILES,
        graceMs,
    };
}

/** A number of seconds an option gives, or its default. */
function secondsOption(values: Readonly<Record<string, unknown>>, name: string, fallback: number): number {
    const seconds = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isFinite(seconds) || seconds < 0) {
        throw new UsageError(`--${name} must be a number of seconds`);
    }
    return seconds;
}

/** The seed spec of a stack as the program renders it, its package paths from the project directory. */
function renderedSpec({ config, projectDir }: StackTarget): unknown {
    const missing = [NATS_AGENT_KEY, ...(config.installApps.includes("system_mgmt") ? [ADMIN_PASSWORD] : [])].filter(
        (name) => !process.env[name],
    );
    if (missing.length > 0) {
        throw new InputError(`missing environment: ${missing.join(", ")} (the stack's spec holds them; see --stack)`);
    }
    const spec = seedSpecOf(config, {
        agentPassword: (region) => agentPassword(process.env[NATS_AGENT_KEY]!, region),
        adminPassword: process.env[ADMIN_PASSWORD] ?? "",
    });
    return { ...spec, packages: spec.packages.map((p) => ({ ...p, file: path.resolve(projectDir, p.file) })) };
}
