/**
 * A backup's manifest: what it holds (every file with its size and SHA-256), where it came from (stack, runtime,
 * every image's ref, when) and which SECRET_KEY its secret values are encrypted with, as a salted scrypt
 * fingerprint that says nothing about the key. `backup verify` and `restore` check a backup against it, file by file.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { MiB, readBounded } from "../util/boundedRead";
import { sha256File } from "../supply/checksums";
import { InputError } from "../util/inputError";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = "bklite-backup/2";
/** Backups made before every service declared its data: one database, one object store, FalkorDB's keys. */
const FORMAT_1 = "bklite-backup/1";
/** A manifest lists files and a few settings: far below this. */
const MAX_MANIFEST_BYTES = 16 * MiB;

export interface BackupFile {
    /** Relative to the backup's directory, with `/`. */
    path: string;
    bytes: number;
    sha256: string;
}

/** scrypt of SECRET_KEY with a salt of this backup's own: matching it needs the key; reversing it is not feasible. */
export interface SecretKeyFingerprint {
    algorithm: "scrypt";
    N: number;
    r: number;
    p: number;
    salt: string;
    hash: string;
}

export interface ObjectEntry {
    name: string;
    description?: string;
    /** The file holding its content. */
    file: string;
    size: number;
    /** The object store's digest (`SHA-256=...`), as agents check it. */
    digest: string;
}

/** A database, dumped with pg_dump's custom format. */
export interface DatabaseEntry {
    name: string;
    owner: string;
    file: string;
    serverVersion: string;
}

/** A JetStream object store bucket: its index lists every object and the file holding it. */
export interface ObjectStoreEntry {
    bucket: string;
    index: string;
    count: number;
    bytes: number;
}

/** A Redis-protocol store's keys (FalkorDB's graphs), by its service. */
export interface KeyspaceEntry {
    service: string;
    file: string;
    keys: number;
}

/** An S3 store's buckets (MinIO's), by its service: its index lists every object and the file holding it. */
export interface S3Entry {
    service: string;
    index: string;
    buckets: string[];
    count: number;
    bytes: number;
}

export interface BackupManifest {
    format: typeof MANIFEST_FORMAT;
    stack: string;
    runtime: "docker" | "kubernetes";
    /** UTC, when the backup started (the database snapshot's time, within a second). */
    createdAt: string;
    /** Every service's image ref, as the stack ran them. */
    images: Record<string, string>;
    secretKey: SecretKeyFingerprint;
    /** Every database the services declared, in the order they were dumped. */
    databases: DatabaseEntry[];
    objectStores: ObjectStoreEntry[];
    /** The declared streams' settings (not their messages: metrics are transient). */
    streams: { file: string; names: string[] };
    keyspaces: KeyspaceEntry[];
    s3: S3Entry[];
    /** The stack's config without its secrets. */
    config: string;
    files: BackupFile[];
}

const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;

export function fingerprintSecretKey(
    secretKey: string,
    salt = crypto.randomBytes(16).toString("hex"),
): SecretKeyFingerprint {
    const hash = crypto
        .scryptSync(secretKey, Buffer.from(salt, "hex"), 32, { ...SCRYPT, maxmem: 128 * SCRYPT.N * SCRYPT.r * 2 })
        .toString("hex");
    return { algorithm: "scrypt", ...SCRYPT, salt, hash };
}

/** Whether `secretKey` is the key a fingerprint was made of. */
export function fingerprintMatches(fingerprint: SecretKeyFingerprint, secretKey: string): boolean {
    if (
        fingerprint.algorithm !== "scrypt" ||
        fingerprint.N !== SCRYPT.N ||
        fingerprint.r !== SCRYPT.r ||
        fingerprint.p !== SCRYPT.p
    ) {
        throw new InputError(
            `the manifest's SECRET_KEY fingerprint is of an unknown kind (${fingerprint.algorithm} N=${fingerprint.N}): this bklite cannot check it`,
        );
    }
    const expected = Buffer.from(fingerprint.hash, "hex");
    const actual = Buffer.from(fingerprintSecretKey(secretKey, fingerprint.salt).hash, "hex");
    return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
}

/** SHA-256 (hex) and size of a file; `onBytes` hears each piece's length as it is read. */
export async function fileSha256(
    file: string,
    onBytes?: (n: number) => void,
): Promise<{ sha256: string; bytes: number }> {
    let read = 0;
    const sha256 = await sha256File(file, (total) => {
        onBytes?.(total - read);
        read = total;
    });
    return { sha256, bytes: read };
}

