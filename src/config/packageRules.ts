/**
 * What makes a probe package acceptable, for the stack config (bklite:probePackages) and the seed spec alike: one
 * set of rules, so what the config accepts is what seeding accepts.
 */
import * as path from "path";
import { Problem } from "../util/problem";

/** bk-lite's PackageVersion.name is varchar(100): a longer file name fails the row after the upload. */
export const PACKAGE_NAME_MAX = 100;
/** Linux's PATH_MAX: no longer path can be opened. */
const PATH_MAX = 4096;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
const OBJECT = /^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,99}$/;

export interface PackageFields {
    file: string;
    os: "linux" | "windows";
    type: "controller" | "collector";
    object: string;
    version: string;
    cpuArchitecture?: "x86_64" | "arm64";
}

/** The settings a package entry may have (the stack config's entries take all but cpuArchitecture). */
export const PACKAGE_KEYS = ["file", "os", "type", "object", "version", "cpuArchitecture"];

/** Problems of one package, defaults already applied, each at its field; empty when it is acceptable. */
export function checkPackage(p: Record<string, unknown>, keys: ReadonlyArray<string> = PACKAGE_KEYS): Problem[] {
    const problems: Problem[] = [];
    for (const key of Object.keys(p).filter((k) => !keys.includes(k) && k !== "collectors")) {
        problems.push({ path: key, message: `is not a package setting (${keys.join(", ")})` });
    }
    if (typeof p.file !== "string" || p.file.trim() === "") {
        problems.push({
            path: "file",
            message: "must be the path of the package file, e.g. assets/packages/fusion-collectors-linux-amd64.zip",
        });
    } else if (p.file.length > PATH_MAX) {
        problems.push({
            path: "file",
            message: `is a path of ${p.file.length} characters; a path holds at most ${PATH_MAX} (PATH_MAX)`,
        });
    } else {
        const name = path.basename(p.file);
        if ([...name].length > PACKAGE_NAME_MAX) {
            problems.push({
                path: "file",
                message: `has a file name of ${[...name].length} characters; bk-lite stores at most ${PACKAGE_NAME_MAX} (PackageVersion.name): rename the file`,
            });
        }
        if (p.type === "controller" && !/\.zip$/i.test(name)) {
            problems.push({
                path: "file",
                message: "must be a .zip: the controller package gets the stack's CA as fusion-collectors/certs/ca.crt",
            });
        }
    }
    if (p.os !== "linux" && p.os !== "windows") {
        problems.push({ path: "os", message: "must be linux or windows" });
    }
    if (p.type !== "controller" && p.type !== "collector") {
        problems.push({ path: "type", message: "must be controller or collector" });
    }
    if (typeof p.object !== "string" || !OBJECT.test(p.object)) {
        problems.push({
            path: "object",
            message:
                "must name what the package installs, e.g. Controller or Telegraf (letters, digits, space . _ + -)",
        });
    }
    if (typeof p.version !== "string" || !VERSION.test(p.version)) {
        problems.push({ path: "version", message: "must be a version such as 1.0.0 (letters, digits, . _ + -)" });
    }
    if (p.cpuArchitecture !== undefined && p.cpuArchitecture !== "x86_64" && p.cpuArchitecture !== "arm64") {
        problems.push({ path: "cpuArchitecture", message: "must be x86_64 or arm64" });
    }
    if (p.collectors !== undefined) {
        problems.push({
            path: "collectors",
            message:
                "is no longer supported: a collector is a package of its own file (e.g. {file: assets/packages/collector/linux/telegraf, type: collector, object: Telegraf, version: 1.0.0}); a collector row holding a copy of the controller zip installs nothing",
        });
    }
    return problems;
}

/** The package row a package is: bk-lite keeps one per os, architecture, object and version. */
export function packageRowKey(p: Pick<PackageFields, "os" | "object" | "version" | "cpuArchitecture">): string {
    return `${p.os}/${p.cpuArchitecture ?? "x86_64"}/${p.object}/${p.version}`;
}
