import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_ROOT, bkliteCommand } from "../../util/shell";

export interface ImageSupplyArgs {
    /** Stack name, for the command that makes the bundle. */
    stack: string;
    /** Bundle directory relative to the project (or absolute). */
    bundleDir: string;
    /** Images the stack needs that the Docker host lacks right now: the loader runs again when this changes. */
    missingOnHost: string[];
    /** SHA-256 of the bundle's images.sha256 (see preflight.ts); no loader without a bundle. */
    bundleDigest: string | undefined;
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
