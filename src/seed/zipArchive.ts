/**
 * Just enough of the zip format to put one file into a probe package: read the central directory, copy every other
 * entry byte for byte (compressed data, headers and descriptors untouched), and add the file, stored, with a fixed
 * time. The same package and file give the same bytes every time, so an unchanged package is never uploaded again.
 * Streams the copy: memory stays flat whatever the package size. Zip64 archives (over 4 GiB or 65,535 entries)
 * are refused by name.
 */
import * as fs from "fs";
import * as zlib from "zlib";
import { readExactly } from "../util/readExactly";

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
/** DOS time and date of 1980-01-01 00:00:00, the earliest zip can say: a fixed stamp keeps output reproducible. */
const FIXED_TIME = 0;
const FIXED_DATE = (0 << 9) | (1 << 5) | 1;
/** "Made by" Unix, zip spec 3.0: the external attributes carry Unix permissions. */
const MADE_BY_UNIX = (3 << 8) | 30;
const VERSION_NEEDED_STORED = 10;

/** A package that is not a zip this code can patch. */
export class ZipError extends Error {}

export interface ZipEntry {
    name: string;
    method: number;
    crc32: number;
    compressedSize: number;
    size: number;
    localHeaderOffset: number;
    /** The central directory record as it is in the archive. */
    record: Buffer;
}

function readAt(fd: number, position: number, length: number): Buffer {
    return readExactly(fd, length, position, () => new ZipError("the archive ends early"));
}

/** The entries of a zip file, in central-directory order, and where that directory starts. */
export function readZipDirectory(file: string): { entries: ZipEntry[]; directoryOffset: number } {
    const fd = fs.openSync(file, "r");
    try {
        const size = fs.fstatSync(fd).size;
        // The end record is the last 22 bytes plus a comment of at most 65,535.
        const tailLength = Math.min(size, 22 + 0xffff);
        const tail = readAt(fd, size - tailLength, tailLength);
        let end = -1;
        for (let i = tail.length - 22; i >= 0; i--) {
            if (tail.readUInt32LE(i) === END_OF_DIRECTORY && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
                end = i;
                break;
            }
        }
        if (end < 0) {
            throw new ZipError("it is not a zip archive (no end-of-directory record)");
        }
        if (end >= 20 && tail.readUInt32LE(end - 20) === ZIP64_END_LOCATOR) {
            throw new ZipError(
                "it is a zip64 archive (over 4 GiB or 65,535 entries), which this seeder does not patch",
            );
        }
        const count = tail.readUInt16LE(end + 10);
        const directorySize = tail.readUInt32LE(end + 12);
        const directoryOffset = tail.readUInt32LE(end + 16);
        const directory = readAt(fd, directoryOffset, directorySize);
        const entries: ZipEntry[] = [];
        let at = 0;
        for (let i = 0; i < count; i++) {
            if (directory.readUInt32LE(at) !== CENTRAL_HEADER) {
                throw new ZipError(`its central directory is damaged at entry ${i + 1}`);
            }
            const nameLength = directory.readUInt16LE(at + 28);
            const extraLength = directory.readUInt16LE(at + 30);
            const commentLength = directory.readUInt16LE(at + 32);
            const recordLength = 46 + nameLength + extraLength + commentLength;
            const flags = directory.readUInt16LE(at + 8);
            // Bit 11: the name is UTF-8; otherwise it is CP437, which is ASCII for the names that matter here.
            const name = directory.toString(flags & 0x800 ? "utf8" : "latin1", at + 46, at + 46 + nameLength);
            entries.push({
                name,
                method: directory.readUInt16LE(at + 10),
                crc32: directory.readUInt32LE(at + 16),
                compressedSize: directory.readUInt32LE(at + 20),
                size: directory.readUInt32LE(at + 24),
                localHeaderOffset: directory.readUInt32LE(at + 42),
                record: directory.subarray(at, at + recordLength),
            });
            at += recordLength;
        }
        return { entries, directoryOffset };
    } finally {
        fs.closeSync(fd);
    }
}

/** Copies `length` bytes from one file to another in 1 MiB pieces. */
function copyRange(from: number, position: number, length: number, to: number): void {
    const buffer = Buffer.alloc(Math.min(length, 1024 * 1024));
    let done = 0;
    while (done < length) {
        const n = fs.readSync(from, buffer, 0, Math.min(buffer.length, length - done), position + done);
        if (n === 0) {
            throw new ZipError("the archive ends early");
        }
        fs.writeSync(to, buffer, 0, n);
        done += n;
    }
}

