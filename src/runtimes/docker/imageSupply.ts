import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_ROOT, bkliteCommand } from "../../util/shell";
import { bundledRefs } from "../../supply/bundle";
import { CHECKSUM_FILE } from "../../supply/checksums";
import { IMAGE_LIST_FORMAT, dockerBinary, normaliseRef, parseImageList } from "../../supply/dockerCli";

export interface ImageSupplyArgs {
    /** Stack name, for the command that makes the bundle. */
    stack: string;
    /** Bundle directory relative to the project (or absolute). */
    bundleDir: string;
    /** Images the stack needs that the Docker host lacks right now: the loader runs again when this changes. */
    missingOnHost: string[];
    /** SHA-256 of the bundle's images.sha256 (see `bundleDigest`); no loader without a bundle. */
    bundleDigest: string | undefined;
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
 * Puts the stack's images on the Docker host before any container needs them: when there is a bundle,
 * `bklite images load` runs through @pulumi/command, again only when its images.sha256 changes.
 */
export class ImageSupply extends pulumi.ComponentResource {
    /** Resources that must finish before any image is used: the loader, when there is a bundle. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: ImageSupplyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bklite:index:ImageSupply", name, args, opts);
        this.ready = [];
        if (args.bundleDigest !== undefined) {
            this.ready.push(
                new command.local.Command(
                    `${name}-load`,
                    {
                        create: bkliteCommand(["images", "load", "--dir", args.bundleDir]),
                        dir: PROJECT_ROOT,
                        // Again when the bundle changes, or when images it provides have gone from the host.
                        triggers: [args.bundleDigest, ...args.missingOnHost],
                        logging: "stdoutAndStderr",
                    },
                    { parent: this },
                ),
            );
        }
        this.registerOutputs({});
    }
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
