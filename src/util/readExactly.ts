import * as fs from "fs";

/**
 * Exactly `length` bytes of an open file from `position`; a file that ends first throws `short(the byte it ended
 * at)`, by default a plain Error saying where.
 */
export function readExactly(
    fd: number,
    length: number,
    position: number,
    short: (at: number) => Error = (at) => new Error(`unexpected end of archive at byte ${at}`),
): Buffer {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
        const n = fs.readSync(fd, buffer, done, length - done, position + done);
        if (n === 0) {
            throw short(position + done);
        }
        done += n;
    }
    return buffer;
}
