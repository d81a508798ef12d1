/**
 * `bklite restore`: a backup back into a running stack. Checked before anything changes (every file against the
 * manifest, the SECRET_KEY against its fingerprint); then the server and the web console are stopped, the dump is
 * restored into a new database beside the serving one, the objects and streams are put back, and only then are the
 * databases switched, in one transaction. Until the switch the old data is what serves: a failure or an interruption
 * (SIGINT, SIGTERM) drops the new database and starts the server and the console again on the old data.
 */
import * as fs from "fs";
import * as path from "path";
import { DATABASE } from "../services/shared";
import { StackConfig } from "../config/types";
import { InputError } from "../util/inputError";
import { NatsEndpoint, connectNats } from "../nats/client";
import { StreamSettings } from "../nats/streamSettings";
import { applyStreams } from "../nats/streams";
import { ObjectBucket } from "../seed/objectStore";
import { hasFalkordb, psql, utcStamp } from "./backup";
import { BackupManifest, ObjectEntry, checkBackup, fingerprintMatches } from "./manifest";
import { restoreRedis } from "./redisDump";
import { RuntimeAccess, Stopped } from "../runtimes/runtime";
import { byteMeter } from "./transfer";

export interface RestoreTarget {
    stack: string;
    config: StackConfig;
    access: RuntimeAccess;
    nats: NatsEndpoint;
    secretKey: string;
    falkordb?: { address: () => Promise<string>; password?: string };
    log: (line: string) => void;
    /** Aborted by SIGINT/SIGTERM: what runs is stopped and the old data left serving. */
    signal?: AbortSignal;
}

export interface RestoreResult {
    /** What the replaced database is called now (kept until the operator drops it). */
    previousDatabase: string;
    objects: { restored: number; unchanged: number };
    streams: { created: string[]; updated: string[]; unchanged: string[] };
    falkordb?: { restored: number; deleted: number };
}

/** The services that use the database and are kept stopped while it is replaced. */
export const STOPPED_DURING_RESTORE = ["server", "web"] as const;

/** `bklite_restoring`: where the dump goes before the switch. */
export function restoringDatabase(name: string): string {
    return `${name}_restoring`;
}

