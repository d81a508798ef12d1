/**
 * The program's side of the offline image supply, under mocks with a stand-in docker CLI: the preflight that
 * stops `pulumi up` when an image is missing, and the loader command that runs before any image is used.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { servicesFor } from "../../src/services/catalog";
import { stackImages } from "../../src/services/stack";
import { DEFAULT_INSTALL_APPS } from "../../src/config/keys";
import { loadStackConfig } from "../../src/config/stackFiles";
import { archiveName } from "../../src/supply/bundle";
import { missingImagesMessage, unsuppliedImages } from "../../src/runtimes/docker/preflight";
import * as mocks from "../support/mocks";
import { runProgram } from "../support/mocks";
import { tempDir } from "../support/processes";
import { PROJECT_ROOT, programConfig as stackConfig } from "../support/stackFiles";

const PROD_IMAGES = stackImages(loadStackConfig(PROJECT_ROOT, "prod"));

/** A bundle directory whose manifest and checksums list `refs` (the archives themselves are not needed here). */
function fakeBundle(refs: string[]): string {
    const dir = tempDir("bundle");
    fs.writeFileSync(
        path.join(dir, "images.json"),
        JSON.stringify({
            version: 1,
            archives: refs.map((ref) => ({ file: archiveName(ref), refs: [ref], imageId: `sha256:${"0".repeat(64)}` })),
        }),
    );
    fs.writeFileSync(
        path.join(dir, "images.sha256"),
        refs.map((ref) => `${crypto.createHash("sha256").update(ref).digest("hex")}  ${archiveName(ref)}\n`).join(""),
    );
    return dir;
}

describe("image supply (program)", () => {
    const missing = PROD_IMAGES.filter((ref) => /\/(postgres|bklite\/web):/.test(ref));

    it("stops before registering anything, listing every image neither on the host nor in the bundle", async () => {
        assert.strictEqual(missing.length, 2);
        let error: Error | undefined;
        try {
            await runProgram("prod", stackConfig("prod"), {
                hostImages: PROD_IMAGES.filter((r) => !missing.includes(r)),
            });
        } catch (err) {
            error = err as Error;
        }
        assert.ok(error);
        assert.strictEqual(error.message, missingImagesMessage(missing, "prod", "assets/images"));
        assert.match(
            error.message,
            /^2 images the stack needs are neither on the Docker host nor in the bundle assets\/images:/,
        );
        for (const ref of missing) {
            assert.ok(error.message.includes(`  - ${ref}\n`), ref);
        }
        assert.match(error.message, /npx bklite images bundle --stack prod --dir assets\/images/);
        assert.deepStrictEqual(mocks.lastRecorder?.resources, []);
    });

    it("accepts images the bundle provides, and loads the bundle before any image is used", async () => {
        const bundle = fakeBundle(missing);
        try {
            const run = await runProgram(
                "prod",
                stackConfig("prod", {
                    "bklite:images": { registry: "aiharbor.msxf.local/aihpc", tag: "v0.3.5", bundleDir: bundle },
                }),
                {
                    hostImages: PROD_IMAGES.filter((r) => !missing.includes(r)),
                },
            );
            const loader = run.recorder.named("bklite-images-load");
            assert.strictEqual(loader.type, "command:local:Command");
            assert.strictEqual(loader.inputs.create, `node bin/bklite images load --dir ${bundle}`);
            assert.strictEqual(loader.inputs.dir, PROJECT_ROOT);
            const checksums = fs.readFileSync(path.join(bundle, "images.sha256"));
            assert.deepStrictEqual(
                loader.inputs.triggers,
                [crypto.createHash("sha256").update(checksums).digest("hex"), ...missing],
                "the bundle and what the host lacks",
            );
            assert.strictEqual(loader.inputs.delete, undefined, "destroy never removes images");
            for (const image of run.recorder.ofType("docker:index/remoteImage:RemoteImage")) {
                assert.ok(
                    image.dependencies.some((d) => d.endsWith("::bklite-images-load")),
                    `${image.name} waits for the loader`,
                );
            }
        } finally {
            fs.rmSync(bundle, { recursive: true, force: true });
        }
    });

    it("re-runs the loader only when images.sha256 changes or bundled images leave the host", async () => {
        const bundle = fakeBundle(missing);
        const trigger = async (hostImages?: string[]) => {
            const run = await runProgram(
                "prod",
                stackConfig("prod", {
                    "bklite:images": { registry: "aiharbor.msxf.local/aihpc", tag: "v0.3.5", bundleDir: bundle },
                }),
                { hostImages },
            );
            return run.recorder.named("bklite-images-load").inputs.triggers;
        };
        try {
            const first = await trigger();
            assert.deepStrictEqual(await trigger(), first, "same checksums, same trigger");
            assert.notDeepStrictEqual(
                await trigger(PROD_IMAGES.filter((r) => !missing.includes(r))),
                first,
                "images gone from the host: load again",
            );
            fs.appendFileSync(path.join(bundle, "images.sha256"), `${"a".repeat(64)}  extra.tar\n`);
            assert.notDeepStrictEqual(await trigger(), first, "new checksums, new trigger");
        } finally {
            fs.rmSync(bundle, { recursive: true, force: true });
        }
    });

    it("has no loader when there is no bundle", async () => {
        const run = await runProgram("dev", stackConfig("dev"));
        assert.ok(!run.recorder.ofType("command:local:Command").some((c) => c.name === "bklite-images-load"));
    });

    it("does not check the host on a stack that is not offline", async () => {
        const run = await runProgram("dev", stackConfig("dev", { "bklite:offline": false }), { hostImages: [] });
        assert.strictEqual(
            run.recorder.ofType("docker:index/container:Container").length,
            servicesFor(DEFAULT_INSTALL_APPS).length,
        );
    });
});

describe("bundle contents", () => {
    it("count only when the bundle has checksums to load by", () => {
        const { bundledRefs } = require("../../src/supply/bundle") as typeof import("../../src/supply/bundle");
        const bundle = fakeBundle(["x/y:1"]);
        try {
            assert.deepStrictEqual([...bundledRefs(bundle)], ["x/y:1"]);
            fs.rmSync(path.join(bundle, "images.sha256"));
            assert.deepStrictEqual([...bundledRefs(bundle)], [], "a manifest alone loads nothing");
        } finally {
            fs.rmSync(bundle, { recursive: true, force: true });
        }
    });
});

describe("unsuppliedImages", () => {
    it("keeps the needed order and matches Docker Hub refs however they are written", () => {
        assert.deepStrictEqual(
            unsuppliedImages(
                ["postgres:15.10", "bklite/web:1", "redis:5.0.14"],
                new Set(["postgres:15.10"]),
                new Set(["redis:5.0.14"]),
            ),
            ["bklite/web:1"],
        );
        assert.deepStrictEqual(
            unsuppliedImages(["docker.io/library/postgres:15.10"], new Set(["postgres:15.10"]), new Set()),
            [],
        );
    });
});