/**
 * Writes `output`: every entry of `source` but `name`, unchanged and in order, then `name` holding `content`
 * (stored, mode 0644, the fixed time). Returns the entries of `source` for checks by the caller.
 */
export function writeZipWithFile(source: string, output: string, name: string, content: Buffer): ZipEntry[] {
    const { entries, directoryOffset } = readZipDirectory(source);
    // Each entry's local record runs to the next one's (or to the directory): header, data and any descriptor.
    const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
    const recordEnd = new Map(
        byOffset.map((e, i) => [e, i + 1 < byOffset.length ? byOffset[i + 1].localHeaderOffset : directoryOffset]),
    );
    const input = fs.openSync(source, "r");
    const out = fs.openSync(output, "w");
    try {
        const directory: Buffer[] = [];
        let offset = 0;
        for (const entry of entries.filter((e) => e.name !== name)) {
            if (readAt(input, entry.localHeaderOffset, 4).readUInt32LE(0) !== LOCAL_HEADER) {
                throw new ZipError(`its entry ${entry.name} does not start where the directory says`);
            }
            const length = recordEnd.get(entry)! - entry.localHeaderOffset;
            copyRange(input, entry.localHeaderOffset, length, out);
            const record = Buffer.from(entry.record);
            record.writeUInt32LE(offset, 42);
            directory.push(record);
            offset += length;
        }
        const nameBytes = Buffer.from(name, "utf8");
        const crc = zlib.crc32(content);
        const local = Buffer.alloc(30);
        local.writeUInt32LE(LOCAL_HEADER, 0);
        local.writeUInt16LE(VERSION_NEEDED_STORED, 4);
        local.writeUInt16LE(0x800, 6);
        local.writeUInt16LE(0, 8);
        local.writeUInt16LE(FIXED_TIME, 10);
        local.writeUInt16LE(FIXED_DATE, 12);
        local.writeUInt32LE(crc, 14);
        local.writeUInt32LE(content.length, 18);
        local.writeUInt32LE(content.length, 22);
        local.writeUInt16LE(nameBytes.length, 26);
        local.writeUInt16LE(0, 28);
        fs.writeSync(out, Buffer.concat([local, nameBytes, content]));
        const central = Buffer.alloc(46);
        central.writeUInt32LE(CENTRAL_HEADER, 0);
        central.writeUInt16LE(MADE_BY_UNIX, 4);
        central.writeUInt16LE(VERSION_NEEDED_STORED, 6);
        central.writeUInt16LE(0x800, 8);
        central.writeUInt16LE(0, 10);
        central.writeUInt16LE(FIXED_TIME, 12);
        central.writeUInt16LE(FIXED_DATE, 14);
        central.writeUInt32LE(crc, 16);
        central.writeUInt32LE(content.length, 20);
        central.writeUInt32LE(content.length, 24);
        central.writeUInt16LE(nameBytes.length, 28);
        central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
        central.writeUInt32LE(offset, 42);
        directory.push(Buffer.concat([central, nameBytes]));
        offset += local.length + nameBytes.length + content.length;
        const directoryBytes = Buffer.concat(directory);
        const end = Buffer.alloc(22);
        end.writeUInt32LE(END_OF_DIRECTORY, 0);
        end.writeUInt16LE(directory.length, 8);
        end.writeUInt16LE(directory.length, 10);
        end.writeUInt32LE(directoryBytes.length, 12);
        end.writeUInt32LE(offset, 16);
        fs.writeSync(out, Buffer.concat([directoryBytes, end]));
        if (directory.length > 0xffff || offset + directoryBytes.length > 0xffffffff) {
            throw new ZipError("the patched archive would need zip64, which this seeder does not write");
        }
        return entries;
    } finally {
        fs.closeSync(input);
        fs.closeSync(out);
    }
}

/** One entry's content (stored or deflated), for checks and tests. */
export function readZipFile(file: string, name: string): Buffer | undefined {
    const entry = readZipDirectory(file).entries.find((e) => e.name === name);
    if (!entry) {
        return undefined;
    }
    const fd = fs.openSync(file, "r");
    try {
        const header = readAt(fd, entry.localHeaderOffset, 30);
        const dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
        const data = readAt(fd, dataStart, entry.compressedSize);
        if (entry.method === 0) {
            return data;
        }
        if (entry.method === 8) {
            return zlib.inflateRawSync(data);
        }
        throw new ZipError(`${name} uses compression method ${entry.method}`);
    } finally {
        fs.closeSync(fd);
    }
}
