/**
 * The seed spec `bklite seed apply` reads: the SidecarEnv of every cloud region and the probe packages to put in
 * the NATS object store. Validated completely before anything is written; the program renders it from the stack
 * config with the same region rules (components/app/regions.ts).
 */
import { isRecord } from "../json";
import { REQUIRED_REGION_KEYS, REGION_NAME_MAX, SIDECAR_KEY_MAX, checkNodeServerUrl } from "../app/regions";
import { InputError } from "../inputError";

export interface SeedRegion {
    name: string;
    /** SidecarEnv of the region: at least the six REQUIRED_REGION_KEYS. */
    env: Record<string, string>;
}

export interface SeedPackage {
    /** Path of the package file (absolute, or relative to the working directory). */
    file: string;
    os: "linux" | "windows";
    type: "controller" | "collector";
    object: string;
    version: string;
    /** Collector objects that get a row and an object from the same file. */
    collectors?: string[];
    /** CPU architecture, for bk-lite schemas that have one (default x86_64). */
    cpuArchitecture?: "x86_64" | "arm64";
}

export interface SeedSpec {
    regions: SeedRegion[];
    packages: SeedPackage[];
}

/** Where in the spec, and what is wrong. */
export interface SpecProblem {
    path: string;
    message: string;
}

/** Thrown when a spec is refused; lists every problem. Nothing has been written. */
export class SpecError extends InputError {
    constructor(public readonly problems: SpecProblem[]) {
        super(`the seed spec has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was written:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`);
        this.name = "SpecError";
    }
}

const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
const OBJECT = /^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,99}$/;

/** Validates a parsed spec; returns it typed, or throws a SpecError naming every problem (regions by name). */
export function parseSeedSpec(raw: unknown): SeedSpec {
    const problems: SpecProblem[] = [];
    if (!isRecord(raw)) {
        throw new SpecError([{ path: "spec", message: "must be an object {regions: [...], packages: [...]}" }]);
    }
    const regions: SeedRegion[] = [];
    const rawRegions = raw.regions ?? [];
    if (!Array.isArray(rawRegions)) {
        problems.push({ path: "regions", message: "must be a list" });
    } else {
        const seen = new Set<string>();
        rawRegions.forEach((r: unknown, i: number) => {
            if (!isRecord(r) || typeof r.name !== "string" || r.name.trim() === "" || [...r.name].length > REGION_NAME_MAX) {
                problems.push({ path: `regions[${i}].name`, message: `must be a region name of 1-${REGION_NAME_MAX} characters` });
                return;
            }
            const where = `region '${r.name}'`;
            if (seen.has(r.name)) {
                problems.push({ path: where, message: "is listed twice" });
            }
            seen.add(r.name);
            if (!isRecord(r.env)) {
                problems.push({ path: `${where}.env`, message: `is missing; it must hold ${REQUIRED_REGION_KEYS.join(", ")}` });
                return;
            }
            const env: Record<string, string> = {};
            for (const [key, value] of Object.entries(r.env)) {
                if (!/^[A-Z][A-Z0-9_]*$/.test(key) || key.length > SIDECAR_KEY_MAX) {
                    problems.push({ path: `${where}.env.${key}`, message: "is not a valid SidecarEnv key" });
                } else if (typeof value !== "string") {
                    problems.push({ path: `${where}.env.${key}`, message: "must be a string" });
                } else {
                    env[key] = value;
                }
            }
            for (const key of REQUIRED_REGION_KEYS) {
                if (env[key] === undefined || env[key] === "") {
                    problems.push({ path: `${where}.env.${key}`, message: "is missing: every region needs all six agent keys" });
                }
            }
            if (env.NODE_SERVER_URL !== undefined && env.NODE_SERVER_URL !== "") {
                const problem = checkNodeServerUrl(env.NODE_SERVER_URL);
                if (problem) {
                    problems.push({ path: `${where}.env.NODE_SERVER_URL`, message: `${JSON.stringify(env.NODE_SERVER_URL)} ${problem}` });
                }
            }
            regions.push({ name: r.name, env });
        });
    }

    const packages: SeedPackage[] = [];
    const rawPackages = raw.packages ?? [];
    if (!Array.isArray(rawPackages)) {
        problems.push({ path: "packages", message: "must be a list" });
    } else {
        rawPackages.forEach((p: unknown, i: number) => {
            const where = `packages[${i}]`;
            if (!isRecord(p)) {
                problems.push({ path: where, message: "must be an object {file, os, type, object, version, collectors?}" });
                return;
            }
            const before = problems.length;
            if (typeof p.file !== "string" || p.file === "") {
                problems.push({ path: `${where}.file`, message: "must be the path of the package file" });
            }
            if (p.os !== "linux" && p.os !== "windows") {
                problems.push({ path: `${where}.os`, message: "must be linux or windows" });
            }
            if (p.type !== "controller" && p.type !== "collector") {
                problems.push({ path: `${where}.type`, message: "must be controller or collector" });
            }
            if (typeof p.object !== "string" || !OBJECT.test(p.object)) {
                problems.push({ path: `${where}.object`, message: "must name the package object, e.g. Controller or Telegraf" });
            }
            if (typeof p.version !== "string" || !VERSION.test(p.version)) {
                problems.push({ path: `${where}.version`, message: "must be a version such as 1.0.0" });
            }
            const collectors = p.collectors ?? [];
            if (!Array.isArray(collectors) || !collectors.every((c) => typeof c === "string" && OBJECT.test(c))) {
                problems.push({ path: `${where}.collectors`, message: "must be a list of collector names" });
            }
            if (p.cpuArchitecture !== undefined && p.cpuArchitecture !== "x86_64" && p.cpuArchitecture !== "arm64") {
                problems.push({ path: `${where}.cpuArchitecture`, message: "must be x86_64 or arm64" });
            }
            if (problems.length === before) {
                packages.push({
                    file: p.file as string,
                    os: p.os as SeedPackage["os"],
                    type: p.type as SeedPackage["type"],
                    object: p.object as string,
                    version: p.version as string,
                    collectors: collectors as string[],
                    cpuArchitecture: p.cpuArchitecture as SeedPackage["cpuArchitecture"],
                });
            }
        });
    }
    // Each package and collector is one row: the same os/object/version (and architecture) twice cannot be written.
    const seenTargets = new Map<string, string>();
    packages.forEach((p, i) => {
        for (const object of [p.object, ...(p.collectors ?? [])]) {
            const key = `${p.os}/${p.cpuArchitecture ?? "x86_64"}/${object}/${p.version}`;
            const first = seenTargets.get(key);
            if (first !== undefined) {
                problems.push({ path: `packages[${i}]`, message: `${object} ${p.version} (${p.os}) is already given by ${first}` });
            } else {
                seenTargets.set(key, `packages[${i}]`);
            }
        }
    });
    if (problems.length > 0) {
        throw new SpecError(problems);
    }
    return { regions, packages };
}
