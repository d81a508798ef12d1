import * as path from "path";
import { NATS_USER } from "../src/services/regions";
import { stackWorkloads } from "../src/services/stack";
import { FALKORDB_PORT } from "../src/services/catalog/falkordb";
import { hasFalkordb, takeBackup } from "../src/backup/backup";
import { checkBackup } from "../src/backup/manifest";
import { restoreBackup } from "../src/backup/restore";
import { byteMeter } from "../src/backup/transfer";
import { formatBytes } from "../src/supply/bundle";
import { loadStackConfig } from "../src/config/stackFiles";
import { StackConfig } from "../src/config/types";
import { backupKeepProblem } from "../src/config/keys";
import { InputError } from "../src/util/inputError";
import { NatsEndpoint } from "../src/nats/client";
import { runtimeOf } from "../src/runtimes";
import { Runtime, RuntimeAccess } from "../src/runtimes/runtime";
import { SEED_ENV, natsEndpointFromEnv } from "../src/seed/connection";
import { VERIFY_SECRETS } from "../src/verify/env";
import { CommandHandler } from "./commands";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

/** Where the stack runs, as the CLI reaches it. */
interface StackAccess {
    stack: string;
    config: StackConfig;
    runtime: Runtime;
    access: RuntimeAccess;
}

/**
 * The stack's validated config as the program hands it over (`--stack-config -`), checked for the fields the backup
 * uses; the program's own validation made it.
 */
function givenStackConfig(raw: unknown): StackConfig {
    const c = raw as Partial<StackConfig> | null;
    const problems = [
        ...(c?.runtime === "docker" || c?.runtime === "kubernetes" ? [] : ["runtime must be docker or kubernetes"]),
        ...(Number.isInteger(c?.ports?.nats) ? [] : ["ports.nats must be a port"]),
        ...(Array.isArray(c?.installApps) && c!.installApps.every((a) => typeof a === "string")
            ? []
            : ["installApps must be a list of apps"]),
        ...(typeof c?.kubernetes?.namespace === "string" ? [] : ["kubernetes.namespace must be a name"]),
        ...(typeof c?.images === "object" && c?.images !== null ? [] : ["images must be an object"]),
    ];
    if (problems.length > 0) {
        throw new UsageError(`--stack-config is not a stack config as the program renders it: ${problems.join("; ")}`);
    }
    return c as StackConfig;
}

function stackAccess(values: Record<string, unknown>): StackAccess {
    const stack = values.stack as string;
    const config =
        values["stack-config"] === undefined
            ? loadStackConfig(path.resolve((values["project-dir"] as string | undefined) ?? "."), stack)
            : givenStackConfig(readJsonOption("stack-config", values["stack-config"] as string));
    const runtime = runtimeOf(config.runtime);
    return { stack, config, runtime, access: runtime.access({ stack, config, workloads: stackWorkloads(config) }) };
}

/** The secrets and NATS endpoint from the environment, every missing variable named at once; NATS defaults to the stack's. */
function secretsFromEnv(access: StackAccess) {
    const env = process.env;
    const falkordb = hasFalkordb(access.config);
    const missing = [
        SEED_ENV.secretKey,
        SEED_ENV.natsPassword,
        ...(falkordb ? [VERIFY_SECRETS.falkordbPassword] : []),
    ].filter((name) => !env[name]);
    if (missing.length > 0) {
        throw new InputError(
            `missing environment: ${missing.join(", ")} (secrets come from the environment, never from arguments)`,
        );
    }
    const natsUrl = env[SEED_ENV.natsUrl] || `tls://${access.runtime.commandAddress(access.config, "nats")}`;
    const nats = natsEndpointFromEnv({
        ...env,
        [SEED_ENV.natsUrl]: natsUrl,
        [SEED_ENV.natsUser]: env[SEED_ENV.natsUser] || NATS_USER,
    });
    return {
        nats,
        bucket: env[SEED_ENV.bucket] || undefined,
        secretKey: env[SEED_ENV.secretKey]!,
        previousSecretKey: env[SEED_ENV.previousSecretKey] || undefined,
        falkordbPassword: falkordb ? env[VERIFY_SECRETS.falkordbPassword] : undefined,
    };
}

/** FalkorDB as this machine reaches it: its container's address, or a port-forward to its Service. */
function falkordbAddress({ access }: StackAccess): () => Promise<string> {
    return () => access.address("falkordb", FALKORDB_PORT);
}

/** Runs `fn` with NATS reachable: directly, or through a port-forward on a cluster. */
async function withNats<T>(
    { access }: StackAccess,
    nats: NatsEndpoint,
    fn: (nats: NatsEndpoint) => Promise<T>,
): Promise<T> {
    return fn({ ...nats, url: await access.reach(nats.url) });
}

