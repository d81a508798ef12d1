/**
 * `bklite restore`: a backup back into a running stack, every store the stack's services declare that the backup
 * holds, all or nothing. The backup is checked whole before anything changes (check.ts; the SECRET_KEY against its
 * fingerprint). Then the services that write the databases (and those that depend on them) are stopped and every
 * store is changed with a way back written first into the restore's journal (journal.ts): the dumps go into new
 * databases beside the serving ones, objects, streams, FalkorDB's keys and S3 objects are replaced with copies of
 * what they replace kept, and last the databases are switched in one transaction and the journal marked committed.
 * A failure or an interruption before that mark undoes everything the journal lists; a process killed outright
 * leaves the journal, which the next `bklite restore` of the stack finishes (committed) or undoes (not).
 */
import * as crypto from "crypto";
import { DATABASE_SERVER } from "../services/shared";
import { stackDatabases, stackDataOf } from "../services/stack";
import { InputError } from "../util/inputError";
import { BackupContents, checkBackup } from "./check";
import { JournalEvent, RestoreJournal } from "./journal";
import { BackupManifest, fingerprintMatches } from "./manifest";
import { RestoreTarget } from "./stores/context";
import { stageDatabases, switchDatabases } from "./stores/databases";
import { restoreKeyspace } from "./stores/keyspaces";
import { restoreObjectStore } from "./stores/objectStores";
import { restoreS3 } from "./stores/s3";
import { restoreStreams } from "./stores/streams";
import { byteMeter } from "./transfer";
import { finishCommitted, startStopped, undoJournal } from "./undo";

export type { RestoreTarget } from "./stores/context";

/** The steps of a restore, in order; each one's changes are in the journal before they are made. */
export type RestorePhase = "stop" | "databases" | "objects" | "streams" | "keyspaces" | "s3" | "switch";

/** For tests: called after each phase (a throw there is a failure of that phase), and once it is committed. */
export interface RestoreHooks {
    afterPhase?(phase: RestorePhase): void | Promise<void>;
    afterCommit?(): void | Promise<void>;
}

export interface RestoreResult {
    /** What each replaced database is called now (kept until the operator drops it). */
    previousDatabases: Record<string, string>;
    objects: { restored: number; unchanged: number; deleted: number };
    streams: { created: string[]; updated: string[]; unchanged: string[] };
    keyspaces: Record<string, { restored: number; deleted: number }>;
    s3: Record<string, { restored: number; deleted: number }>;
}

/** A restore that did not complete: what it undid, and what it could not (left in the journal). */
export class RestoreFailed extends Error {
    constructor(
        readonly cause: Error,
        readonly phase: RestorePhase,
        readonly undone: string[],
        readonly notUndone: string[],
    ) {
        super(
            notUndone.length === 0
                ? `restore stopped during ${phase} (${cause.message}); everything it changed was put back (${undone.join("; ") || "nothing had changed"}): the old data serves`
                : `restore stopped during ${phase} (${cause.message}); put back: ${undone.join("; ") || "nothing"}; NOT put back: ${notUndone.join("; ")}`,
        );
    }
}

/** Checks a backup before anything changes: every file and index, and that SECRET_KEY is the key it needs. */
export async function checkRestorable(dir: string, secretKey: string, log: (line: string) => void) {
    const meter = byteMeter(log, `checking ${dir}`);
    const checked = await checkBackup(dir, (n) => meter.add(n));
    if (checked.problems.length > 0 || checked.contents === undefined) {
        throw new InputError(
            `the backup ${dir} is damaged; nothing was changed:\n${checked.problems.map((p) => `  - ${p}`).join("\n")}\nrestore another backup (bklite backup verify DIR checks one)`,
        );
    }
    meter.done("every file matches the manifest");
    checked.warnings.forEach((w) => log(`warning: ${w}`));
    if (!fingerprintMatches(checked.manifest.secretKey, secretKey)) {
        throw new InputError(
            `the backup ${dir} was taken with another SECRET_KEY than BKLITE_SECRET_KEY: its secret SidecarEnv values would be unreadable; nothing was changed. ` +
                `Restore into a stack with the SECRET_KEY of stack ${checked.manifest.stack} (pulumi config set --secret bklite:secretKey <that key>, pulumi up) and set BKLITE_SECRET_KEY to it`,
        );
    }
    return { manifest: checked.manifest, contents: checked.contents };
}

