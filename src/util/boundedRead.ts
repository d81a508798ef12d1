/**
 * Reading an input whole only when it is of a sane size: a file's size is checked before a byte is read, and a
 * stream (standard input, a pipe) is read in chunks and refused as soon as it passes the bound. So a mistaken
 * input (a disk image given as a spec) is refused at once, not after minutes and gigabytes of memory.
 */
import * as fs from "fs";
import { InputError } from "./inputError";

export const KiB = 1024;
export const MiB = 1024 * KiB;

const CHUNK = 64 * KiB;

/** `limit` bytes in words. */
function sized(limit: number): string {
    return limit >= MiB ? `${limit / MiB} MiB` : `${limit / KiB} KiB`;
}

/**
 * The text of `source` (a path, or 0 for standard input), refused as InputError naming `what` when it holds more
 * than `limit` bytes; `expected` says what such an input usually weighs, for the message.
 */
export function readBounded(source: string | 0, limit: number, what: string, expected: string): string {
    const fd = source === 0 ? 0 : fs.openSync(source, "r");
    try {
        const stat = fs.fstatSync(fd);
        if (stat.isFile() && stat.size > limit) {
            throw tooLarge(what, `${stat.size} bytes`, limit, expected);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        for (;;) {
            const chunk = Buffer.alloc(CHUNK);
            let read: number;
            try {
                read = fs.readSync(fd, chunk, 0, CHUNK, null);
            } catch (err) {
                // A non-blocking standard input with nothing in it yet.
                if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
                    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
                    continue;
                }
                throw err;
            }
            if (read === 0) {
                return Buffer.concat(chunks, total).toString("utf8");
            }
            total += read;
            if (total > limit) {
                throw tooLarge(what, `more than ${sized(limit)}`, limit, expected);
            }
            chunks.push(chunk.subarray(0, read));
        }
    } finally {
        if (fd !== 0) {
            fs.closeSync(fd);
        }
    }
}

function tooLarge(what: string, size: string, limit: number, expected: string): InputError {
    return new InputError(
        `${what} is ${size}; at most ${sized(limit)} is read (${expected}): check that it is the right input`,
    );
}
