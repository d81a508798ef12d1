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
import { isRecord } from "../util/json";
import { Shape, matching, oneOf, shapeProblems } from "../util/shape";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = "bklite-backup/2";
/** Backups made before every service declared its data: one database, one object store, FalkorDB's keys. */
const FORMAT_1 = "bklite-backup/1";
/** A manifest lists files and a few settings: far below this. */
const MAX_MANIFEST_BYTES = 16 * MiB;
/** S3's bucket names (what MinIO accepts). */
export const S3_BUCKET = matching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket's name");

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

/** A backup's own relative path: `/`-separated names, none empty, `.` or `..`, nothing but plain characters. */
export const BACKUP_PATH = matching(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/,
    "a path inside the backup",
);
/** PostgreSQL's unquoted identifiers, lower case, with room for the names a restore derives from them. */
export const SQL_IDENTIFIER = matching(/^[a-z_][a-z0-9_]{0,27}$/, "a PostgreSQL name (a-z, 0-9, _; at most 28)");
const SERVICE = matching(/^[a-z][a-z0-9-]{0,62}$/, "a service's name");
const HEX = matching(/^[0-9a-f]+$/, "hexadecimal");

const MANIFEST_SHAPE: Shape = {
    object: {
        format: oneOf(MANIFEST_FORMAT),
        stack: matching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "a stack's name"),
        runtime: oneOf("docker", "kubernetes"),
        createdAt: matching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, "a UTC time"),
        images: { record: "string" },
        secretKey: {
            object: { algorithm: oneOf("scrypt"), N: "integer", r: "integer", p: "integer", salt: HEX, hash: HEX },
        },
        databases: {
            array: {
                object: { name: SQL_IDENTIFIER, owner: SQL_IDENTIFIER, file: BACKUP_PATH, serverVersion: "string" },
            },
        },
        objectStores: {
            array: {
                object: {
                    bucket: matching(/^[A-Za-z0-9_-]{1,64}$/, "an object store bucket's name"),
                    index: BACKUP_PATH,
                    count: "integer",
                    bytes: "integer",
                },
            },
        },
        streams: {
            object: { file: BACKUP_PATH, names: { array: matching(/^[A-Za-z0-9_-]{1,64}$/, "a stream's name") } },
        },
        keyspaces: { array: { object: { service: SERVICE, file: BACKUP_PATH, keys: "integer" } } },
        s3: {
            array: {
                object: {
                    service: SERVICE,
                    index: BACKUP_PATH,
                    buckets: { array: S3_BUCKET },
                    count: "integer",
                    bytes: "integer",
                },
            },
        },
        config: BACKUP_PATH,
        files: {
            array: { object: { path: BACKUP_PATH, bytes: "integer", sha256: matching(/^[0-9a-f]{64}$/, "a SHA-256") } },
        },
    },
};

/** Every file the manifest itself names, by what names it. */
function referencedFiles(manifest: BackupManifest): Array<[string, string]> {
    return [
        ...manifest.databases.map((d): [string, string] => [`databases[${d.name}]`, d.file]),
        ...manifest.objectStores.map((o): [string, string] => [`objectStores[${o.bucket}]`, o.index]),
        ["streams", manifest.streams.file],
        ...manifest.keyspaces.map((k): [string, string] => [`keyspaces[${k.service}]`, k.file]),
        ...manifest.s3.map((k): [string, string] => [`s3[${k.service}]`, k.index]),
        ["config", manifest.config],
    ];
}

/** What is wrong with a manifest's content: its shape, then whether every file it uses is one it lists, once. */
export function manifestProblems(raw: unknown): string[] {
    const shape = shapeProblems(raw, MANIFEST_SHAPE);
    if (shape.length > 0) {
        return shape;
    }
    const manifest = raw as BackupManifest;
    const listed = manifest.files.map((f) => f.path);
    const twice = listed.filter((p, i) => listed.indexOf(p) !== i);
    return [
        ...twice.map((p) => `files lists ${p} more than once`),
        ...referencedFiles(manifest)
            .filter(([, file]) => !listed.includes(file))
            .map(([what, file]) => `${what} uses ${file}, which files does not list (so nothing checks it)`),
    ];
}

/** Reads `dir`/manifest.json and checks all of it before anything uses it; names the file and every problem. */
export function readManifest(dir: string): BackupManifest {
    const file = path.join(dir, MANIFEST_FILE);
    if (!fs.existsSync(file)) {
        throw new InputError(
            `${file} does not exist: ${dir} is not a backup made by \`bklite backup\` (or it was not finished)`,
        );
    }
    const text = readBounded(file, MAX_MANIFEST_BYTES, file, "a manifest lists a backup's files in a few KiB");
    let raw: unknown;
    try {
        raw = fromFormat1(JSON.parse(text));
    } catch (err) {
        throw new InputError(`${file} is damaged: ${(err as Error).message}`, { cause: err });
    }
    const format = isRecord(raw) ? raw.format : undefined;
    if (format !== MANIFEST_FORMAT) {
        throw new InputError(
            `${file}: format is ${JSON.stringify(format)}, not ${MANIFEST_FORMAT} (or ${FORMAT_1}): a backup of another bklite version, or not a backup; restore it with the bklite that made it`,
        );
    }
    const problems = manifestProblems(raw);
    if (problems.length > 0) {
        throw new InputError(
            `${file} is damaged or not a bklite backup manifest; nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
    return raw as BackupManifest;
}

/** A manifest of the first format, as the current one says the same (anything else is returned as it is). */
function fromFormat1(raw: unknown): unknown {
    if (!isRecord(raw) || raw.format !== FORMAT_1) {
        return raw;
    }
    const { database, objects, falkordb, ...rest } = raw as Record<string, unknown> & {
        database?: DatabaseEntry;
        objects?: ObjectStoreEntry;
        falkordb?: { file: string; keys: number };
    };
    return {
        ...rest,
        format: MANIFEST_FORMAT,
        databases: database ? [database] : [],
        objectStores: objects ? [objects] : [],
        keyspaces: falkordb ? [{ service: "falkordb", file: falkordb.file, keys: falkordb.keys }] : [],
        s3: [],
    };
}
