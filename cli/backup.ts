import * as path from "path";
import { NATS_USER } from "../src/services/regions";
import { DATABASE_SERVER } from "../src/services/shared";
import { stackDataOf, stackWorkloads } from "../src/services/stack";
import { Workload } from "../src/services/workload";
import { takeBackup } from "../src/backup/backup";
import { secretEnv } from "../src/backup/env";
import { BackupManifest, checkBackup } from "../src/backup/manifest";
import { restoreBackup } from "../src/backup/restore";
import { byteMeter } from "../src/backup/transfer";
import { formatBytes } from "../src/supply/bundle";
import { loadStackConfig, stackConfigFromValues } from "../src/config/stackFiles";
import { StackConfig } from "../src/config/types";
import { backupKeepProblem } from "../src/config/keys";
import { InputError } from "../src/util/inputError";
import { runtimeOf } from "../src/runtimes";
import { Runtime, RuntimeAccess } from "../src/runtimes/runtime";
import { SEED_ENV, natsEndpointFromEnv } from "../src/seed/connection";
import { CommandHandler } from "./types";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

/** Where the stack runs, as the CLI reaches it. */
interface StackAccess {
    stack: string;
    config: StackConfig;
    runtime: Runtime;
    workloads: Workload[];
    access: RuntimeAccess;
}

function stackAccess(values: Record<string, unknown>): StackAccess {
    const stack = values.stack as string;
    const config =
        values["stack-config"] === undefined
            ? loadStackConfig(path.resolve((values["project-dir"] as string | undefined) ?? "."), stack)
            : stackConfigFromValues(
                  readJsonOption("stack-config", values["stack-config"] as string),
                  `--stack-config ${values["stack-config"] === "-" ? "(standard input)" : values["stack-config"]}`,
              );
    const runtime = runtimeOf(config.runtime);
    const workloads = stackWorkloads(config);
    return { stack, config, runtime, workloads, access: runtime.access({ stack, config, workloads }) };
}

/**
 * The secrets and NATS from the environment, every missing variable named at once: SECRET_KEY, NATS's password and
 * the password of every store the stack's services declare. NATS defaults to where the program's commands reach it,
 * through the stack's access.
 */
async function storeContext(target: StackAccess, log: (line: string) => void, signal?: AbortSignal) {
    const env = process.env;
    const stores = [...stackDataOf(target.config, "keyspace"), ...stackDataOf(target.config, "s3")];
    const passwordsNeeded = [...new Set(stores.map(({ data }) => data.password))];
    const missing = [SEED_ENV.secretKey, SEED_ENV.natsPassword, ...passwordsNeeded.map(secretEnv)].filter(
        (name) => !env[name],
    );
    if (missing.length > 0) {
        throw new InputError(
            `missing environment: ${missing.join(", ")} (secrets come from the environment, never from arguments)`,
        );
    }
    const natsUrl = env[SEED_ENV.natsUrl] || `tls://${target.runtime.commandAddress(target.config, "nats")}`;
    const nats = natsEndpointFromEnv({
        ...env,
        [SEED_ENV.natsUrl]: natsUrl,
        [SEED_ENV.natsUser]: env[SEED_ENV.natsUser] || NATS_USER,
    });
    return {
        stack: target.stack,
        config: target.config,
        access: target.access,
        nats: { ...nats, url: await target.access.reach(nats.url) },
        passwords: Object.fromEntries(passwordsNeeded.map((name) => [name, env[secretEnv(name)]!])),
        secretKey: env[SEED_ENV.secretKey]!,
        log,
        ...(signal ? { signal } : {}),
    };
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
    const target = stackAccess(values);
    const log = (line: string) => err.write(`backup: ${line}\n`);
    try {
        if (values["if-deployed"] === true && (await target.access.state(DATABASE_SERVER.service)) === "absent") {
            log(`stack ${target.stack} has no PostgreSQL in ${target.access.where} yet: nothing to back up`);
            out.write(`${JSON.stringify({ skipped: "not deployed" })}\n`);
            return 0;
        }
        const context = await storeContext(target, log);
        const previousSecretKey = process.env[SEED_ENV.previousSecretKey] || undefined;
        const result = await takeBackup({ ...context, ...(previousSecretKey ? { previousSecretKey } : {}) }, parent, {
            keep,
        });
        out.write(`${JSON.stringify(backupSummary(result.dir, result.manifest, result.removed))}\n`);
        return 0;
    } finally {
        await target.access.close();
    }
};

/** What `bklite backup` prints: where, how much, and what of each kind of data. */
function backupSummary(dir: string, m: BackupManifest, removed: string[]) {
    return {
        dir,
        bytes: m.files.reduce((sum, f) => sum + f.bytes, 0),
        files: m.files.length,
        databases: m.databases.map((d) => d.name),
        objects: m.objectStores.reduce((sum, o) => sum + o.count, 0),
        streams: m.streams.names,
        keys: Object.fromEntries(m.keyspaces.map((k) => [k.service, k.keys])),
        s3Objects: Object.fromEntries(m.s3.map((k) => [k.service, k.count])),
        removed,
    };
}

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
    const objects = m.objectStores.reduce((sum, o) => sum + o.count, 0);
    const keys = m.keyspaces.map((k) => `, ${k.keys} ${k.service} keys`).join("");
    const s3 = m.s3.map((k) => `, ${k.count} ${k.service} objects`).join("");
    const databases = m.databases.map((d) => d.name).join(", ") || "none";
    out.write(
        `ok: ${dir}: ${m.files.length} files, ${formatBytes(checked.bytes)}, as the manifest lists them (stack ${m.stack}, taken ${m.createdAt}; databases ${databases}; ${objects} objects${keys}${s3})\n`,
    );
    return 0;
};

/** `bklite restore`: progress on stderr, a JSON summary on stdout; 130/143 when interrupted (the old data serving). */
export const restore: CommandHandler = async ({ values, out, err }) => {
    const dir = path.resolve(values.from as string);
    const target = stackAccess(values);
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
        const context = await storeContext(target, log, controller.signal);
        const result = await restoreBackup(dir, { ...context, workloads: target.workloads });
        const drops = Object.values(result.previousDatabases)
            .map((name) => `${target.access.execHint(DATABASE_SERVER.service)} dropdb -U postgres ${name}`)
            .join("; ");
        log(
            `done. Next: bklite verify --stack ${target.stack}${drops ? `; once it passes, drop the replaced databases: ${drops}` : ""}`,
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
        await target.access.close();
    }
};
