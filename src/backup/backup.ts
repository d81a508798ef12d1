/**
 * `bklite backup`: one directory per backup, written under a temporary name and renamed when complete, so a
 * directory with a manifest is always a whole backup. Consistent while the platform runs: pg_dump works from one
 * snapshot, and the object store is read only after it, so every package row in the dump has its object in the
 * backup (seeding stores the object before it writes the row).
 */
import * as fs from "fs";
import * as path from "path";
import { servicesFor } from "../services/catalog";
import { DATABASE, NATS_NAMESPACE } from "../services/shared";
import { imagesByService } from "../services/stack";
import { StackConfig } from "../config/types";
import { NatsEndpoint, connectNats } from "../nats/client";
import { StreamSettings } from "../nats/streamSettings";
import { settingsOf } from "../nats/streams";
import { aesDecrypt } from "../seed/aes";
import { ObjectBucket } from "../seed/objectStore";
import {
    BackupFile,
    BackupManifest,
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    ObjectEntry,
    SecretKeyFingerprint,
    fingerprintSecretKey,
} from "./manifest";
import { dumpRedis } from "./redisDump";
import { RuntimeAccess } from "../runtimes/runtime";
import { formatBytes } from "../supply/bundle";
import { byteMeter, trackedFile } from "./transfer";

/** Where the stack's data is and the secrets a backup needs. */
export interface BackupSource {
    stack: string;
    config: StackConfig;
    access: RuntimeAccess;
    nats: NatsEndpoint;
    bucket?: string;
    secretKey: string;
    /** While rotating SECRET_KEY, the stored values may still be under the previous key. */
    previousSecretKey?: string;
    /** FalkorDB's address as this machine reaches it, and its password: when cmdb is installed. */
    falkordb?: { address: () => Promise<string>; password?: string };
    log: (line: string) => void;
}

export interface BackupResult {
    dir: string;
    manifest: BackupManifest;
    /** Older backups of the stack removed by --keep. */
    removed: string[];
}

export const DATABASE_FILE = "postgres.dump";
export const OBJECTS_INDEX = "objects.json";
export const STREAMS_FILE = "streams.json";
export const FALKORDB_FILE = "falkordb.dump";
export const CONFIG_FILE = "config.json";

/** A UTC time to the millisecond as a name can hold it, sorting by time: `20261130T171500123Z`. */
export function utcStamp(at: Date): string {
    return at.toISOString().replace(/[-:.]/g, "");
}

/** `prod-20261130T171500123Z`: sorts by time, and names its stack. */
export function backupName(stack: string, at: Date): string {
    return `${stack}-${utcStamp(at)}`;
}

/** The stack's finished backups in `parent`, oldest first. */
export function stackBackups(parent: string, stack: string): string[] {
    if (!fs.existsSync(parent)) {
        return [];
    }
    const pattern = new RegExp(`^${stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d{8}T\\d{9}Z$`);
    return fs
        .readdirSync(parent)
        .filter((name) => pattern.test(name) && fs.existsSync(path.join(parent, name, MANIFEST_FILE)))
        .sort();
}

/** Runs psql inside the PostgreSQL service as its superuser (local socket: no password crosses anything). */
export function psql(access: RuntimeAccess, database: string, sql: string, signal?: AbortSignal): Promise<string> {
    return access.exec(
        "postgres",
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", DATABASE.superuser, "-d", database, "-c", sql],
        { signal },
    );
}

/**
 * Which key the stored secret SidecarEnv values decrypt with: the fingerprint must name the key a restore needs.
 * Throws when they decrypt with neither key given.
 */
async function keyOfStoredSecrets(source: BackupSource): Promise<string> {
    const exists =
        (await psql(source.access, DATABASE.name, "SELECT to_regclass('node_mgmt_sidecarenv') IS NOT NULL")).trim() ===
        "t";
    const stored = exists
        ? (
              await psql(
                  source.access,
                  DATABASE.name,
                  "SELECT value FROM node_mgmt_sidecarenv WHERE type = 'secret' ORDER BY id LIMIT 1",
              )
          ).trim()
        : "";
    if (stored === "") {
        return source.secretKey;
    }
    for (const key of [source.secretKey, source.previousSecretKey]) {
        if (key === undefined) {
            continue;
        }
        try {
            aesDecrypt(stored, key);
            return key;
        } catch {
            // not this key
        }
    }
    throw new Error(
        "the stored secret SidecarEnv values do not decrypt with BKLITE_SECRET_KEY" +
            (source.previousSecretKey ? " nor BKLITE_PREVIOUS_SECRET_KEY" : "") +
            ": set it to the server's SECRET_KEY (the stack's bklite:secretKey); a backup must record the key its data needs",
    );
}

