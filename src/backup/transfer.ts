/**
 * Moving bytes with something to show for it: a meter that says how much has moved and how fast (at most every few
 * seconds, and once at the end), and a file writer that hashes and counts what it writes, so a backup's manifest
 * needs no second read of gigabytes.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Writable } from "stream";
import { formatBytes } from "../supply/bundle";
import { BackupFile } from "./manifest";

export interface ByteMeter {
    add(bytes: number): void;
    /** The closing line: total and average rate. */
    done(suffix?: string): void;
    readonly bytes: number;
}

/** Says `label: 1.2 GiB (85.3 MiB/s)` at most every `everyMs`, and a closing line. */
export function byteMeter(
    log: (line: string) => void,
    label: string,
    everyMs = 5000,
    now: () => number = Date.now,
): ByteMeter {
    const started = now();
    let lastSaid = started;
    let bytes = 0;
    const rate = () => `${formatBytes(bytes / Math.max((now() - started) / 1000, 0.001))}/s`;
    return {
        add(n) {
            bytes += n;
            if (now() - lastSaid >= everyMs) {
                lastSaid = now();
                log(`${label}: ${formatBytes(bytes)} so far (${rate()})`);
            }
        },
        done(suffix) {
            log(
                `${label}: ${formatBytes(bytes)} in ${((now() - started) / 1000).toFixed(1)} s (${rate()})${suffix ? `, ${suffix}` : ""}`,
            );
        },
        get bytes() {
            return bytes;
        },
    };
}

/** A file being written, hashed and counted as it goes; `close` gives its manifest entry. */
export interface TrackedFile {
    readonly stream: Writable;
    /** Writes a piece, waiting when the disk is behind. */
    write(data: Uint8Array): Promise<void>;
    close(): Promise<BackupFile>;
}

/** Opens `relative` under `dir` for writing; `onBytes` hears every piece written. */
export function trackedFile(dir: string, relative: string, onBytes?: (n: number) => void): TrackedFile {
    const target = path.join(dir, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    const hash = crypto.createHash("sha256");
    let bytes = 0;
    // Private whatever the umask (it can only make the mode stricter).
    const file = fs.createWriteStream(target, { mode: 0o600 });
    const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            bytes += chunk.length;
            onBytes?.(chunk.length);
            file.write(chunk, callback);
        },
        final(callback) {
            file.end(callback);
        },
    });
    file.on("error", (err) => stream.destroy(err));
    return {
        stream,
        write: (data) => new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve()))),
        close: () =>
            new Promise((resolve, reject) => {
                stream.end(() => resolve({ path: relative, bytes, sha256: hash.digest("hex") }));
                stream.once("error", reject);
            }),
    };
}
