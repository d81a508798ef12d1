/**
 * Nothing in a backup is trusted before it is checked: the manifest whole (shape, unknown fields and formats, names
 * that reach SQL, paths that stay inside the backup, every file it uses among those it hashes), then the indexes it
 * names, the same way for `backup verify` and `restore` (check.ts). Backups are written here as `bklite backup`
 * writes them, then spoiled one way at a time.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { checkBackup } from "../../src/backup/check";
import { MANIFEST_FILE, MANIFEST_FORMAT, readManifest } from "../../src/backup/manifest";
import { tempDir } from "../support/processes";

const SHA = "0".repeat(64);
const sha256 = (data: string | Buffer) => crypto.createHash("sha256").update(data).digest("hex");

/** A manifest as bklite wrote it before services declared their data (format bklite-backup/1). */
function formatOneManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const files = ["database.dump", "objects/index.json", "streams.json", "config.json", "falkordb.rdb"];
    return {
        format: "bklite-backup/1",
        stack: "prod",
        runtime: "docker",
        createdAt: "2026-11-01T02:00:00.000Z",
        images: { server: "bklite/server:1" },
        secretKey: { algorithm: "scrypt", N: 32768, r: 8, p: 1, salt: "00", hash: "11" },
        database: { name: "bklite", owner: "bklite", file: "database.dump", serverVersion: "15.6" },
        objects: { bucket: "bklite-packages", index: "objects/index.json", count: 2, bytes: 10 },
        streams: { file: "streams.json", names: ["metrics"] },
        config: "config.json",
        files: files.map((p) => ({ path: p, bytes: 4, sha256: SHA })),
        ...extra,
    };
}

function readWritten(manifest: unknown): ReturnType<typeof readManifest> {
    const dir = tempDir("manifest");
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    return readManifest(dir);
}

/** A whole, valid backup directory (format 2) with its files hashed; `spoil` changes it before it is written. */
function writeBackup(spoil: (files: Record<string, string>, manifest: Record<string, unknown>) => void = () => {}) {
    const dir = tempDir("backup");
    const files: Record<string, string> = {
        "databases/bklite.dump": "PGDMP...",
        "objects/bklite/000001": "package bytes",
        "objects/bklite.json": JSON.stringify({
            bucket: "bklite",
            objects: [{ name: "linux/Telegraf", file: "objects/bklite/000001", size: 13, digest: "SHA-256=abc=" }],
        }),
        "streams.json": JSON.stringify({ streams: [] }),
        "config.json": JSON.stringify({ stack: "prod", config: {} }),
    };
    const manifest: Record<string, unknown> = {
        format: MANIFEST_FORMAT,
        stack: "prod",
        runtime: "docker",
        createdAt: "2026-11-01T02:00:00.000Z",
        images: {},
        secretKey: { algorithm: "scrypt", N: 32768, r: 8, p: 1, salt: "00", hash: "11" },
        databases: [{ name: "bklite", owner: "bklite", file: "databases/bklite.dump", serverVersion: "15.6" }],
        objectStores: [{ bucket: "bklite", index: "objects/bklite.json", count: 1, bytes: 13 }],
        streams: { file: "streams.json", names: [] },
        keyspaces: [],
        s3: [],
        config: "config.json",
    };
    spoil(files, manifest);
    for (const [rel, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), content, { mode: 0o600 });
    }
    manifest.files ??= Object.entries(files).map(([p, c]) => ({
        path: p,
        bytes: Buffer.byteLength(c),
        sha256: sha256(c),
    }));
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest), { mode: 0o600 });
    fs.chmodSync(dir, 0o700);
    return dir;
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

    it("refuses what would reach SQL unchecked, leave the directory or go unhashed, naming each at once", () => {
        const manifest = formatOneManifest({
            database: {
                name: "bklite; DROP DATABASE x",
                owner: "Bk Lite",
                file: "../database.dump",
                serverVersion: "15",
            },
            surprise: true,
            config: "/etc/passwd",
        });
        assert.throws(
            () => readWritten(manifest),
            (err: Error) =>
                [
                    /databases\[0\]\.name must be a PostgreSQL name/,
                    /databases\[0\]\.owner must be a PostgreSQL name/,
                    /databases\[0\]\.file must be a path inside the backup/,
                    /config must be a path inside the backup/,
                    /surprise is not a field this version knows/,
                ].every((pattern) => pattern.test(err.message)),
        );
    });

    it("refuses a file the manifest uses but does not hash, and a file listed twice", () => {
        const unlisted = formatOneManifest({ files: [{ path: "database.dump", bytes: 4, sha256: SHA }] });
        assert.throws(() => readWritten(unlisted), /streams uses streams\.json, which files does not list/);
        const twice = formatOneManifest();
        (twice.files as unknown[]).push({ path: "config.json", bytes: 4, sha256: SHA });
        assert.throws(() => readWritten(twice), /files lists config\.json more than once/);
    });
});

describe("checking a backup as verify and restore do", () => {
    it("passes a backup as bklite writes it, with its indexes parsed", async () => {
        const checked = await checkBackup(writeBackup());
        assert.deepStrictEqual([checked.problems, checked.warnings], [[], []]);
        assert.strictEqual(checked.contents!.objects["objects/bklite.json"].objects[0].name, "linux/Telegraf");
    });

    it("refuses an index that names a file the manifest does not hash", async () => {
        const dir = writeBackup((files, manifest) => {
            files["objects/bklite.json"] = JSON.stringify({
                bucket: "bklite",
                objects: [{ name: "x", file: "objects/bklite/000009", size: 13, digest: "SHA-256=abc=" }],
            });
            void manifest;
        });
        const checked = await checkBackup(dir);
        assert.deepStrictEqual(checked.problems, [
            "objects/bklite.json names objects/bklite/000009 of 13 bytes, which the manifest does not list so",
        ]);
        assert.strictEqual(checked.contents, undefined, "nothing handed on to restore");
    });

    it("refuses a link in place of a file: nothing is read from outside the backup", async () => {
        const dir = writeBackup();
        fs.rmSync(path.join(dir, "databases/bklite.dump"));
        fs.symlinkSync("/etc/hostname", path.join(dir, "databases/bklite.dump"));
        const checked = await checkBackup(dir);
        assert.deepStrictEqual(checked.problems, ["databases/bklite.dump: not a regular file (a link)"]);
    });

    it("warns when others than the owner can read it", async () => {
        const dir = writeBackup();
        fs.chmodSync(path.join(dir, "databases/bklite.dump"), 0o644);
        const checked = await checkBackup(dir);
        assert.deepStrictEqual(checked.problems, []);
        assert.match(
            checked.warnings[0],
            /1 of the backup's files and directories can be read by others .*databases\/bklite\.dump.*chmod -R go-rwx/,
        );
    });
});