/** What of the backup this stack declares; what it does not is said and left out. */
function restorable(manifest: BackupManifest, target: RestoreTarget) {
    const declares = (kind: "keyspace" | "s3", service: string) =>
        stackDataOf(target.config, kind).some((d) => d.service === service);
    const owners = new Map(stackDatabases(target.config).map((d) => [d.name, d.owner]));
    const databases = manifest.databases.filter((d) => owners.has(d.name));
    const keyspaces = manifest.keyspaces.filter((k) => declares("keyspace", k.service));
    const s3 = manifest.s3.filter((k) => declares("s3", k.service));
    const left = [
        ...manifest.databases.filter((d) => !databases.includes(d)).map((d) => `database ${d.name}`),
        ...manifest.keyspaces.filter((k) => !keyspaces.includes(k)).map((k) => `${k.service}'s keys`),
        ...manifest.s3.filter((k) => !s3.includes(k)).map((k) => `${k.service}'s buckets`),
    ];
    for (const what of left) {
        target.log(`the backup holds ${what}, but no service of this stack declares it: it is not restored`);
    }
    return { databases, keyspaces, s3, owners };
}

/**
 * The services to stop while the databases are replaced: those that declare them, and those that depend on those
 * (the console on the server), the dependants first.
 */
export function stoppedDuringRestore(target: Pick<RestoreTarget, "config" | "workloads">, databases: string[]) {
    const writers = stackDataOf(target.config, "database")
        .filter(({ data }) => databases.includes(data.name))
        .map(({ service }) => service);
    const dependants = target.workloads
        .filter((w) => !writers.includes(w.name) && w.dependsOn.some((d) => writers.includes(d)))
        .map((w) => w.name);
    return [...new Set([...dependants, ...writers])];
}

async function requireDatabaseServer(target: RestoreTarget): Promise<void> {
    const state = await target.access.state(DATABASE_SERVER.service);
    if (state !== "running") {
        throw new Error(
            `PostgreSQL of stack ${target.stack} is ${state === "absent" ? "not deployed" : "stopped"} in ${target.access.where}: deploy the stack (pulumi up) before restoring into it; nothing was changed`,
        );
    }
}

export async function restoreBackup(
    dir: string,
    target: RestoreTarget,
    hooks: RestoreHooks = {},
): Promise<RestoreResult> {
    const { log } = target;
    const { manifest, contents } = await checkRestorable(dir, target.secretKey, log);
    if (manifest.stack !== target.stack) {
        log(`the backup is of stack ${manifest.stack}; restoring it into stack ${target.stack}`);
    }
    await requireDatabaseServer(target);
    if (RestoreJournal.pending(target.journalDir)) {
        await recoverRestore(target);
    }
    const journal = RestoreJournal.open(target.journalDir);
    const id = crypto.randomBytes(6).toString("hex");
    journal.append({ kind: "begin", stack: target.stack, backup: dir, id, startedAt: new Date().toISOString() });
    const run = { phase: "stop" as RestorePhase };
    let result: RestoreResult;
    try {
        result = await applyAll(dir, target, { manifest, contents, journal, id, run, hooks });
        journal.append({ kind: "committed" });
    } catch (err) {
        throw await rollBack(err as Error, run.phase, target, journal);
    }
    await hooks.afterCommit?.();
    await finishCommitted(journal.events(), target);
    journal.remove();
    return result;
}

interface Applying {
    manifest: BackupManifest;
    contents: BackupContents;
    journal: RestoreJournal;
    id: string;
    run: { phase: RestorePhase };
    hooks: RestoreHooks;
}

