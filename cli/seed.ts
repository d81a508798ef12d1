import { accessFromOptions } from "../src/runtimes";
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

const ADMIN_PASSWORD = VERIFY_SECRETS.adminPassword;

/** `bklite seed apply`. Progress on stderr; the JSON summary on stdout. */
export const seedApply: CommandHandler = async ({ values, out, err }) => {
    const waitSeconds = values["wait-seconds"] === undefined ? 900 : Number(values["wait-seconds"]);
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
        throw new UsageError("--wait-seconds must be a number of seconds");
    }
    if (values["kube-namespace"] === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const given = stackOrSpec(values, "seed");
    const target = given.stack === undefined ? undefined : stackTarget(values, given.stack);
    const spec = parseSeedSpec(target ? renderedSpec(target) : readJsonOption("spec", given.spec!));
    const connection = connectionFromEnv(process.env, spec.packages.length > 0);
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
        const natsUrl = spec.packages.length > 0 ? await access.reach(connection.natsUrl) : connection.natsUrl;
        const summary = await applySeed(
            spec,
            { ...connection, pgUrl, natsUrl },
            {
                force: values.force === true,
                reencrypt,
                migrationTimeoutMs: waitSeconds * 1000,
                log: (line) => err.write(`${line}\n`),
            },
        );
        out.write(`${JSON.stringify(summary)}\n`);
        return 0;
    } finally {
        await access.close();
    }
};

/** The seed spec of a stack as the program renders it, its package paths from the project directory. */
function renderedSpec({ config, projectDir }: StackTarget): unknown {
    const missing = [
        SEED_ENV.natsPassword,
        ...(config.installApps.includes("system_mgmt") ? [ADMIN_PASSWORD] : []),
    ].filter((name) => !process.env[name]);
    if (missing.length > 0) {
        throw new InputError(`missing environment: ${missing.join(", ")} (the stack's spec holds them; see --stack)`);
    }
    const spec = seedSpecOf(config, {
        natsPassword: process.env[SEED_ENV.natsPassword]!,
        adminPassword: process.env[ADMIN_PASSWORD] ?? "",
    });
    return { ...spec, packages: spec.packages.map((p) => ({ ...p, file: path.resolve(projectDir, p.file) })) };
}