/** Reads and checks the shape of `dir`/manifest.json; names the file and what is wrong. */
export function readManifest(dir: string): BackupManifest {
    const file = path.join(dir, MANIFEST_FILE);
    if (!fs.existsSync(file)) {
        throw new InputError(
            `${file} does not exist: ${dir} is not a backup made by \`bklite backup\` (or it was not finished)`,
        );
    }
    const text = readBounded(file, MAX_MANIFEST_BYTES, file, "a manifest lists a backup's files in a few KiB");
    let manifest: BackupManifest;
    try {
        manifest = fromFormat1(JSON.parse(text));
    } catch (err) {
        throw new InputError(`${file} is damaged: ${(err as Error).message}`, { cause: err });
    }
    const problems: string[] = [];
    if (manifest?.format !== MANIFEST_FORMAT) {
        problems.push(`format is ${JSON.stringify(manifest?.format)}, not ${MANIFEST_FORMAT} (or ${FORMAT_1})`);
    }
    if (
        !Array.isArray(manifest?.files) ||
        !manifest.files.every(
            (f) => typeof f?.path === "string" && Number.isInteger(f.bytes) && /^[0-9a-f]{64}$/.test(f.sha256 ?? ""),
        )
    ) {
        problems.push("files must list {path, bytes, sha256} for every file");
    } else if (manifest.files.some((f) => path.isAbsolute(f.path) || f.path.split("/").includes(".."))) {
        problems.push("files must stay inside the backup's directory");
    }
    for (const key of ["stack", "createdAt", "config"] as const) {
        if (typeof manifest?.[key] !== "string") {
            problems.push(`${key} must be a string`);
        }
    }
    const lists = [manifest?.databases, manifest?.objectStores, manifest?.keyspaces, manifest?.s3];
    if (
        typeof manifest?.secretKey?.hash !== "string" ||
        !lists.every((list) => Array.isArray(list) && list.every((entry) => typeof entry === "object" && entry)) ||
        typeof manifest?.streams?.file !== "string"
    ) {
        problems.push(
            "secretKey, databases, objectStores, streams, keyspaces and s3 must be as `bklite backup` writes them",
        );
    }
    if (problems.length > 0) {
        throw new InputError(`${file} is damaged or not a bklite backup manifest: ${problems.join("; ")}`);
    }
    return manifest;
}

/** A manifest of the first format, as the current one says the same (anything else is returned as it is). */
function fromFormat1(raw: unknown): BackupManifest {
    const old = raw as Record<string, unknown> & {
        database?: DatabaseEntry;
        objects?: ObjectStoreEntry;
        falkordb?: { file: string; keys: number };
    };
    if (old?.format !== FORMAT_1) {
        return raw as BackupManifest;
    }
    const { database, objects, falkordb, ...rest } = old;
    return {
        ...(rest as unknown as BackupManifest),
        format: MANIFEST_FORMAT,
        databases: database ? [database] : [],
        objectStores: objects ? [objects] : [],
        keyspaces: falkordb ? [{ service: "falkordb", file: falkordb.file, keys: falkordb.keys }] : [],
        s3: [],
    };
}

export interface BackupCheck {
    manifest: BackupManifest;
    /** One line per damaged, missing or unlisted file, naming it. */
    problems: string[];
    bytes: number;
}

/** Checks every file of a backup against its manifest (size first, then SHA-256), and files the manifest does not list. */
export async function checkBackup(dir: string, onBytes?: (n: number) => void): Promise<BackupCheck> {
    const manifest = readManifest(dir);
    const problems: string[] = [];
    let bytes = 0;
    for (const entry of manifest.files) {
        const file = path.join(dir, entry.path);
        const stat = fs.statSync(file, { throwIfNoEntry: false });
        if (stat === undefined || !stat.isFile()) {
            problems.push(`${entry.path}: missing`);
            continue;
        }
        if (stat.size !== entry.bytes) {
            problems.push(`${entry.path}: ${stat.size} bytes, the manifest says ${entry.bytes}`);
            continue;
        }
        const actual = await fileSha256(file, onBytes);
        bytes += actual.bytes;
        if (actual.sha256 !== entry.sha256) {
            problems.push(`${entry.path}: SHA-256 ${actual.sha256}, the manifest says ${entry.sha256}`);
        }
    }
    const listed = new Set([MANIFEST_FILE, ...manifest.files.map((f) => f.path)]);
    for (const extra of listFiles(dir).filter((f) => !listed.has(f))) {
        problems.push(`${extra}: not in the manifest`);
    }
    return { manifest, problems, bytes };
}

/** Every file under `dir`, relative, with `/`. */
export function listFiles(dir: string, prefix = ""): string[] {
    return fs
        .readdirSync(path.join(dir, prefix), { withFileTypes: true })
        .flatMap((entry) => {
            const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
            return entry.isDirectory() ? listFiles(dir, relative) : [relative];
        })
        .sort();
}
