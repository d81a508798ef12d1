/**
 * Reads the manifest of a `docker save` archive without reading the layers: tar headers are walked and file
 * bodies skipped by offset, so deciding what an archive holds costs a few reads, not a pass over gigabytes.
 */
import * as fs from "fs";
import { readExactly } from "../util/readExactly";

/** One image in a `docker save` archive. */
export interface ArchivedImage {
    /** Image id (`sha256:<hex>`), the digest of the image config. */
    imageId: string;
    /** Tags the archive restores. */
    repoTags: string[];
}

const BLOCK = 512;
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

function field(header: Buffer, start: number, length: number): string {
    const raw = header.subarray(start, start + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end < 0 ? length : end).toString("utf8");
}

function octal(header: Buffer, start: number, length: number): number {
    // GNU base-256 for sizes over 8 GiB: high bit set on the first byte.
    if (header[start] & 0x80) {
        let value = 0;
        for (let i = start + 1; i < start + length; i++) {
            value = value * 256 + header[i];
        }
        return value;
    }
    const text = field(header, start, length).trim();
    if (!/^[0-7]*$/.test(text)) {
        throw new Error(`malformed tar header (size '${text}')`);
    }
    return text === "" ? 0 : parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) {
        sum += i >= 148 && i < 156 ? 0x20 : header[i];
    }
    const stored = field(header, 148, 8).trim();
    return /^[0-7]+$/.test(stored) && sum === parseInt(stored, 8);
}

/** Parses PAX extended header records (`<len> key=value\n`), returning the path if one is set. */
function paxPath(data: Buffer): string | undefined {
    let offset = 0;
    let path: string | undefined;
    while (offset < data.length) {
        const space = data.indexOf(0x20, offset);
        if (space < 0) {
            break;
        }
        const length = parseInt(data.subarray(offset, space).toString("ascii"), 10);
        if (!(length > 0)) {
            break;
        }
        const record = data.subarray(space + 1, offset + length - 1).toString("utf8");
        const eq = record.indexOf("=");
        if (record.slice(0, eq) === "path") {
            path = record.slice(eq + 1);
        }
        offset += length;
    }
    return path;
}

/** Reads one entry of a tar file by name; undefined when it is absent. Throws on a malformed archive. */
export function readTarEntry(file: string, wanted: string, maxBytes = MAX_MANIFEST_BYTES): Buffer | undefined {
    const fd = fs.openSync(file, "r");
    try {
        const size = fs.fstatSync(fd).size;
        let position = 0;
        let nextName: string | undefined;
        while (position + BLOCK <= size) {
            const header = readExactly(fd, BLOCK, position);
            if (header.every((b) => b === 0)) {
                return undefined; // end-of-archive marker
            }
            if (!checksumOk(header)) {
                throw new Error(`not a tar archive, or corrupted at byte ${position}`);
            }
            const entrySize = octal(header, 124, 12);
            const type = String.fromCharCode(header[156] || 0x30);
            const dataStart = position + BLOCK;
            const padded = Math.ceil(entrySize / BLOCK) * BLOCK;
            if (dataStart + padded > size) {
                throw new Error(`archive is truncated (entry at byte ${position} runs past the end)`);
            }
            if (type === "x" || type === "L") {
                const data = readExactly(fd, entrySize, dataStart);
                nextName = type === "x" ? paxPath(data) : data.toString("utf8").replace(/\0+$/, "");
            } else {
                const prefix = field(header, 345, 155);
                const name = nextName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
                nextName = undefined;
                if (name.replace(/^\.\//, "") === wanted && (type === "0" || type === "\0")) {
                    if (entrySize > maxBytes) {
                        throw new Error(`${wanted} is ${entrySize} bytes, larger than expected`);
                    }
                    return readExactly(fd, entrySize, dataStart);
                }
            }
            position = dataStart + padded;
        }
        throw new Error("archive ends without an end-of-archive marker (truncated?)");
    } finally {
        fs.closeSync(fd);
    }
}

/** The images a `docker save` archive holds, from its manifest.json (classic and OCI layouts). */
export function readArchiveManifest(file: string): ArchivedImage[] {
    const data = readTarEntry(file, "manifest.json");
    if (data === undefined) {
        throw new Error("has no manifest.json: not a `docker save` archive");
    }
    let manifest: unknown;
    try {
        manifest = JSON.parse(data.toString("utf8"));
    } catch {
        throw new Error("has a manifest.json that is not valid JSON");
    }
    if (!Array.isArray(manifest)) {
        throw new Error("has a manifest.json that is not a list of images");
    }
    return manifest.map((entry: { Config?: unknown; RepoTags?: unknown }) => {
        const config = typeof entry.Config === "string" ? entry.Config : "";
        // Classic layout: "<hex>.json"; OCI layout (Docker 25+): "blobs/sha256/<hex>".
        const match = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(config);
        if (!match) {
            throw new Error(`has a manifest entry with an unrecognised Config '${config}'`);
        }
        const repoTags = Array.isArray(entry.RepoTags)
            ? entry.RepoTags.filter((t): t is string => typeof t === "string")
            : [];
        return { imageId: `sha256:${match[1]}`, repoTags };
    });
}