/** `--keep N`, checked by the rule `bklite:backup.keep` follows. */
function keepOption(value: unknown): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    const problem = backupKeepProblem(Number(value));
    if (problem) {
        throw new UsageError(`--keep ${problem}`);
    }
    return Number(value);
}

/** `bklite backup`: progress on stderr, the backup's directory and sizes as JSON on stdout. */
export const backup: CommandHandler = async ({ values, out, err }) => {
    const keep = keepOption(values.keep);
    const parent = path.resolve(values.dir as string);
    const access = stackAccess(values);
    const log = (line: string) => err.write(`backup: ${line}\n`);
    if (values["if-deployed"] === true && (await access.access.state("postgres")) === "absent") {
        log(`stack ${access.stack} has no PostgreSQL in ${access.access.where} yet: nothing to back up`);
        out.write(`${JSON.stringify({ skipped: "not deployed" })}\n`);
        return 0;
    }
    const secrets = secretsFromEnv(access);
    const result = await withNats(access, secrets.nats, (nats) =>
        takeBackup(
            {
                stack: access.stack,
                config: access.config,
                access: access.access,
                nats,
                bucket: secrets.bucket,
                secretKey: secrets.secretKey,
                previousSecretKey: secrets.previousSecretKey,
                ...(secrets.falkordbPassword !== undefined
                    ? { falkordb: { address: falkordbAddress(access), password: secrets.falkordbPassword } }
                    : {}),
                log,
            },
            parent,
            { keep },
        ),
    );
    const m = result.manifest;
    out.write(
        `${JSON.stringify({ dir: result.dir, bytes: m.files.reduce((sum, f) => sum + f.bytes, 0), files: m.files.length, objects: m.objects.count, streams: m.streams.names, falkordbKeys: m.falkordb?.keys, removed: result.removed })}\n`,
    );
    return 0;
};

/** `bklite backup verify DIR`: every file against the manifest; exit 1 naming each damaged one. */
export const backupVerify: CommandHandler = async ({ positionals, out, err }) => {
    const dir = path.resolve(positionals[0]);
    const meter = byteMeter((line) => err.write(`backup verify: ${line}\n`), `reading ${dir}`);
    const checked = await checkBackup(dir, (n) => meter.add(n));
    meter.done();
    const m = checked.manifest;
    if (checked.problems.length > 0) {
        out.write(`damaged: ${dir}\n${checked.problems.map((p) => `  - ${p}`).join("\n")}\n`);
        return 1;
    }
    out.write(
        `ok: ${dir}: ${m.files.length} files, ${formatBytes(checked.bytes)}, as the manifest lists them (stack ${m.stack}, taken ${m.createdAt}; ${m.objects.count} objects${m.falkordb ? `, ${m.falkordb.keys} FalkorDB keys` : ""})\n`,
    );
    return 0;
};

/** `bklite restore`: progress on stderr, a JSON summary on stdout; 130/143 when interrupted (the old data serving). */
export const restore: CommandHandler = async ({ values, out, err }) => {
    const dir = path.resolve(values.from as string);
    const access = stackAccess(values);
    const secrets = secretsFromEnv(access);
    const log = (line: string) => err.write(`restore: ${line}\n`);
    const controller = new AbortController();
    let interruptedBy: NodeJS.Signals | undefined;
    const interrupt = (signal: NodeJS.Signals) => {
        interruptedBy = signal;
        log(`${signal}: stopping; the old data stays in place`);
        controller.abort();
    };
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);
    try {
        const result = await withNats(access, secrets.nats, (nats) =>
            restoreBackup(dir, {
                stack: access.stack,
                config: access.config,
                access: access.access,
                nats,
                secretKey: secrets.secretKey,
                ...(secrets.falkordbPassword !== undefined
                    ? { falkordb: { address: falkordbAddress(access), password: secrets.falkordbPassword } }
                    : {}),
                log,
                signal: controller.signal,
            }),
        );
        const inPostgres = access.access.execHint("postgres");
        log(
            `done. Next: bklite verify --stack ${access.stack}; once it passes, drop the replaced database: ${inPostgres} dropdb -U postgres ${result.previousDatabase}`,
        );
        out.write(`${JSON.stringify(result)}\n`);
        return 0;
    } catch (e) {
        if (interruptedBy !== undefined) {
            log("interrupted: nothing was switched; the old data serves");
            return interruptedBy === "SIGINT" ? 130 : 143;
        }
        throw e;
    } finally {
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
        await access.access.close();
    }
};
