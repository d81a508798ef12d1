/**
 * `images.sha256` in sha256sum's format (`<hex>  <file>`), so `sha256sum -c images.sha256` checks a bundle
 * by hand as well, and streaming SHA-256 of large files.
 */
import * as crypto from "crypto";
import * as fs from "fs";

export const CHECKSUM_FILE = "images.sha256";

/** Parses sha256sum output: file name to lowercase hex digest. Throws naming the first malformed line. */
export function parseChecksums(text: string, source = CHECKSUM_FILE): Map<string, string> {
    const sums = new Map<string, string>();
    text.split("\n").forEach((line, i) => {
        if (line.trim() === "" || line.startsWith("#")) {
            return;
        }
        const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.replace(/\r$/, ""));
        if (!match) {
            throw new Error(`${source} line ${i + 1} is not '<sha256>  <file>': ${JSON.stringify(line.slice(0, 80))}`);
        }
        const name = match[2];
        if (name.includes("/") || name === "." || name === "..") {
            throw new Error(`${source} line ${i + 1} names '${name}'; archives must sit beside ${source}`);
        }
        if (sums.has(name)) {
            throw new Error(`${source} lists '${name}' twice`);
        }
        sums.set(name, match[1].toLowerCase());
    });
    return sums;
}

/** Formats checksums as sha256sum does (two spaces: text mode), sorted by file name. */
export function formatChecksums(sums: ReadonlyMap<string, string>): string {
    return [...sums.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, hex]) => `${hex}  ${name}\n`)
        .join("");
}

/** SHA-256 of a file, streamed. `onProgress` gets the bytes read so far. */
export function sha256File(file: string, onProgress?: (bytes: number) => void): Promise<string> {
    return new Promise((resolve, reject) => {
        const hash = crypto.createHash("sha256");
        let bytes = 0;
        const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
        stream.on("data", (chunk) => {
            hash.update(chunk);
            bytes += chunk.length;
            onProgress?.(bytes);
        });
        stream.on("error", reject);
        stream.on("end", () => resolve(hash.digest("hex")));
    });
}
