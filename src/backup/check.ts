/**
 * Checking a backup before anything uses it, the same way for `backup verify` and `restore`: the manifest whole
 * (manifest.ts), every file against its size and SHA-256 (regular files only: no link leads out of the backup),
 * files the manifest does not list, then the indexes and settings files the manifest names, which must use only
 * files it lists. What passes is handed on parsed, so a restore never reads an index it did not check.
 */
import * as fs from "fs";
import * as path from "path";
import { StreamSettings, StreamSpecError, parseStreamsSpec } from "../nats/streamSettings";
import { isRecord } from "../util/json";
import { Shape, matching, shapeProblems } from "../util/shape";
import {
    BACKUP_PATH,
    BackupFile,
    BackupManifest,
    MANIFEST_FILE,
    ObjectEntry,
    S3_BUCKET,
    fileSha256,
    readManifest,
} from "./manifest";

/** An object store bucket's index: every object with the file holding it. */
export interface ObjectsIndex {
    bucket: string;
    objects: ObjectEntry[];
}

/** An S3 store's index: its buckets, and every object with the file holding it. */
export interface S3Index {
    buckets: string[];
    objects: Array<{ bucket: string; key: string; file: string; size: number }>;
}

/** What the manifest's files say, parsed and checked: by the index's path. */
export interface BackupContents {
    objects: Record<string, ObjectsIndex>;
    s3: Record<string, S3Index>;
    streams: StreamSettings[];
}

export interface BackupCheck {
    manifest: BackupManifest;
    /** One line per damaged, missing, unlisted or inconsistent file, naming it. */
    problems: string[];
    /** Said, not refused: files others can read. */
    warnings: string[];
    bytes: number;
    /** Present when there are no problems. */
    contents?: BackupContents;
}

const OBJECTS_INDEX: Shape = {
    object: {
        bucket: "string",
        objects: {
            array: {
                object: {
                    name: "string",
                    description: "string",
                    file: BACKUP_PATH,
                    size: "integer",
                    digest: matching(/^SHA-256=[A-Za-z0-9_-]+=*$/, "an object store digest"),
                },
                optional: ["description"],
            },
        },
    },
};
const S3_INDEX: Shape = {
    object: {
        buckets: { array: S3_BUCKET },
        objects: { array: { object: { bucket: S3_BUCKET, key: "string", file: BACKUP_PATH, size: "integer" } } },
    },
};

/** Checks every file of a backup against its manifest (size first, then SHA-256), and what its indexes say. */
export async function checkBackup(dir: string, onBytes?: (n: number) => void): Promise<BackupCheck> {
    const manifest = readManifest(dir);
    const problems: string[] = [];
    let bytes = 0;
    for (const entry of manifest.files) {
        const problem = await fileProblem(dir, entry, onBytes);
        bytes += problem === undefined ? entry.bytes : 0;
        if (problem !== undefined) {
            problems.push(`${entry.path}: ${problem}`);
        }
    }
    const listed = new Set([MANIFEST_FILE, ...manifest.files.map((f) => f.path)]);
    for (const extra of listFiles(dir).filter((f) => !listed.has(f))) {
        problems.push(`${extra}: not in the manifest`);
    }
    const warnings = exposure(dir, manifest.files);
    if (problems.length > 0) {
        return { manifest, problems, warnings, bytes };
    }
    const read = readContents(dir, manifest);
    return { manifest, problems: read.problems, warnings, bytes, ...(read.problems.length ? {} : { contents: read }) };
}

async function fileProblem(dir: string, entry: BackupFile, onBytes?: (n: number) => void) {
    const stat = fs.lstatSync(path.join(dir, entry.path), { throwIfNoEntry: false });
    if (stat === undefined) {
        return "missing";
    }
    if (!stat.isFile()) {
        return `not a regular file (${stat.isSymbolicLink() ? "a link" : "a directory or device"})`;
    }
    if (stat.size !== entry.bytes) {
        return `${stat.size} bytes, the manifest says ${entry.bytes}`;
    }
    const actual = await fileSha256(path.join(dir, entry.path), onBytes);
    return actual.sha256 === entry.sha256 ? undefined : `SHA-256 ${actual.sha256}, the manifest says ${entry.sha256}`;
}

