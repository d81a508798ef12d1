/**
 * The seed spec `bklite seed apply` reads: the SidecarEnv of every cloud region and the probe packages to put in
 * the NATS object store. Validated completely before anything is written; the program renders it from the stack
 * config with the same region rules (src/services/regions.ts).
 */
import { isRecord } from "../util/json";
import { REQUIRED_REGION_KEYS, REGION_NAME_MAX, SIDECAR_KEY_MAX, checkRegionEnv } from "../services/regions";
import { InputError } from "../util/inputError";
import { Problem, formatProblem, under } from "../util/problem";
import { PackageFields, checkPackage, packageRowKey } from "../config/packageRules";

export interface SeedRegion {
    name: string;
    /** SidecarEnv of the region: at least the six REQUIRED_REGION_KEYS. */
    env: Record<string, string>;
}

/**
 * A package: its file (absolute, or relative to the working directory) and its row. A controller package is a zip
 * that gets the stack's CA before upload; a collector package is that collector's own file.
 */
export type SeedPackage = PackageFields;

/** The console login to make work: the server creates the user; seeding gives it this password. */
export interface SeedAdmin {
    username: string;
    password: string;
}

export interface SeedSpec {
    regions: SeedRegion[];
    packages: SeedPackage[];
    admin?: SeedAdmin;
}

/** Thrown when a spec is refused; lists every problem. Nothing has been written. */
export class SpecError extends InputError {
    constructor(public readonly problems: Problem[]) {
        super(
            `the seed spec has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was written:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`,
        );
        this.name = "SpecError";
    }
}

/** Validates a parsed spec; returns it typed, or throws a SpecError naming every problem (regions by name). */
export function parseSeedSpec(raw: unknown): SeedSpec {
    if (!isRecord(raw)) {
        throw new SpecError([{ path: "spec", message: "must be an object {regions: [...], packages: [...]}" }]);
    }
    const problems: Problem[] = [];
    const regions = parseRegions(raw.regions ?? [], problems);
    const packages = parsePackages(raw.packages ?? [], problems);
    const admin = raw.admin === undefined ? undefined : parseAdmin(raw.admin, problems);
    for (const key of Object.keys(raw).filter((k) => !["regions", "packages", "admin"].includes(k))) {
        problems.push({ path: key, message: "is not part of a seed spec (regions, packages, admin)" });
    }
    if (problems.length > 0) {
        throw new SpecError(problems);
    }
    return { regions, packages, ...(admin ? { admin } : {}) };
}

function parseRegions(value: unknown, problems: Problem[]): SeedRegion[] {
    if (!Array.isArray(value)) {
        problems.push({ path: "regions", message: "must be a list" });
        return [];
    }
    const regions: SeedRegion[] = [];
    const seen = new Set<string>();
    value.forEach((r: unknown, i: number) => {
        if (
            !isRecord(r) ||
            typeof r.name !== "string" ||
            r.name.trim() === "" ||
            [...r.name].length > REGION_NAME_MAX
        ) {
            problems.push({
                path: `regions[${i}].name`,
                message: `must be a region name of 1-${REGION_NAME_MAX} characters`,
            });
            return;
        }
        const where = `region '${r.name}'`;
        for (const key of Object.keys(r).filter((k) => k !== "name" && k !== "env")) {
            problems.push({ path: `${where}.${key}`, message: "is not a region setting (name, env)" });
        }
        if (seen.has(r.name)) {
            problems.push({ path: where, message: "is listed twice" });
        }
        seen.add(r.name);
        if (!isRecord(r.env)) {
            problems.push({
                path: `${where}.env`,
                message: `is missing; it must hold ${REQUIRED_REGION_KEYS.join(", ")}`,
            });
            return;
        }
        regions.push({ name: r.name, env: parseRegionEnv(r.name, r.env, problems) });
    });
    return regions;
}

/** A region's env, each key checked, then all of it by the rules the stack config's validation applies too. */
function parseRegionEnv(region: string, value: Record<string, unknown>, problems: Problem[]): Record<string, string> {
    const where = `region '${region}'`;
    const env: Record<string, string> = {};
    for (const [key, entry] of Object.entries(value)) {
        if (!/^[A-Z][A-Z0-9_]*$/.test(key) || key.length > SIDECAR_KEY_MAX) {
            problems.push({ path: `${where}.env.${key}`, message: "is not a valid SidecarEnv key" });
        } else if (typeof entry !== "string") {
            problems.push({ path: `${where}.env.${key}`, message: "must be a string" });
        } else {
            env[key] = entry;
        }
    }
    problems.push(...under(`${where}.env`, checkRegionEnv(region, env)));
    return env;
}

/** The packages, by the rules bklite:probePackages follows too (src/config/packageRules.ts), and each row once. */
function parsePackages(value: unknown, problems: Problem[]): SeedPackage[] {
    if (!Array.isArray(value)) {
        problems.push({ path: "packages", message: "must be a list" });
        return [];
    }
    const packages: SeedPackage[] = [];
    const seenRows = new Map<string, string>();
    value.forEach((p: unknown, i: number) => {
        const where = `packages[${i}]`;
        if (!isRecord(p)) {
            problems.push({ path: where, message: "must be an object {file, os, type, object, version}" });
            return;
        }
        const found = checkPackage(p);
        problems.push(...under(where, found));
        if (found.length > 0) {
            return;
        }
        const pkg = p as unknown as SeedPackage;
        const first = seenRows.get(packageRowKey(pkg));
        if (first !== undefined) {
            problems.push({
                path: where,
                message: `${pkg.object} ${pkg.version} (${pkg.os}) is already given by ${first}`,
            });
            return;
        }
        seenRows.set(packageRowKey(pkg), where);
        const architecture = pkg.cpuArchitecture ? { cpuArchitecture: pkg.cpuArchitecture } : {};
        packages.push({
            file: pkg.file,
            os: pkg.os,
            type: pkg.type,
            object: pkg.object,
            version: pkg.version,
            ...architecture,
        });
    });
    return packages;
}

function parseAdmin(value: unknown, problems: Problem[]): SeedAdmin | undefined {
    if (!isRecord(value) || typeof value.username !== "string" || !/^[^\s]{1,100}$/.test(value.username)) {
        problems.push({
            path: "admin.username",
            message: "must be the console user's name (1-100 characters, no spaces)",
        });
        return undefined;
    }
    if (typeof value.password !== "string" || value.password.length < 8) {
        problems.push({ path: "admin.password", message: "must be a password of at least 8 characters" });
        return undefined;
    }
    return { username: value.username, password: value.password };
}
