import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { readArchiveManifest, readTarEntry } from "../../src/supply/archive";
import { formatChecksums, parseChecksums, sha256File } from "../../src/supply/checksums";
import { tempDir } from "../support/processes";

const HEX = "ab".repeat(32);

/** Makes a tar with GNU tar from the given files (path to content), in the given format. */
function makeTar(
    dir: string,
    files: Record<string, string | Buffer>,
    format: "gnu" | "posix" | "ustar" = "posix",
): string {
    const root = path.join(dir, "root");
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
        fs.writeFileSync(path.join(root, name), content);
    }
    const tar = path.join(dir, `archive-${format}.tar`);
    execFileSync("tar", [`--format=${format}`, "-C", root, "-cf", tar, ...Object.keys(files)]);
    fs.rmSync(root, { recursive: true, force: true });
    return tar;
}

describe("docker save archive reader", () => {
    let dir: string;
    beforeEach(() => {
        dir = tempDir("archive");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const format of ["gnu", "posix", "ustar"] as const) {
        it(`finds manifest.json after large entries and long names (${format} format)`, () => {
            const longName = `${"d".repeat(90)}/${"e".repeat(60)}/layer.tar`;
            const manifest = JSON.stringify([
                { Config: `${HEX}.json`, RepoTags: ["x/y:1", "x/y:2"], Layers: [longName] },
            ]);
            const files: Record<string, string | Buffer> = {
                [longName]: Buffer.alloc(300_000, 7),
                "manifest.json": manifest,
            };
            if (format === "ustar") {
                delete files[longName]; // ustar cannot hold the long name
                files["layer/layer.tar"] = Buffer.alloc(300_000, 7);
            }
            const tar = makeTar(dir, files, format);
            assert.deepStrictEqual(readArchiveManifest(tar), [
                { imageId: `sha256:${HEX}`, repoTags: ["x/y:1", "x/y:2"] },
            ]);
        });
    }

    it("reads the OCI layout Docker 25+ writes", () => {
        const tar = makeTar(dir, {
            "manifest.json": JSON.stringify([{ Config: `blobs/sha256/${HEX}`, RepoTags: ["a:1"], Layers: [] }]),
            "index.json": "{}",
        });
        assert.deepStrictEqual(readArchiveManifest(tar), [{ imageId: `sha256:${HEX}`, repoTags: ["a:1"] }]);
    });

    it("does not read the bodies it skips", () => {
        // A huge entry before the manifest: reading it would take seconds and memory; skipping it takes neither.
        const tar = makeTar(dir, {
            "big.bin": Buffer.alloc(64 * 1024 * 1024),
            "manifest.json": JSON.stringify([{ Config: `${HEX}.json`, RepoTags: ["a:1"] }]),
        });
        const before = process.memoryUsage().rss;
        readArchiveManifest(tar);
        assert.ok(process.memoryUsage().rss - before < 32 * 1024 * 1024, "memory did not grow by the skipped entry");
    });

    it("refuses a truncated archive, a non-tar file and an archive without a manifest", () => {
        const tar = makeTar(dir, { "layer.tar": Buffer.alloc(100_000, 1), "manifest.json": "[]" });
        const truncated = path.join(dir, "truncated.tar");
        fs.writeFileSync(truncated, fs.readFileSync(tar).subarray(0, 50_000));
        assert.throws(() => readArchiveManifest(truncated), /truncated/);
        const junk = path.join(dir, "junk.tar");
        fs.writeFileSync(junk, Buffer.alloc(2048, 0x41));
        assert.throws(() => readArchiveManifest(junk), /not a tar archive/);
        const noManifest = makeTar(dir, { "other.txt": "x" }, "gnu");
        assert.throws(() => readArchiveManifest(noManifest), /no manifest\.json/);
        assert.strictEqual(readTarEntry(noManifest, "manifest.json"), undefined);
    });
});

describe("docker image listing", () => {
    it("maps tags and digest-pinned refs to image ids, skipping untagged images", () => {
        const { parseImageList } = require("../../src/supply/dockerCli") as typeof import("../../src/supply/dockerCli");
        const id = `sha256:${"1".repeat(64)}`;
        const digest = `sha256:${"2".repeat(64)}`;
        const listing = [
            `docker.io/library/postgres:15.10 ${id} ${digest}`,
            `<none>:<none> sha256:${"3".repeat(64)} <none>`,
            `r.local/x:<none> ${id} ${digest}`,
            "",
        ].join("\n");
        assert.deepStrictEqual(
            [...parseImageList(listing)].sort(),
            [
                [`postgres:15.10`, id],
                [`postgres@${digest}`, id],
                [`r.local/x@${digest}`, id],
            ].sort(),
        );
    });
});

describe("images.sha256", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,30}\.tar$/).filter((n) => n !== "." && n !== "..");
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);

    it("round-trips through sha256sum's format, sorted by name", () => {
        fc.assert(
            fc.property(fc.dictionary(name, hex), (entries) => {
                const sums = new Map(Object.entries(entries));
                const text = formatChecksums(sums);
                assert.deepStrictEqual(parseChecksums(text), new Map([...sums].sort(([a], [b]) => (a < b ? -1 : 1))));
                assert.deepStrictEqual(
                    text
                        .split("\n")
                        .filter(Boolean)
                        .map((l) => l.slice(66)),
                    [...sums.keys()].sort(),
                );
            }),
        );
    });

    it("agrees with sha256sum", async () => {
        const dir = tempDir("sums");
        try {
            fs.writeFileSync(path.join(dir, "a.tar"), "hello\n");
            fs.writeFileSync(path.join(dir, "b.tar"), Buffer.alloc(3 * 1024 * 1024, 9));
            const sums = new Map([
                ["a.tar", await sha256File(path.join(dir, "a.tar"))],
                ["b.tar", await sha256File(path.join(dir, "b.tar"))],
            ]);
            fs.writeFileSync(path.join(dir, "images.sha256"), formatChecksums(sums));
            execFileSync("sha256sum", ["--check", "--quiet", "images.sha256"], { cwd: dir });
            const ours = parseChecksums(execFileSync("sha256sum", ["a.tar", "b.tar"], { cwd: dir, encoding: "utf8" }));
            assert.deepStrictEqual(ours, sums);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("names the line that is malformed, and refuses paths and duplicates", () => {
        assert.throws(() => parseChecksums(`${"a".repeat(64)}  ok.tar\nnot a checksum\n`), /line 2 is not/);
        assert.throws(() => parseChecksums(`${"a".repeat(64)}  ../evil.tar\n`), /must sit beside/);
        assert.throws(() => parseChecksums(`${"a".repeat(64)}  x.tar\n${"b".repeat(64)}  x.tar\n`), /twice/);
        assert.deepStrictEqual(parseChecksums(`${"A".repeat(64)} *bin.tar\n`), new Map([["bin.tar", "a".repeat(64)]]));
    });
});
