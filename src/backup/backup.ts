/**
 * `bklite backup`: every piece of data the running services declare (src/services/definition.ts, ServiceData), one
 * directory per backup, written under a temporary name and renamed when complete, so a directory with a manifest is
 * always a whole backup. Consistent while the platform runs: the databases are dumped first, each from one snapshot,
 * and the object store is read only after them, so every package row in a dump has its object in the backup
 * (seeding stores the object before it writes the row).
 */
import * as fs from "fs";
import * as path from "path";
import { StackConfig } from "../config/types";
import { RuntimeAccess } from "../runtimes/runtime";
import { aesDecrypt } from "../seed/aes";
import { DATABASE, DATABASE_SERVER } from "../services/shared";
import { imagesByService, stackDatabases, stackDataOf, stackStreams } from "../services/stack";
import { formatBytes } from "../supply/bundle";
import { takePidLock } from "../util/pidLock";
import { utcStamp } from "../util/time";
import { BackupManifest, MANIFEST_FILE, MANIFEST_FORMAT, fingerprintSecretKey } from "./manifest";
import { BackupWriter, StoreContext, writeJson } from "./stores/context";
import { backupDatabases, psql } from "./stores/databases";
import { backupKeyspace } from "./stores/keyspaces";
import { backupObjectStore } from "./stores/objectStores";
import { backupS3 } from "./stores/s3";
import { backupStreams } from "./stores/streams";

/** Where the stack's data is and the secrets a backup needs. */
export interface BackupSource extends StoreContext {
    stack: string;
    config: StackConfig;
    secretKey: string;
    /** While rotating SECRET_KEY, the stored values may still be under the previous key. */
    previousSecretKey?: string;
}

export interface BackupResult {
    dir: string;
    manifest: BackupManifest;
    /** Older backups of the stack removed by --keep. */
    removed: string[];
}

export const CONFIG_FILE = "config.json";

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

/** Removes the stack's oldest backups beyond `keep`; returns their names. */
export function rotateBackups(parent: string, stack: string, keep: number): string[] {
    const all = stackBackups(parent, stack);
    const removed = all.slice(0, Math.max(all.length - keep, 0));
    for (const name of removed) {
        fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
    return removed;
}

/**
 * Which key the stored secret SidecarEnv values decrypt with: the fingerprint must name the key a restore needs.
 * Every stored secret row is tried; they must all decrypt with one of the keys given, and all with the same one.
 * Throws naming the rows that do not.
 */
async function keyOfStoredSecrets(source: BackupSource): Promise<string> {
    const exists = await psql(source, DATABASE.name, "SELECT to_regclass('node_mgmt_sidecarenv') IS NOT NULL");
    if (exists.trim() !== "t") {
        return source.secretKey;
    }
    const query =
        "SELECT e.id || E'\\t' || e.key || E'\\t' || e.value FROM node_mgmt_sidecarenv e WHERE e.type = 'secret' ORDER BY e.id";
    const rows = (await psql(source, DATABASE.name, query))
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.split("\t"));
    const keys = [source.secretKey, source.previousSecretKey].filter((k): k is string => k !== undefined);
    const decrypts = (value: string, key: string) => {
        try {
            aesDecrypt(value, key);
            return true;
        } catch {
            return false;
        }
    };
    const name = ([id, key]: string[]) => `row ${id} (${key})`;
    const unreadable = rows.filter(([, , value]) => !keys.some((k) => decrypts(value, k)));
    if (unreadable.length > 0) {
        throw new Error(
            `${unreadable.length} of the ${rows.length} stored secret SidecarEnv values do not decrypt with BKLITE_SECRET_KEY${source.previousSecretKey ? " nor BKLITE_PREVIOUS_SECRET_KEY" : ""} (${unreadable.slice(0, 5).map(name).join(", ")}${unreadable.length > 5 ? ", ..." : ""}): set it to the server's SECRET_KEY (the stack's bklite:secretKey); a backup must record the key its data needs`,
        );
    }
    const key = keys.find((k) => rows.every(([, , value]) => decrypts(value, k)));
    if (key === undefined) {
        const old = rows.filter(([, , value]) => !decrypts(value, source.secretKey));
        throw new Error(
            `the stored secret SidecarEnv values are under two keys: ${old.map(name).join(", ")} still under BKLITE_PREVIOUS_SECRET_KEY, the rest under BKLITE_SECRET_KEY; finish the rotation (bklite seed apply --reencrypt, as pulumi up runs it) and back up again`,
        );
    }
    return key;
}

