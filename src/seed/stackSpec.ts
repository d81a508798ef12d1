/**
 * The seed spec the program hands to `bklite seed apply`, rendered from the stack config with the same region
 * rules the config validation used: every region, `default` included, with all six keys.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ADMIN_USER } from "../services/shared";
import { unreadOnHost } from "../plan/mode";
import { endpointsOf } from "../runtimes";
import { agentPasswordRef, regionEnv } from "../services/regions";
import { renderText } from "../services/template";
import { StackConfig } from "../config/types";
import { SeedSpec } from "./spec";

/**
 * The spec for a stack; the regions' agent passwords and the console's are its only secrets. Keys are sorted so the
 * JSON is stable.
 * Package paths stay as configured (`seed apply` runs in the project directory), so the spec, and the trigger made
 * from it, do not depend on where the checkout is.
 */
export function seedSpecOf(
    config: StackConfig,
    secrets: { agentPassword: (region: string) => string; adminPassword: string },
): SeedSpec {
    const endpoints = endpointsOf(config);
    return {
        regions: config.regions.map((region) => {
            const env = regionEnv(region, endpoints);
            const values = { [agentPasswordRef(region.name)]: secrets.agentPassword(region.name) };
            return {
                name: region.name,
                env: Object.fromEntries(
                    Object.keys(env)
                        .sort()
                        .map((key) => [key, renderText(env[key], values)]),
                ),
            };
        }),
        packages: config.probePackages.map((p) => ({
            file: p.file,
            os: p.os,
            type: p.type,
            object: p.object,
            version: p.version,
        })),
        // The server creates the console's admin with a fixed password at start; seeding makes it the stack's.
        ...(config.installApps.includes("system_mgmt")
            ? { admin: { username: ADMIN_USER, password: secrets.adminPassword } }
            : {}),
    };
}

/**
 * SHA-256 of every package file, in config order; throws naming every file that is missing. Runs before any
 * resource is registered, so a missing package stops `pulumi up` with nothing changed.
 */
export function packageDigests(config: StackConfig, projectRoot: string): string[] {
    const missing = config.probePackages
        .map((p, i) => ({ key: `bklite:probePackages[${i}].file`, file: path.resolve(projectRoot, p.file) }))
        .filter((p) => !fs.existsSync(p.file) || !fs.statSync(p.file).isFile());
    if (missing.length > 0) {
        throw new Error(
            `probe package files are missing; nothing was deployed:\n${missing.map((m) => `  - ${m.key}: ${m.file} does not exist`).join("\n")}\nPut the files there (assets/packages/ is the usual place) or fix the paths.`,
        );
    }
    return config.probePackages.map((p) => sha256FileSync(path.resolve(projectRoot, p.file)));
}

/** What a plan shows for the package digests: each file named, not hashed (package files are not in the repository). */
export function plannedPackageDigests(config: StackConfig): string[] {
    return config.probePackages.map((p) => unreadOnHost(`sha256 of ${p.file}`));
}

/** SHA-256 of a file read in 1 MiB pieces: memory stays flat whatever the package size. */
function sha256FileSync(file: string): string {
    const hash = crypto.createHash("sha256");
    const buffer = Buffer.alloc(1024 * 1024);
    const fd = fs.openSync(file, "r");
    try {
        let n: number;
        while ((n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) {
            hash.update(buffer.subarray(0, n));
        }
    } finally {
        fs.closeSync(fd);
    }
    return hash.digest("hex");
}