/** Every phase in turn, each journalled before it changes anything; the switch last. */
async function applyAll(dir: string, target: RestoreTarget, a: Applying): Promise<RestoreResult> {
    const parts = restorable(a.manifest, target);
    const phase = async <T>(name: RestorePhase, work: () => Promise<T>): Promise<T> => {
        a.run.phase = name;
        target.signal?.throwIfAborted();
        const done = await work();
        await a.hooks.afterPhase?.(name);
        target.signal?.throwIfAborted();
        return done;
    };
    const names = parts.databases.map((d) => d.name);
    await phase("stop", () => stopServices(target, stoppedDuringRestore(target, names), a.journal));
    const switchedAt = new Date();
    a.journal.append({ kind: "databases", names, switchedAt: switchedAt.toISOString() });
    await phase("databases", () => stageDatabases(target, dir, parts.databases, parts.owners));
    const objects = await phase("objects", () => restoreObjects(dir, target, a));
    const streams = await phase("streams", () => restoreStreams(target, a.contents.streams, a.journal));
    const keyspaces = await phase("keyspaces", async () => {
        const done: RestoreResult["keyspaces"] = {};
        for (const entry of parts.keyspaces) {
            const data = stackDataOf(target.config, "keyspace").find((d) => d.service === entry.service)!.data;
            done[entry.service] = await restoreKeyspace(target, dir, entry, data, { id: a.id, log: a.journal });
        }
        return done;
    });
    const s3 = await phase("s3", async () => {
        const done: RestoreResult["s3"] = {};
        for (const entry of parts.s3) {
            const data = stackDataOf(target.config, "s3").find((d) => d.service === entry.service)!.data;
            done[entry.service] = await restoreS3(target, dir, entry, a.contents.s3[entry.index], data, a.journal);
        }
        return done;
    });
    const previousDatabases = await phase("switch", () => switchDatabases(target, names, switchedAt));
    return { previousDatabases, objects, streams, keyspaces, s3 };
}

async function restoreObjects(dir: string, target: RestoreTarget, a: Applying) {
    const total = { restored: 0, unchanged: 0, deleted: 0 };
    for (const entry of a.manifest.objectStores) {
        const counts = await restoreObjectStore(target, dir, a.contents.objects[entry.index], a.journal);
        total.restored += counts.restored;
        total.unchanged += counts.unchanged;
        total.deleted += counts.deleted;
    }
    return total;
}

/** Stops those running, each journalled before it stops (so whatever happens next starts it again). */
async function stopServices(target: RestoreTarget, services: string[], journal: RestoreJournal): Promise<void> {
    for (const service of services) {
        if ((await target.access.state(service)) === "running") {
            target.log(`stopping ${service} while the data is replaced`);
            await target.access.stop(service, (stopped) => journal.append({ kind: "stopping", ...stopped }));
        }
    }
}

/** Undoes what the journal lists, uninterruptibly, then starts what was stopped; the journal goes once all is back. */
async function rollBack(err: Error, phase: RestorePhase, target: RestoreTarget, journal: RestoreJournal) {
    target.log(`restore stopped during ${phase}: ${err.message}; putting back what it changed`);
    const calm: RestoreTarget = { ...target, signal: undefined };
    const events = journal.events();
    const { undone, notUndone } = await undoJournal(events, calm, journal);
    await startStopped(events, calm);
    if (notUndone.length === 0) {
        journal.remove();
    } else {
        journal.release();
        notUndone.push(
            `the journal stays in ${journal.dir}: run \`bklite restore --stack ${target.stack} --recover\` once the cause is fixed`,
        );
    }
    return new RestoreFailed(err, phase, undone, notUndone);
}

/**
 * Finishes or undoes a restore that was killed before it ended, from its journal: committed ones are finished
 * (their copies dropped, the services started), others undone. Returns what it did, for the log.
 */
export async function recoverRestore(target: RestoreTarget): Promise<string> {
    const journal = RestoreJournal.open(target.journalDir);
    const events: JournalEvent[] = journal.events();
    const begin = events.find((e): e is Extract<JournalEvent, { kind: "begin" }> => e.kind === "begin");
    const what = begin ? `the restore of ${begin.backup} begun ${begin.startedAt}` : "a restore";
    if (events.some((e) => e.kind === "committed")) {
        target.log(`${what} was committed but not finished: finishing it`);
        await finishCommitted(events, target);
        journal.remove();
        return `${what} finished`;
    }
    target.log(`${what} did not complete: putting back what it changed`);
    const calm: RestoreTarget = { ...target, signal: undefined };
    const { undone, notUndone } = await undoJournal(events, calm, journal);
    await startStopped(events, calm);
    if (notUndone.length > 0) {
        journal.release();
        throw new Error(
            `could not put back ${notUndone.join("; ")}; the journal stays in ${journal.dir}: run again once the cause is fixed`,
        );
    }
    journal.remove();
    return `${what} undone (${undone.join("; ") || "nothing had changed"})`;
}
