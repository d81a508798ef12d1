import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { MANIFEST_FILE, MANIFEST_FORMAT, readManifest } from "../../src/backup/manifest";
import { tempDir } from "../support/processes";

const SHA = "0".repeat(64);

/** A manifest as bklite wrote it before services declared their data (format bklite-backup/1). */
function formatOneManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        format: "bklite-backup/1",
        stack: "prod",
        runtime: "docker",
        createdAt: "2026-11-01T02:00:00Z",
        images: { server: "bklite/server:1" },
        secretKey: { algorithm: "scrypt", N: 32768, r: 8, p: 1, salt: "00", hash: "11" },
        database: { name: "bklite", owner: "bklite", file: "database.dump", serverVersion: "15.6" },
        objects: { bucket: "bklite-packages", index: "objects/index.json", count: 2, bytes: 10 },
        streams: { file: "streams.json", names: ["metrics"] },
        config: "bklite:hostAddress: 10.0.0.1\n",
        files: [{ path: "database.dump", bytes: 4, sha256: SHA }],
        ...extra,
    };
}

function readWritten(manifest: unknown): ReturnType<typeof readManifest> {
    const dir = tempDir("manifest");
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    return readManifest(dir);
}

describe("backup manifests", () => {
    it("reads a first-format backup as the current format says the same", () => {
        const read = readWritten(formatOneManifest({ falkordb: { file: "falkordb.rdb", keys: 3 } }));
        assert.strictEqual(read.format, MANIFEST_FORMAT);
        assert.deepStrictEqual(read.databases, [
            { name: "bklite", owner: "bklite", file: "database.dump", serverVersion: "15.6" },
        ]);
        assert.deepStrictEqual(read.objectStores, [
            { bucket: "bklite-packages", index: "objects/index.json", count: 2, bytes: 10 },
        ]);
        assert.deepStrictEqual(read.keyspaces, [{ service: "falkordb", file: "falkordb.rdb", keys: 3 }]);
        assert.deepStrictEqual(read.s3, []);
        assert.deepStrictEqual(read.streams, { file: "streams.json", names: ["metrics"] });
        assert.ok(!("database" in read) && !("objects" in read) && !("falkordb" in read), "no first-format keys left");
    });

    it("reads a first-format backup without FalkorDB as holding no keyspaces", () => {
        assert.deepStrictEqual(readWritten(formatOneManifest()).keyspaces, []);
    });

    it("refuses an unknown format, naming the file and the formats it reads", () => {
        assert.throws(
            () => readWritten({ ...formatOneManifest(), format: "bklite-backup/9" }),
            (err: Error) =>
                err.message.includes(MANIFEST_FILE) &&
                err.message.includes('format is "bklite-backup/9", not bklite-backup/2 (or bklite-backup/1)'),
        );
    });

    it("refuses files that leave the backup's directory", () => {
        const manifest = formatOneManifest({ files: [{ path: "../etc/passwd", bytes: 1, sha256: SHA }] });
        assert.throws(() => readWritten(manifest), /files must stay inside the backup's directory/);
    });
});
