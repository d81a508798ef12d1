/**
 * `bklite images bundle` and `bklite images load` run for real: the CLI as an operator runs it, a real Docker
 * engine, images made locally, and a throwaway registry on loopback for --push.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { servicesFor } from "../../src/services/catalog";
import { DEFAULT_INSTALL_APPS } from "../../src/config/keys";
import { archiveName } from "../../src/supply/bundle";
import { CliResult, bkliteProcess } from "../support/cli";
import { docker, imageId, makeImage, removeImages, requireDockerEngine, startRegistry } from "../support/docker";
import { httpGet, tempDir } from "../support/processes";
import { PROJECT_ROOT } from "../support/stackFiles";

const STACK = "itest";
/** This run's own repository namespace: another run on this engine makes and removes images of its own. */
const NAMESPACE = `bklite-itest-${crypto.randomBytes(4).toString("hex")}`;
const refOf = (service: string) => `${NAMESPACE}/${service}:1`;
/** The services the test stack runs (the default apps'), each with an image made here. */
const SERVICE_NAMES = servicesFor(DEFAULT_INSTALL_APPS).map((s) => s.name);
const REFS = SERVICE_NAMES.map(refOf).sort();

/** Runs the real CLI. */
function bklite(...args: string[]): CliResult {
    return bkliteProcess(args, { cwd: PROJECT_ROOT });
}

/** The CLI's per-image lines as `status subject`. */
function statusLines(stdout: string): string[] {
    return stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => l.split(/\s+/).slice(0, 2).join(" "))
        .sort();
}

/** Flips bytes in the middle of a file (inside a layer, away from the tar headers and manifest). */
function corrupt(file: string): void {
    const fd = fs.openSync(file, "r+");
    const middle = Math.floor(fs.fstatSync(fd).size / 2);
    fs.writeSync(fd, Buffer.from("corrupted!"), 0, 10, middle);
    fs.closeSync(fd);
}

