/**
 * `bklite restore`: a backup back into a running stack, every piece of data the stack's services declare that the
 * backup holds. Checked before anything changes (every file against the manifest, the SECRET_KEY against its
 * fingerprint); then the services that write the databases (and those that depend on them) are stopped, each dump is
 * restored into a new database beside the serving one, the objects and streams are put back, and only then are the
 * databases switched, all in one transaction; the key and S3 stores last. Until the switch the old databases are what
 * serves: a failure or an interruption (SIGINT, SIGTERM) drops the new ones and starts the services again on the old.
 */
import { StackConfig } from "../config/types";
import { RuntimeAccess, Stopped } from "../runtimes/runtime";
import { DATABASE_SERVER } from "../services/shared";
import { stackDataOf } from "../services/stack";
import { Workload } from "../services/workload";
import { InputError } from "../util/inputError";
import { BackupManifest, checkBackup, fingerprintMatches } from "./manifest";
import { StoreContext } from "./stores/context";
import { dropStaged, stageDatabases, switchDatabases } from "./stores/databases";
import { restoreKeyspace } from "./stores/keyspaces";
import { restoreObjectStore } from "./stores/objectStores";
import { restoreS3 } from "./stores/s3";
import { restoreStreams } from "./stores/streams";
import { byteMeter } from "./transfer";

export interface RestoreTarget extends StoreContext {
    stack: string;
    config: StackConfig;
    /** The stack's workloads: who depends on whom, for what to stop. */
    workloads: ReadonlyArray<Workload>;
    secretKey: string;
}

export interface RestoreResult {
    /** What each replaced database is called now (kept until the operator drops it). */
    previousDatabases: Record<string, string>;
    objects: { restored: number; unchanged: number };
    streams: { created: string[]; updated: string[]; unchanged: string[] };
    keyspaces: Record<string, { restored: number; deleted: number }>;
    s3: Record<string, { restored: number; deleted: number }>;
}

/** Checks a backup before anything changes: its files, and that SECRET_KEY is the key its secret values need. */
export async function checkRestorable(
    dir: string,
    secretKey: string,
    log: (line: string) => void,
): Promise<BackupManifest> {
    const meter = byteMeter(log, `checking ${dir}`);
    const checked = await checkBackup(dir, (n) => meter.add(n));
    if (checked.problems.length > 0) {
        throw new InputError(
            `the backup ${dir} is damaged; nothing was changed:\n${checked.problems.map((p) => `  - ${p}`).join("\n")}\nrestore another backup (bklite backup verify DIR checks one)`,
        );
    }
    meter.done("every file matches the manifest");
    if (!fingerprintMatches(checked.manifest.secretKey, secretKey)) {
        throw new InputError(
            `the backup ${dir} was taken with another SECRET_KEY than BKLITE_SECRET_KEY: its secret SidecarEnv values would be unreadable; nothing was changed. ` +
                `Restore into a stack with the SECRET_KEY of stack ${checked.manifest.stack} (pulumi config set --secret bklite:secretKey <that key>, pulumi up) and set BKLITE_SECRET_KEY to it`,
        );
    }
    return checked.manifest;
}

/** What of the backup this stack declares; what it does not is said and left out. */
function restorable(manifest: BackupManifest, target: RestoreTarget) {
    const declares = (kind: "keyspace" | "s3", service: string) =>
        stackDataOf(target.config, kind).some((d) => d.service === service);
    const databaseNames = stackDataOf(target.config, "database").map(({ data }) => data.name);
    const databases = manifest.databases.filter((d) => databaseNames.includes(d.name));
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
    return { databases, keyspaces, s3 };
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

export async function restoreBackup(dir: string, target: RestoreTarget): Promise<RestoreResult> {
    const { access, log } = target;
    const manifest = await checkRestorable(dir, target.secretKey, log);
    if (manifest.stack !== target.stack) {
        log(`the backup is of stack ${manifest.stack}; restoring it into stack ${target.stack}`);
    }
    const state = await access.state(DATABASE_SERVER.service);
    if (state !== "running") {
        throw new Error(
            `PostgreSQL of stack ${target.stack} is ${state === "absent" ? "not deployed" : "stopped"} in ${access.where}: deploy the stack (pulumi up) before restoring into it; nothing was changed`,
        );
    }
    const parts = restorable(manifest, target);
    const stopped: Stopped[] = [];
    let switched = false;
    try {
        const services = stoppedDuringRestore(
            target,
            parts.databases.map((d) => d.name),
        );
        await stopServices(access, services, log, stopped);
        target.signal?.throwIfAborted();
        await stageDatabases(target, dir, parts.databases);
        const objects = { restored: 0, unchanged: 0 };
        for (const entry of manifest.objectStores) {
            const counts = await restoreObjectStore(target, dir, entry);
            objects.restored += counts.restored;
            objects.unchanged += counts.unchanged;
        }
        target.signal?.throwIfAborted();
        const streams = await restoreStreams(target, dir, manifest.streams.file);
        target.signal?.throwIfAborted();
        const previousDatabases = await switchDatabases(target, parts.databases, new Date());
        switched = true;
        for (const [name, previous] of Object.entries(previousDatabases)) {
            log(`database ${name} is the backup's now; the replaced one is kept as ${previous}`);
        }
        return { previousDatabases, objects, streams, ...(await restoreStores(dir, manifest, target, parts)) };
    } catch (err) {
        if (!switched) {
            log(`restore stopped before the switch (${(err as Error).message}): the old data still serves`);
            await dropStaged(target, parts.databases);
        }
        throw err;
    } finally {
        await startServices(stopped, log);
    }
}

/** The key and S3 stores the backup holds and the stack declares. */
async function restoreStores(
    dir: string,
    manifest: BackupManifest,
    target: RestoreTarget,
    parts: ReturnType<typeof restorable>,
): Promise<Pick<RestoreResult, "keyspaces" | "s3">> {
    const keyspaces: RestoreResult["keyspaces"] = {};
    for (const entry of parts.keyspaces) {
        const data = stackDataOf(target.config, "keyspace").find((d) => d.service === entry.service)!.data;
        keyspaces[entry.service] = await restoreKeyspace(target, dir, entry, data);
    }
    const sha256Of = (file: string) => manifest.files.find((f) => f.path === file)!.sha256;
    const s3: RestoreResult["s3"] = {};
    for (const entry of parts.s3) {
        const data = stackDataOf(target.config, "s3").find((d) => d.service === entry.service)!.data;
        s3[entry.service] = await restoreS3(target, dir, entry, data, sha256Of);
    }
    return { keyspaces, s3 };
}

/** Stops those running, each added to `stopped` as soon as it is (so a failure part-way starts them again). */
async function stopServices(
    access: RuntimeAccess,
    services: string[],
    log: (line: string) => void,
    stopped: Stopped[],
) {
    for (const service of services) {
        if ((await access.state(service)) === "running") {
            log(`stopping ${service} while the data is replaced`);
            stopped.push(await access.stop(service));
        }
    }
}

/** Starts them again, in the order they start (the reverse of the stops). */
async function startServices(stopped: ReadonlyArray<Stopped>, log: (line: string) => void): Promise<void> {
    for (const service of [...stopped].reverse()) {
        log(`starting ${service.service} again`);
        await service
            .start()
            .catch((err) =>
                log(`could not start ${service.service}: ${(err as Error).message}; start it by hand (pulumi up)`),
            );
    }
}
