/**
 * What the program reads from the deploy host before it registers anything: which images the Docker host lacks
 * (stopping the run when neither host nor bundle has one), the bundle's checksum file and the probe packages'
 * digests. A plan (`bklite plan`) must depend on the commit alone, so it uses named placeholders instead.
 */
import * as path from "path";
import { stackImages } from "../services/stack";
import { StackConfig } from "../config/types";
import { bundleDigest, checkImageSupply } from "../runtimes/docker/imageSupply";
import { CHECKSUM_FILE } from "../supply/checksums";
import { packageDigests } from "../seed/stackSpec";
import { PROJECT_ROOT } from "../util/shell";

export interface HostFacts {
    /** Images the stack needs that the Docker host lacks now (the bundle's loader provides them). */
    missingOnHost: string[];
    /** SHA-256 of the bundle's images.sha256; undefined when there is no bundle. */
    bundleDigest: string | undefined;
    /** SHA-256 of each probe package file, in config order. */
    packageDigests: string[];
}

/** Reads the host; throws, before anything is registered, naming every missing image or package file. */
export function inspectHost(config: StackConfig, stack: string, bundleDir: string): HostFacts {
    const onDocker = config.runtime === "docker";
    return {
        missingOnHost: onDocker && config.offline ? checkImageSupply(stackImages(config), stack, bundleDir) : [],
        bundleDigest: onDocker ? bundleDigest(bundleDir) : undefined,
        packageDigests: packageDigests(config, PROJECT_ROOT),
    };
}

/** Marks a value the plan stands in for because it is read on the deploy host. */
export function unreadOnHost(what: string): string {
    return `(read on the deploy host: ${what})`;
}

/**
 * Stand-ins for a plan: nothing missing, a bundle on offline Docker stacks (how they are deployed), and each
 * package file named instead of hashed (package files are not in the repository).
 */
export function plannedHostFacts(config: StackConfig, bundleDir: string): HostFacts {
    const onDocker = config.runtime === "docker";
    return {
        missingOnHost: [],
        bundleDigest:
            onDocker && config.offline ? unreadOnHost(`sha256 of ${path.join(bundleDir, CHECKSUM_FILE)}`) : undefined,
        packageDigests: config.probePackages.map((p) => unreadOnHost(`sha256 of ${p.file}`)),
    };
}
