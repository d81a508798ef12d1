/**
 * What the Docker runtime reads from the deploy host before anything is registered: which images the host lacks
 * (stopping the run, with every one named and how to bundle them, when neither host nor bundle has one) and the
 * bundle's checksum file. A plan reads nothing: it assumes the bundle an offline stack is deployed from.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { unreadOnHost } from "../../plan/mode";
import { bundledRefs } from "../../supply/bundle";
import { CHECKSUM_FILE } from "../../supply/checksums";
import { IMAGE_LIST_FORMAT, dockerBinary, normaliseRef, parseImageList } from "../../supply/dockerCli";
import { DEFAULT_BUNDLE_DIR } from "../../supply/imageRefs";
import { PROJECT_ROOT } from "../../util/shell";
import { PreflightRequest } from "../runtime";

/** What the Docker host holds of what the stack needs. */
export interface DockerHostFacts {
    /** Where the image bundle is, relative to the project. */
    bundleDir: string;
    /** Images the stack needs that the host lacks now (the bundle's loader provides them). */
    missingOnHost: string[];
    /** SHA-256 of the bundle's images.sha256; undefined when there is no bundle. */
    bundleDigest: string | undefined;
}

/** Reads the host; throws, before anything is registered, naming every image neither the host nor the bundle has. */
export function readDockerHost(request: PreflightRequest): DockerHostFacts {
    const { config, stack } = request;
    const bundleDir = config.images.bundleDir ?? DEFAULT_BUNDLE_DIR;
    if (request.planning) {
        const checksums = path.join(bundleDir, CHECKSUM_FILE);
        const assumed = config.offline ? unreadOnHost(`sha256 of ${checksums}`) : undefined;
        return { bundleDir, missingOnHost: [], bundleDigest: assumed };
    }
    const needed = [...new Set(request.workloads.map((w) => w.image))].sort();
    return {
        bundleDir,
        missingOnHost: config.offline ? checkImageSupply(needed, stack, bundleDir) : [],
        bundleDigest: bundleDigest(bundleDir),
    };
}

/** SHA-256 of the bundle's images.sha256, or undefined when the directory holds no bundle. */
export function bundleDigest(bundleDir: string): string | undefined {
    const checksums = path.join(path.resolve(PROJECT_ROOT, bundleDir), CHECKSUM_FILE);
    return fs.existsSync(checksums)
        ? crypto.createHash("sha256").update(fs.readFileSync(checksums)).digest("hex")
        : undefined;
}

/** The images the stack needs that are neither on the host nor in the bundle, in the order given. */
export function unsuppliedImages(
    needed: ReadonlyArray<string>,
    onHost: ReadonlySet<string>,
    inBundle: ReadonlySet<string>,
): string[] {
    return needed.filter((ref) => !onHost.has(normaliseRef(ref)) && !inBundle.has(normaliseRef(ref)));
}

/** The Docker host's images, read through the docker CLI as the loader sees them. */
export function hostImages(): Set<string> {
    const binary = dockerBinary();
    const result = spawnSync(binary, ["image", "ls", "--digests", "--no-trunc", "--format", IMAGE_LIST_FORMAT], {
        encoding: "utf8",
    });
    if (result.error || result.status !== 0) {
        throw new Error(
            `cannot list the Docker host's images with '${binary} image ls': ${(result.error?.message ?? result.stderr).trim()}`,
        );
    }
    return new Set(parseImageList(result.stdout).keys());
}

/**
 * The message that stops `pulumi up` when images are missing: every one of them, and how to make the bundle.
 */
export function missingImagesMessage(missing: ReadonlyArray<string>, stack: string, bundleDir: string): string {
    return [
        `${missing.length} image${missing.length === 1 ? "" : "s"} the stack needs ${missing.length === 1 ? "is" : "are"} neither on the Docker host nor in the bundle ${bundleDir}:`,
        ...missing.map((ref) => `  - ${ref}`),
        `Nothing was deployed, and nothing is pulled from a public registry on an offline stack. On a connected machine, run`,
        `  npx bklite images bundle --stack ${stack} --dir ${bundleDir}`,
        `and copy ${bundleDir} to this host; \`pulumi up\` then verifies and loads it.`,
    ].join("\n");
}

/**
 * Throws the preflight message when any needed image is missing from both the host and the bundle; otherwise
 * returns the needed images the host lacks (the bundle's loader will provide them).
 */
export function checkImageSupply(needed: ReadonlyArray<string>, stack: string, bundleDir: string): string[] {
    const onHost = hostImages();
    const missing = unsuppliedImages(needed, onHost, bundledRefs(path.resolve(PROJECT_ROOT, bundleDir)));
    if (missing.length > 0) {
        throw new pulumi.RunError(missingImagesMessage(missing, stack, bundleDir));
    }
    return unsuppliedImages(needed, onHost, new Set());
}