/** Removes the stack's oldest backups beyond `keep`; returns their names. */
export function rotateBackups(parent: string, stack: string, keep: number): string[] {
    const all = stackBackups(parent, stack);
    const removed = all.slice(0, Math.max(all.length - keep, 0));
    for (const name of removed) {
        fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
    return removed;
}

export async function takeBackup(
    source: BackupSource,
    parent: string,
    options: { keep?: number; now?: Date } = {},
): Promise<BackupResult> {
    const { access, log } = source;
    const state = await access.state("postgres");
    if (state !== "running") {
        throw new Error(
            `PostgreSQL of stack ${source.stack} is ${state === "absent" ? "not deployed" : "stopped"} in ${access.where}: start it (pulumi up) before taking a backup`,
        );
    }
    const createdAt = options.now ?? new Date();
    const name = backupName(source.stack, createdAt);
    const final = path.join(parent, name);
    if (fs.existsSync(final)) {
        throw new Error(`${final} exists already: run again`);
    }
    const work = path.join(parent, `.${name}.partial`);
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    const files: BackupFile[] = [];
    try {
        const fingerprintKey = await keyOfStoredSecrets(source);
        const serverVersion = (await psql(access, DATABASE.name, "SHOW server_version")).trim();

        // 1. The database, from one snapshot: everything after it is at least as new.
        const dumpMeter = byteMeter(log, `database ${DATABASE.name} (pg_dump)`);
        const dump = trackedFile(work, DATABASE_FILE, (n) => dumpMeter.add(n));
        await access.exec(
            "postgres",
            ["pg_dump", "-U", DATABASE.superuser, "-d", DATABASE.name, "--format=custom", "--no-password"],
            { stdout: dump.stream },
        );
        files.push(await dump.close());
        dumpMeter.done();

        // 2. The object store, read after the snapshot; then the streams' settings.
        const bucketName = source.bucket ?? NATS_NAMESPACE;
        const nc = await connectNats(source.nats, "bklite-backup");
        const objects: ObjectEntry[] = [];
        let streams: StreamSettings[] = [];
        try {
            const bucket = await ObjectBucket.find(nc, bucketName);
            const listed = bucket ? await bucket.list() : [];
            const meter = byteMeter(log, `object store ${bucketName} (${listed.length} objects)`);
            for (const [i, info] of listed.entries()) {
                const relative = `objects/${String(i + 1).padStart(6, "0")}`;
                const out = trackedFile(work, relative, (n) => meter.add(n));
                const read = await bucket!.read(info, (chunk) => out.write(chunk));
                files.push(await out.close());
                if (read.digest !== info.digest || read.size !== info.size) {
                    throw new Error(
                        `object ${info.name} read back as ${read.size} bytes with ${read.digest}, its metadata says ${info.size} bytes with ${info.digest}: the object store is damaged; re-upload it (bklite seed apply --force) and back up again`,
                    );
                }
                objects.push({
                    name: info.name,
                    ...(info.description ? { description: info.description } : {}),
                    file: relative,
                    size: info.size,
                    digest: info.digest,
                });
            }
            meter.done();
            const jsm = await nc.jetstreamManager();
            for await (const info of jsm.streams.list()) {
                // The object store's stream is the objects above; its settings are the bucket's own.
                if (!info.config.name.startsWith("OBJ_") && !info.config.name.startsWith("KV_")) {
                    streams.push(settingsOf(info.config));
                }
            }
            streams = streams.sort((a, b) => (a.name < b.name ? -1 : 1));
        } finally {
            await nc.close();
        }
        const writeJson = async (relative: string, value: unknown) => {
            const out = trackedFile(work, relative);
            await out.write(Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
            files.push(await out.close());
        };
        await writeJson(OBJECTS_INDEX, { bucket: bucketName, objects });
        await writeJson(STREAMS_FILE, { streams });
        log(
            `streams: ${streams.length === 0 ? "none" : streams.map((s) => s.name).join(", ")} (settings only; their messages are transient)`,
        );

        // 3. FalkorDB's graphs, when CMDB is installed.
        let falkordb: BackupManifest["falkordb"];
        if (source.falkordb) {
            const meter = byteMeter(log, "falkordb");
            const address = await source.falkordb.address();
            const out = trackedFile(work, FALKORDB_FILE, (n) => meter.add(n));
            const { keys } = await dumpRedis(address, source.falkordb.password, out);
            files.push(await out.close());
            falkordb = { file: FALKORDB_FILE, keys };
            meter.done(`${keys} keys`);
        }

        // 4. The stack's config (StackConfig holds no secret), and the manifest.
        await writeJson(CONFIG_FILE, { stack: source.stack, config: source.config });
        const fingerprint: SecretKeyFingerprint = fingerprintSecretKey(fingerprintKey);
        const manifest: BackupManifest = {
            format: MANIFEST_FORMAT,
            stack: source.stack,
            runtime: source.config.runtime,
            createdAt: createdAt.toISOString(),
            images: imagesByService(source.config),
            secretKey: fingerprint,
            database: { name: DATABASE.name, owner: DATABASE.owner, file: DATABASE_FILE, serverVersion },
            objects: {
                bucket: bucketName,
                index: OBJECTS_INDEX,
                count: objects.length,
                bytes: objects.reduce((sum, o) => sum + o.size, 0),
            },
            streams: { file: STREAMS_FILE, names: streams.map((s) => s.name) },
            ...(falkordb ? { falkordb } : {}),
            config: CONFIG_FILE,
            files: files.sort((a, b) => (a.path < b.path ? -1 : 1)),
        };
        fs.writeFileSync(path.join(work, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
        fs.renameSync(work, final);
        const total = files.reduce((sum, f) => sum + f.bytes, 0);
        log(`backup ${final}: ${files.length} files, ${formatBytes(total)}`);
        const removed = options.keep === undefined ? [] : rotateBackups(parent, source.stack, options.keep);
        for (const old of removed) {
            log(`removed the older backup ${path.join(parent, old)} (--keep ${options.keep})`);
        }
        return { dir: final, manifest, removed };
    } catch (err) {
        fs.rmSync(work, { recursive: true, force: true });
        throw err;
    }
}

/** Whether the stack backs FalkorDB (CMDB installed). */
export function hasFalkordb(config: StackConfig): boolean {
    return servicesFor(config.installApps).some((d) => d.name === "falkordb");
}