/** The backup's directory and files that anyone but their owner can read. */
function exposure(dir: string, files: ReadonlyArray<BackupFile>): string[] {
    const open = [".", ...files.map((f) => f.path), MANIFEST_FILE].filter(
        (rel) => ((fs.statSync(path.join(dir, rel), { throwIfNoEntry: false })?.mode ?? 0) & 0o077) !== 0,
    );
    return open.length === 0
        ? []
        : [
              `${open.length} of the backup's files and directories can be read by others than their owner (${open.slice(0, 3).join(", ")}${open.length > 3 ? ", ..." : ""}): the backup holds password hashes and secret values; chmod -R go-rwx ${dir}`,
          ];
}

function readJson(dir: string, file: string): unknown {
    return JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
}

/** The indexes and settings the manifest names, each checked for its shape and for files the manifest lists. */
function readContents(dir: string, manifest: BackupManifest): BackupContents & { problems: string[] } {
    const sizes = new Map(manifest.files.map((f) => [f.path, f.bytes]));
    const contents: BackupContents = { objects: {}, s3: {}, streams: [] };
    const problems: string[] = [];
    const usesListed = (index: string, file: string, size: number) =>
        sizes.get(file) === size
            ? []
            : [`${index} names ${file} of ${size} bytes, which the manifest does not list so`];
    for (const entry of manifest.objectStores) {
        const index = readJson(dir, entry.index);
        const shape = shapeProblems(index, OBJECTS_INDEX, entry.index);
        const checked = index as ObjectsIndex;
        problems.push(
            ...shape,
            ...(shape.length > 0 ? [] : checked.objects.flatMap((o) => usesListed(entry.index, o.file, o.size))),
            ...(shape.length === 0 && checked.bucket !== entry.bucket
                ? [`${entry.index} is of bucket ${checked.bucket}, the manifest says ${entry.bucket}`]
                : []),
        );
        contents.objects[entry.index] = checked;
    }
    for (const entry of manifest.s3) {
        const index = readJson(dir, entry.index);
        const shape = shapeProblems(index, S3_INDEX, entry.index);
        const checked = index as S3Index;
        problems.push(
            ...shape,
            ...(shape.length > 0 ? [] : checked.objects.flatMap((o) => usesListed(entry.index, o.file, o.size))),
            ...(shape.length > 0
                ? []
                : checked.objects
                      .filter((o) => !checked.buckets.includes(o.bucket))
                      .map((o) => `${entry.index}: ${o.key} is in bucket ${o.bucket}, which it does not list`)),
        );
        contents.s3[entry.index] = checked;
    }
    problems.push(...streamsProblems(dir, manifest, contents));
    const config = readJson(dir, manifest.config);
    problems.push(
        ...shapeProblems(config, { object: { stack: "string", config: { record: () => undefined } } }, manifest.config),
    );
    return { ...contents, problems };
}

function streamsProblems(dir: string, manifest: BackupManifest, contents: BackupContents): string[] {
    const raw = readJson(dir, manifest.streams.file);
    try {
        contents.streams = parseStreamsSpec(raw);
    } catch (err) {
        const found = err instanceof StreamSpecError ? err.problems.map((p) => `${p.path}: ${p.message}`) : [];
        return [`${manifest.streams.file} is not the streams' settings: ${found.join("; ") || (err as Error).message}`];
    }
    const names = contents.streams.map((s) => s.name).sort();
    const extra = isRecord(raw) ? Object.keys(raw).filter((k) => k !== "streams") : [];
    return [
        ...(JSON.stringify(names) === JSON.stringify([...manifest.streams.names].sort())
            ? []
            : [
                  `${manifest.streams.file} holds streams ${names.join(", ")}, the manifest says ${manifest.streams.names.join(", ")}`,
              ]),
        ...extra.map((k) => `${manifest.streams.file}.${k} is not a field this version knows`),
    ];
}

/** Every file under `dir`, relative, with `/` (links and other non-directories as files, to be named). */
export function listFiles(dir: string, prefix = ""): string[] {
    return fs
        .readdirSync(path.join(dir, prefix), { withFileTypes: true })
        .flatMap((entry) => {
            const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
            return entry.isDirectory() ? listFiles(dir, relative) : [relative];
        })
        .sort();
}