/** Checks the database server runs; throws naming where and what to do. */
async function requireDatabaseServer(access: RuntimeAccess, stack: string): Promise<void> {
    const state = await access.state(DATABASE_SERVER.service);
    if (state !== "running") {
        throw new Error(
            `PostgreSQL of stack ${stack} is ${state === "absent" ? "not deployed" : "stopped"} in ${access.where}: start it (pulumi up) before taking a backup`,
        );
    }
}

/** A partial backup's directory name: hidden, and named after its stack and time. */
function partialName(name: string): string {
    return `.${name}.partial`;
}

/**
 * Holds the stack's backup lock in `parent` while `work` runs: a second backup of the stack waits its turn, and
 * partial backups that no running backup holds (a crash, a kill) are removed and said first.
 */
async function underLock<T>(parent: string, source: BackupSource, work: () => Promise<T>): Promise<T> {
    const release = takePidLock(
        path.join(parent, `.${source.stack}.backup-lock`),
        (pid) =>
            `another bklite backup of stack ${source.stack} is writing into ${parent} (pid ${pid}): wait for it to end`,
    );
    try {
        const stale = fs.readdirSync(parent).filter((f) => f.startsWith(`.${source.stack}-`) && f.endsWith(".partial"));
        for (const leftover of stale) {
            fs.rmSync(path.join(parent, leftover), { recursive: true, force: true });
            source.log(`removed ${path.join(parent, leftover)}, left by a backup that did not finish`);
        }
        return await work();
    } finally {
        release();
    }
}

export async function takeBackup(
    source: BackupSource,
    parent: string,
    options: { keep?: number; now?: Date } = {},
): Promise<BackupResult> {
    await requireDatabaseServer(source.access, source.stack);
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    return underLock(parent, source, async () => {
        const createdAt = options.now ?? new Date();
        const name = backupName(source.stack, createdAt);
        const final = path.join(parent, name);
        if (fs.existsSync(final)) {
            throw new Error(`${final} exists already: run again`);
        }
        const writer: BackupWriter = { dir: path.join(parent, partialName(name)), files: [] };
        // Private whatever the umask: the backup holds the admin's hash and every encrypted secret.
        fs.mkdirSync(writer.dir, { mode: 0o700 });
        fs.chmodSync(writer.dir, 0o700);
        try {
            const manifest = await writeData(source, writer, createdAt);
            fs.writeFileSync(path.join(writer.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, {
                mode: 0o600,
            });
            fs.renameSync(writer.dir, final);
            const total = writer.files.reduce((sum, f) => sum + f.bytes, 0);
            source.log(`backup ${final}: ${writer.files.length} files, ${formatBytes(total)}`);
            const removed = options.keep === undefined ? [] : rotateBackups(parent, source.stack, options.keep);
            for (const old of removed) {
                source.log(`removed the older backup ${path.join(parent, old)} (--keep ${options.keep})`);
            }
            return { dir: final, manifest, removed };
        } catch (err) {
            fs.rmSync(writer.dir, { recursive: true, force: true });
            throw err;
        }
    });
}

/** Every declared piece of data into the backup, the databases first; returns the manifest of it all. */
async function writeData(source: BackupSource, writer: BackupWriter, createdAt: Date): Promise<BackupManifest> {
    const { config } = source;
    const fingerprintKey = await keyOfStoredSecrets(source);
    const databases = await backupDatabases(source, writer, stackDatabases(config));
    const objectStores = [];
    for (const { data } of stackDataOf(config, "objectStore")) {
        objectStores.push(await backupObjectStore(source, writer, data.bucket));
    }
    const streams = await backupStreams(
        source,
        writer,
        stackStreams(config).map((s) => s.stream.name),
    );
    const keyspaces = [];
    for (const { service, data } of stackDataOf(config, "keyspace")) {
        keyspaces.push(await backupKeyspace(source, writer, service, data));
    }
    const s3 = [];
    for (const { service, data } of stackDataOf(config, "s3")) {
        s3.push(await backupS3(source, writer, service, data));
    }
    // The stack's config (StackConfig holds no secret).
    await writeJson(writer, CONFIG_FILE, { stack: source.stack, config });
    return {
        format: MANIFEST_FORMAT,
        stack: source.stack,
        runtime: config.runtime,
        createdAt: createdAt.toISOString(),
        images: imagesByService(config),
        secretKey: fingerprintSecretKey(fingerprintKey),
        databases,
        objectStores,
        streams,
        keyspaces,
        s3,
        config: CONFIG_FILE,
        files: [...writer.files].sort((a, b) => (a.path < b.path ? -1 : 1)),
    };
}
