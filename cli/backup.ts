import * as path from "path";
import { LEGACY_AGENT_USER, NATS_SERVER_USER } from "../src/services/natsAccounts";
import { acceptedEndpoint } from "../src/nats/client";
import { DATABASE_SERVER } from "../src/services/shared";
import { stackDataOf, stackWorkloads } from "../src/services/stack";
import { Workload } from "../src/services/workload";
import { takeBackup } from "../src/backup/backup";
import { NATS_PREVIOUS_PASSWORD, secretEnv } from "../src/backup/env";
import { checkBackup } from "../src/backup/check";
import { RestoreJournal, journalDir } from "../src/backup/journal";
import { BackupManifest } from "../src/backup/manifest";
import { RestoreFailed, recoverRestore, restoreBackup } from "../src/backup/restore";
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
        [SEED_ENV.natsUser]: env[SEED_ENV.natsUser] || NATS_SERVER_USER,
    });
    const previousPassword = env[NATS_PREVIOUS_PASSWORD];
    const reached = { ...nats, url: await target.access.reach(nats.url) };
    const previous = previousPassword ? { user: LEGACY_AGENT_USER, password: previousPassword } : undefined;
    return {
        stack: target.stack,
        config: target.config,
        access: target.access,
        nats: previous ? await acceptedEndpoint(reached, previous, log) : reached,
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

/**
 * SIGINT and SIGTERM abort `controller` while `work` runs (what runs inside the stack's services is stopped too);
 * `interrupted` says which arrived. A second signal is said and otherwise ignored: what is being undone finishes.
 */
async function interruptible<T>(
    log: (line: string) => void,
    onFirst: string,
    work: (signal: AbortSignal, interrupted: () => NodeJS.Signals | undefined) => Promise<T>,
): Promise<T> {
    const controller = new AbortController();
    let interruptedBy: NodeJS.Signals | undefined;
    const interrupt = (signal: NodeJS.Signals) => {
        if (interruptedBy !== undefined) {
            log(`${signal}: still putting things back; SIGKILL would leave them half done`);
            return;
        }
        interruptedBy = signal;
        log(`${signal}: ${onFirst}`);
        controller.abort(new Error(`interrupted by ${signal}`));
    };
    process.on("SIGINT", interrupt);
    process.on("SIGTERM", interrupt);
    try {
        return await work(controller.signal, () => interruptedBy);
    } finally {
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
    }
}

const exitFor = (signal: NodeJS.Signals) => (signal === "SIGINT" ? 130 : 143);

/** Refuses to work on a stack whose last restore did not end: its data may be half put back. */
function requireNoPendingRestore(stack: string): void {
    const dir = journalDir(stack);
    if (RestoreJournal.pending(dir)) {
        throw new InputError(
            `a restore of stack ${stack} did not end (its journal is in ${dir}): run \`bklite restore --stack ${stack} --recover\` first`,
        );
    }
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
        requireNoPendingRestore(target.stack);
        return await interruptible(log, "stopping; no backup is written", async (signal, interrupted) => {
            const context = await storeContext(target, log, signal);
            const previousSecretKey = process.env[SEED_ENV.previousSecretKey] || undefined;
            try {
                const source = { ...context, ...(previousSecretKey ? { previousSecretKey } : {}) };
                const result = await takeBackup(source, parent, { keep });
                out.write(`${JSON.stringify(backupSummary(result.dir, result.manifest, result.removed))}\n`);
                return 0;
            } catch (e) {
                const by = interrupted();
                if (by === undefined) {
                    throw e;
                }
                log("interrupted: no backup was written (its partial directory was removed, pg_dump stopped)");
                return exitFor(by);
            }
        });
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

/** `bklite backup verify DIR`: every file against the manifest, and what the indexes say; exit 1 naming each problem. */
export const backupVerify: CommandHandler = async ({ positionals, out, err }) => {
    const dir = path.resolve(positionals[0]);
    const meter = byteMeter((line) => err.write(`backup verify: ${line}\n`), `reading ${dir}`);
    const checked = await checkBackup(dir, (n) => meter.add(n));
    meter.done();
    checked.warnings.forEach((w) => err.write(`backup verify: warning: ${w}\n`));
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

/**
 * `bklite restore`: progress on stderr, a JSON summary on stdout. A failure or SIGINT/SIGTERM puts back everything
 * it changed (exit 1, 130 or 143, the old data serving); `--recover` finishes or undoes a restore that was killed.
 */
export const restore: CommandHandler = async ({ values, out, err }) => {
    const target = stackAccess(values);
    const log = (line: string) => err.write(`restore: ${line}\n`);
    if ((values.from === undefined) === (values.recover !== true)) {
        throw new UsageError(
            "restore takes --from DIR (a backup to restore) or --recover (an unfinished restore), one of them",
        );
    }
    try {
        return await interruptible(log, "stopping; what was changed is put back", async (signal, interrupted) => {
            const context = {
                ...(await storeContext(target, log, signal)),
                workloads: target.workloads,
                journalDir: journalDir(target.stack),
            };
            if (values.recover === true) {
                if (!RestoreJournal.pending(context.journalDir)) {
                    log(`no unfinished restore of stack ${target.stack} (nothing in ${context.journalDir})`);
                    return 0;
                }
                out.write(`${JSON.stringify({ recovered: await recoverRestore(context) })}\n`);
                return 0;
            }
            try {
                const result = await restoreBackup(path.resolve(values.from as string), context);
                const drops = Object.values(result.previousDatabases)
                    .map((name) => `${target.access.execHint(DATABASE_SERVER.service)} dropdb -U postgres ${name}`)
                    .join("; ");
                log(
                    `done. Next: bklite verify --stack ${target.stack}${drops ? `; once it passes, drop the replaced databases: ${drops}` : ""}`,
                );
                out.write(`${JSON.stringify(result)}\n`);
                return 0;
            } catch (e) {
                const by = interrupted();
                if (e instanceof RestoreFailed) {
                    log(e.message);
                    return by !== undefined ? exitFor(by) : 1;
                }
                throw e;
            }
        });
    } finally {
        await target.access.close();
    }
};