describe("bklite images (real Docker)", function () {
    this.timeout(300000);
    let project: string;
    let bundle: string;
    const ids: Record<string, string> = {};

    before(() => {
        requireDockerEngine();
        project = tempDir("project");
        bundle = path.join(project, "assets", "images");
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
        fs.writeFileSync(
            path.join(project, `Pulumi.${STACK}.yaml`),
            stringify({
                config: {
                    "bklite:hostAddress": "10.0.0.5",
                    "bklite:images": { overrides: Object.fromEntries(SERVICE_NAMES.map((s) => [s, refOf(s)])) },
                },
            }),
        );
        removeImages(REFS);
        for (const service of SERVICE_NAMES) {
            ids[refOf(service)] = makeImage(refOf(service), `image of ${service}\n`);
        }
    });

    after(() => {
        removeImages([...REFS, ...REFS.map((r) => `${r}-extra`)]);
        fs.rmSync(project, { recursive: true, force: true });
    });

    it("bundles exactly the images the stack uses, with sha256sum-checkable checksums", () => {
        const run = bklite("images", "bundle", "--stack", STACK, "--dir", bundle, "--project-dir", project);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(
            statusLines(run.stdout),
            REFS.map((r) => `saved ${r}`),
        );
        const archives = fs
            .readdirSync(bundle)
            .filter((f) => f.endsWith(".tar"))
            .sort();
        assert.deepStrictEqual(archives, REFS.map(archiveName).sort());
        execFileSync("sha256sum", ["--check", "--quiet", "images.sha256"], { cwd: bundle });
        const manifest = JSON.parse(fs.readFileSync(path.join(bundle, "images.json"), "utf8"));
        assert.deepStrictEqual(
            manifest.archives.map((a: { refs: string[]; imageId: string }) => [a.refs, a.imageId]),
            REFS.map((r) => [[r], ids[r]]),
        );
    });

    it("does not save again what the bundle already holds", () => {
        const before = fs.readdirSync(bundle).map((f) => [f, fs.statSync(path.join(bundle, f)).mtimeMs]);
        const run = bklite("images", "bundle", "--stack", STACK, "--dir", bundle, "--project-dir", project);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(
            statusLines(run.stdout),
            REFS.map((r) => `unchanged ${r}`),
        );
        const tarsBefore = before.filter(([f]) => String(f).endsWith(".tar"));
        for (const [file, mtime] of tarsBefore) {
            assert.strictEqual(
                fs.statSync(path.join(bundle, String(file))).mtimeMs,
                mtime,
                `${file} was not rewritten`,
            );
        }
    });

    it("loads everything on a host that has none of the images", () => {
        removeImages(REFS);
        const run = bklite("images", "load", "--dir", bundle);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(
            statusLines(run.stdout),
            REFS.map((r) => `loaded ${r}`),
        );
        for (const ref of REFS) {
            assert.strictEqual(imageId(ref), ids[ref], `${ref} is back with the same id`);
        }
    });

    it("re-runs without hashing an archive whose images are present", () => {
        // Damage a layer of one archive: a re-run decides from the manifests alone and never notices.
        corrupt(path.join(bundle, archiveName(refOf("web"))));
        const run = bklite("images", "load", "--dir", bundle);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(
            statusLines(run.stdout),
            REFS.map((r) => `present ${r}`),
        );
    });

    it("names a corrupted archive, loads nothing from it, loads the rest and exits non-zero", () => {
        removeImages([refOf("web"), refOf("redis")]);
        const run = bklite("images", "load", "--dir", bundle);
        assert.strictEqual(run.code, 1);
        const webArchive = archiveName(refOf("web"));
        assert.match(
            run.stdout,
            new RegExp(
                `failed\\s+${webArchive.replace(/\./g, "\\.")}\\s+corrupted: its sha256 is [0-9a-f]{64}, images.sha256 says [0-9a-f]{64}; nothing loaded from it`,
            ),
        );
        assert.strictEqual(imageId(refOf("web")), undefined, "nothing from the corrupted archive was loaded");
        assert.match(run.stdout, new RegExp(`loaded\\s+${refOf("redis")}`));
        assert.strictEqual(imageId(refOf("redis")), ids[refOf("redis")]);
        assert.match(run.stderr, new RegExp(`1 loaded, ${REFS.length - 2} already present, 0 pushed, 1 failed`));
    });

    it("names an archive images.sha256 does not list and loads nothing from it", () => {
        // Repair the bundle first, then drop in an archive nobody listed.
        const bundled = bklite("images", "bundle", "--stack", STACK, "--dir", bundle, "--project-dir", project);
        assert.strictEqual(bundled.code, 1, "web's image is gone from this host and cannot be pulled here");
        makeImage(refOf("web"), `image of web\n`);
        removeImages([refOf("web")]);
        ids[refOf("web")] = makeImage(refOf("web"), `image of web\n`);
        assert.strictEqual(
            bklite("images", "bundle", "--stack", STACK, "--dir", bundle, "--project-dir", project).code,
            0,
        );
        const stray = `${refOf("nats")}-extra`;
        makeImage(stray, "stray\n");
        docker("save", "--output", path.join(bundle, "stray.tar"), stray);
        removeImages([stray]);
        const run = bklite("images", "load", "--dir", bundle);
        assert.strictEqual(run.code, 1);
        assert.match(run.stdout, /failed\s+stray\.tar\s+not listed in images\.sha256; nothing loaded from it/);
        assert.strictEqual(imageId(stray), undefined);
        fs.rmSync(path.join(bundle, "stray.tar"));
    });

    it("pushes every image under a registry the way the program rewrites refs", async () => {
        const registry = await startRegistry();
        try {
            const prefix = `${registry.address}/mirror`;
            const run = bklite("images", "load", "--dir", bundle, "--push", prefix);
            assert.strictEqual(run.code, 0, run.stdout + run.stderr);
            assert.deepStrictEqual(
                statusLines(run.stdout).filter((l) => l.startsWith("pushed")),
                REFS.map((r) => `pushed ${prefix}/${r}`),
            );
            const catalog = JSON.parse((await httpGet(`http://${registry.address}/v2/_catalog`)).body);
            assert.deepStrictEqual(catalog.repositories.sort(), REFS.map((r) => `mirror/${r.split(":")[0]}`).sort());
            const tags = JSON.parse(
                (await httpGet(`http://${registry.address}/v2/mirror/${NAMESPACE}/server/tags/list`)).body,
            );
            assert.deepStrictEqual(tags.tags, ["1"]);
        } finally {
            await registry.stop();
            removeImages(REFS.map((r) => `${registry.address}/mirror/${r}`));
        }
    });

    it("bundles a registry stack from the local sources, retagged as the stack runs them", () => {
        const registryStack = "itestreg";
        const registry = "aiharbor.msxf.local/aihpc";
        fs.writeFileSync(
            path.join(project, `Pulumi.${registryStack}.yaml`),
            stringify({
                config: {
                    "bklite:hostAddress": "10.0.0.5",
                    "bklite:images": {
                        registry,
                        overrides: Object.fromEntries(SERVICE_NAMES.map((s) => [s, refOf(s)])),
                    },
                },
            }),
        );
        const dir = path.join(project, "registry-bundle");
        const targets = REFS.map((r) => `${registry}/${r}`);
        try {
            // The registry cannot be reached from here: every target must come from its local source.
            const run = bklite("images", "bundle", "--stack", registryStack, "--dir", dir, "--project-dir", project);
            assert.strictEqual(run.code, 0, run.stdout + run.stderr);
            assert.deepStrictEqual(
                statusLines(run.stdout).filter((l) => l.startsWith("saved")),
                targets.map((t) => `saved ${t}`),
            );
            assert.match(
                run.stdout,
                new RegExp(
                    `tagged\\s+${refOf("server").replace(/[/.]/g, "\\$&")} as ${registry.replace(/[/.]/g, "\\$&")}/`,
                ),
            );
            removeImages(targets);
            const load = bklite("images", "load", "--dir", dir);
            assert.strictEqual(load.code, 0, load.stdout + load.stderr);
            for (const target of targets) {
                assert.strictEqual(
                    imageId(target),
                    ids[target.slice(registry.length + 1)],
                    `${target} loaded with its source's id`,
                );
            }
        } finally {
            removeImages(targets);
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("runs the preflight against the real engine: present images pass, missing ones are listed", () => {
        const { hostImages, unsuppliedImages, missingImagesMessage } =
            require("../../src/runtimes/docker/preflight") as typeof import("../../src/runtimes/docker/preflight");
        const onHost = hostImages();
        const gone = `${NAMESPACE}/never-made:1`;
        assert.deepStrictEqual(unsuppliedImages([...REFS, gone], onHost, new Set()), [gone]);
        assert.deepStrictEqual(
            unsuppliedImages([...REFS, gone], onHost, new Set([gone])),
            [],
            "the bundle provides it",
        );
        assert.match(
            missingImagesMessage([gone], STACK, "assets/images"),
            /1 image the stack needs is neither on the Docker host nor in the bundle/,
        );
    });

    it("refuses a load without images.sha256, saying how to make the bundle", () => {
        const empty = tempDir("empty-bundle");
        try {
            const run = bklite("images", "load", "--dir", empty);
            assert.strictEqual(run.code, 1);
            assert.match(
                run.stderr,
                /images\.sha256 does not exist: make the bundle with `bklite images bundle --stack <stack> --dir/,
            );
        } finally {
            fs.rmSync(empty, { recursive: true, force: true });
        }
    });
});

describe("bklite images build (real Docker, a checkout with stand-in Dockerfiles)", function () {
    this.timeout(300000);
    const tag = `build-${crypto.randomBytes(4).toString("hex")}`;
    let project: string;
    let source: string;
    const built: string[] = [];
    /** A fork's layout, each Dockerfile a stand-in (FROM scratch: no registry) that labels what it built. */
    const layout: Record<string, [string, string]> = {
        server: ["server", "server/support-files/release/Dockerfile"],
        web: ["web", "web/Dockerfile"],
        "nats-executor": ["agents/nats-executor", "agents/nats-executor/support-files/Dockerfile.build"],
        mlflow: ["deploy/docker/mlflow", "deploy/docker/mlflow/Dockerfile"],
    };

    before(() => {
        requireDockerEngine();
        project = tempDir("images-build-project");
        source = tempDir("images-build-fork");
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
        fs.writeFileSync(
            path.join(project, "Pulumi.site.yaml"),
            stringify({
                config: {
                    "bklite:hostAddress": "10.0.0.5",
                    "bklite:installApps": [...DEFAULT_INSTALL_APPS, "mlops"],
                    "bklite:images": { tag },
                },
            }),
        );
        for (const [service, [context, dockerfile]] of Object.entries(layout)) {
            fs.mkdirSync(path.join(source, path.dirname(dockerfile)), { recursive: true });
            fs.mkdirSync(path.join(source, context), { recursive: true });
            fs.writeFileSync(path.join(source, context, "marker"), `${service}\n`);
            fs.writeFileSync(
                path.join(source, dockerfile),
                `FROM scratch\nCOPY marker /marker\nLABEL io.bklite.test.built=${service}\n`,
            );
        }
    });

    after(() => {
        removeImages(built);
        fs.rmSync(project, { recursive: true, force: true });
        fs.rmSync(source, { recursive: true, force: true });
    });

    it("builds bk-lite's own images the stack runs, from the fork's Dockerfiles, with the stack's refs, saying each", () => {
        const result = bkliteProcess(
            ["images", "build", "--stack", "site", "--source", source, "--project-dir", project],
            { cwd: PROJECT_ROOT },
        );
        assert.strictEqual(result.code, 0, result.stderr);
        for (const service of Object.keys(layout)) {
            const ref = `bklite/${service}:${tag}`;
            built.push(ref);
            assert.match(
                result.stderr,
                new RegExp(`^\\[\\d/4\\] building ${ref.replace(/[/.]/g, "\\$&")} \\(${service}\\)`, "m"),
            );
            assert.strictEqual(
                docker("image", "inspect", "--format", '{{index .Config.Labels "io.bklite.test.built"}}', ref).trim(),
                service,
            );
        }
        assert.match(result.stdout, /^server: .*marker/m, "docker's own progress, by service");
    });

    it("refuses a checkout that lacks a Dockerfile, naming each path, and builds nothing", () => {
        fs.rmSync(path.join(source, "web", "Dockerfile"));
        fs.rmSync(path.join(source, "deploy", "docker", "mlflow"), { recursive: true });
        const result = bkliteProcess(
            ["images", "build", "--stack", "site", "--source", source, "--project-dir", project],
            { cwd: PROJECT_ROOT },
        );
        assert.strictEqual(result.code, 2);
        assert.match(result.stderr, /is not a checkout of the fork that builds these images/);
        assert.match(result.stderr, /^ {2}- web: web\/Dockerfile$/m);
        assert.match(result.stderr, /^ {2}- mlflow: deploy\/docker\/mlflow\/Dockerfile$/m);
        assert.doesNotMatch(result.stderr, /building/);
    });
});