/** `bklite_before_restore_20261130t171500123z`: the replaced database, kept (lower case: an unquoted SQL name). */
export function previousDatabase(name: string, at: Date): string {
    return `${name}_before_restore_${utcStamp(at).toLowerCase()}`;
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

async function restoreObjects(
    dir: string,
    manifest: BackupManifest,
    target: RestoreTarget,
): Promise<RestoreResult["objects"]> {
    const index = JSON.parse(fs.readFileSync(path.join(dir, manifest.objects.index), "utf8")) as {
        bucket: string;
        objects: ObjectEntry[];
    };
    const nc = await connectNats(target.nats, "bklite-restore");
    const counts = { restored: 0, unchanged: 0 };
    try {
        const bucket = await ObjectBucket.open(nc, index.bucket);
        const meter = byteMeter(target.log, `object store ${index.bucket} (${index.objects.length} objects)`);
        for (const object of index.objects) {
            target.signal?.throwIfAborted();
            const current = await bucket.info(object.name);
            if (current?.digest === object.digest && current.size === object.size) {
                counts.unchanged++;
                continue;
            }
            const stored = await bucket.put(object.name, path.join(dir, object.file), {
                description: object.description ?? "",
            });
            if (stored.digest !== object.digest) {
                throw new Error(
                    `object ${object.name} was stored with ${stored.digest}, the backup says ${object.digest}`,
                );
            }
            meter.add(object.size);
            counts.restored++;
        }
        meter.done(`${counts.restored} restored, ${counts.unchanged} already as backed up`);
    } finally {
        await nc.close();
    }
    return counts;
}

export async function restoreBackup(dir: string, target: RestoreTarget): Promise<RestoreResult> {
    const { access, log } = target;
    const manifest = await checkRestorable(dir, target.secretKey, log);
    if (manifest.stack !== target.stack) {
        log(`the backup is of stack ${manifest.stack}; restoring it into stack ${target.stack}`);
    }
    const postgresState = await access.state("postgres");
    if (postgresState !== "running") {
        throw new Error(
            `PostgreSQL of stack ${target.stack} is ${postgresState === "absent" ? "not deployed" : "stopped"} in ${access.where}: deploy the stack (pulumi up) before restoring into it; nothing was changed`,
        );
    }
    const withFalkordb = manifest.falkordb !== undefined && target.falkordb !== undefined && hasFalkordb(target.config);
    if (manifest.falkordb !== undefined && !withFalkordb) {
        log("the backup holds FalkorDB's graphs, but this stack does not install cmdb: they are not restored");
    }
    const name = manifest.database.name;
    const restoring = restoringDatabase(name);
    const previous = previousDatabase(name, new Date());
    const signal = target.signal;

    const stopped: Stopped[] = [];
    let switched = false;
    try {
        for (const service of STOPPED_DURING_RESTORE) {
            if ((await access.state(service)) === "running") {
                log(`stopping ${service} while the data is replaced`);
                stopped.push(await access.stop(service));
            }
        }
        signal?.throwIfAborted();
        // A new database beside the serving one (a leftover of an interrupted restore goes first).
        await psql(access, "postgres", `DROP DATABASE IF EXISTS ${restoring} WITH (FORCE)`, signal);
        await psql(
            access,
            "postgres",
            `CREATE DATABASE ${restoring} OWNER ${manifest.database.owner} ENCODING 'UTF8'`,
            signal,
        );
        log(`restoring the database into ${restoring}, beside the serving ${name}`);
        const meter = byteMeter(log, `database ${name} (pg_restore into ${restoring})`);
        const dump = fs.createReadStream(path.join(dir, manifest.database.file), { highWaterMark: 1024 * 1024 });
        dump.on("data", (chunk) => meter.add(chunk.length));
        await access.exec(
            "postgres",
            [
                "pg_restore",
                "-U",
                DATABASE.superuser,
                "-d",
                restoring,
                "--no-owner",
                `--role=${manifest.database.owner}`,
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
            ],
            { stdin: dump, signal },
        );
        meter.done();

        const objects = await restoreObjects(dir, manifest, target);
        signal?.throwIfAborted();
        const specs = (
            JSON.parse(fs.readFileSync(path.join(dir, manifest.streams.file), "utf8")) as { streams: StreamSettings[] }
        ).streams;
        const streams =
            specs.length === 0
                ? { created: [], updated: [], unchanged: [] }
                : await applyStreams(specs, target.nats, log);
        signal?.throwIfAborted();

        // The switch: nobody else is connected (the server is stopped); both renames or neither.
        await psql(
            access,
            "postgres",
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('${name}', '${restoring}') AND pid <> pg_backend_pid(); ` +
                `BEGIN; ALTER DATABASE ${name} RENAME TO ${previous}; ALTER DATABASE ${restoring} RENAME TO ${name}; COMMIT;`,
        );
        switched = true;
        log(`database ${name} is the backup's now; the replaced one is kept as ${previous}`);

        let falkordb: RestoreResult["falkordb"];
        if (withFalkordb) {
            const graphs = byteMeter(log, "falkordb");
            falkordb = await restoreRedis(
                await target.falkordb!.address(),
                target.falkordb!.password,
                path.join(dir, manifest.falkordb!.file),
                (n) => graphs.add(n),
            );
            graphs.done(`${falkordb.restored} keys restored, ${falkordb.deleted} not in the backup deleted`);
        }
        return { previousDatabase: previous, objects, streams, ...(falkordb ? { falkordb } : {}) };
    } catch (err) {
        if (!switched) {
            log(`restore stopped before the switch (${(err as Error).message}): the old data still serves`);
            await psql(access, "postgres", `DROP DATABASE IF EXISTS ${restoring} WITH (FORCE)`).catch((dropErr) =>
                log(`could not drop ${restoring}: ${(dropErr as Error).message}; the next restore drops it`),
            );
        }
        throw err;
    } finally {
        for (const service of stopped) {
            log(`starting ${service.service} again`);
            await service
                .start()
                .catch((startErr) =>
                    log(
                        `could not start ${service.service}: ${(startErr as Error).message}; start it by hand (pulumi up)`,
                    ),
                );
        }
    }
}
