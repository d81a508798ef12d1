/**
 * Seed planning, as plain functions: what to create, update or leave alone, decided by comparing the spec with
 * what the database and the object store hold. Secrets are compared decrypted, so re-encrypting the same value
 * (which yields a new ciphertext each time) never counts as a change.
 */
import * as path from "path";
import { aesDecrypt, aesEncrypt, aesStoredLength } from "./aes";
import { SeedPackage, SeedRegion } from "./spec";

/** How the detected bk-lite schema stores things. */
export interface SchemaVariant {
    name: "huangpu" | "upstream";
    /** node_mgmt_packageversion has cpu_architecture: object keys and uniqueness include it. */
    packageArchitecture: boolean;
    /** node_mgmt_cloudregion has the proxy_address columns. */
    regionProxy: boolean;
    /** node_mgmt_sidecarenv.value length limit (varchar(200) in huangpu), or undefined for text. */
    envValueMax?: number;
    /** `type` of non-secret SidecarEnv rows: '' in huangpu, 'str' upstream. */
    plainType: "" | "str";
}

export interface ExistingEnv {
    id: number;
    key: string;
    value: string;
    type: string;
}

export interface EnvWrite {
    region: string;
    key: string;
    /** The value as stored: encrypted for secret keys. */
    stored: string;
    type: string;
    action: "create" | "update";
    /** Row id, for updates. */
    id?: number;
}

export interface Counts {
    created: number;
    updated: number;
    unchanged: number;
}

export const zeroCounts = (): Counts => ({ created: 0, updated: 0, unchanged: 0 });

/** bk-lite encrypts every SidecarEnv key whose name contains "password" (node_init's rule). */
export function isSecretKey(key: string): boolean {
    return key.toLowerCase().includes("password");
}

/** The plaintext of a stored value; undefined when it cannot be decrypted with this SECRET_KEY. */
export function storedPlaintext(row: Pick<ExistingEnv, "value" | "type">, secretKey: string): string | undefined {
    if (row.type !== "secret") {
        return row.value;
    }
    try {
        return aesDecrypt(row.value, secretKey);
    } catch {
        return undefined;
    }
}

/**
 * The SidecarEnv writes that make each region's rows match the spec. Keys not in the spec are left alone.
 * `existing` maps region name to its rows (absent for regions that do not exist yet).
 */
export function planEnv(
    regions: ReadonlyArray<SeedRegion>,
    existing: ReadonlyMap<string, ReadonlyArray<ExistingEnv>>,
    schema: SchemaVariant,
    secretKey: string,
): { writes: EnvWrite[]; counts: Counts; problems: string[] } {
    const writes: EnvWrite[] = [];
    const counts = zeroCounts();
    const problems: string[] = [];
    for (const region of regions) {
        const rows = new Map((existing.get(region.name) ?? []).map((r) => [r.key, r]));
        for (const key of Object.keys(region.env).sort()) {
            const value = region.env[key];
            const secret = isSecretKey(key);
            const type = secret ? "secret" : schema.plainType;
            const storedLength = secret ? aesStoredLength(Buffer.byteLength(value)) : [...value].length;
            if (schema.envValueMax !== undefined && storedLength > schema.envValueMax) {
                problems.push(`region '${region.name}' key ${key}: the value is ${storedLength} characters as stored, more than this schema's ${schema.envValueMax}`);
                continue;
            }
            const row = rows.get(key);
            if (row && row.type === type && storedPlaintext(row, secretKey) === value) {
                counts.unchanged++;
                continue;
            }
            const stored = secret ? aesEncrypt(value, secretKey) : value;
            if (row) {
                writes.push({ region: region.name, key, stored, type, action: "update", id: row.id });
                counts.updated++;
            } else {
                writes.push({ region: region.name, key, stored, type, action: "create" });
                counts.created++;
            }
        }
    }
    return { writes, counts, problems };
}

/** One package row and its object. */
export interface PackageTarget {
    type: "controller" | "collector";
    os: string;
    object: string;
    version: string;
    cpuArchitecture: string;
    /** File name: the row's `name` and the last part of the object key. */
    name: string;
    /** The file uploaded: the package itself, or its copy with the stack's CA (controller zips). */
    file: string;
}

/** The row and object of a spec package, uploaded from `file`. */
export function packageTarget(pkg: SeedPackage, file: string): PackageTarget {
    return { type: pkg.type, os: pkg.os, object: pkg.object, version: pkg.version, cpuArchitecture: pkg.cpuArchitecture ?? "x86_64", name: path.basename(pkg.file), file };
}

/** The object-store key bk-lite uses for a package (`services/package.py`). */
export function objectKey(target: PackageTarget, schema: SchemaVariant): string {
    return schema.packageArchitecture
        ? `${target.os}/${target.cpuArchitecture || "generic"}/${target.object}/${target.version}/${target.name}`
        : `${target.os}/${target.object}/${target.version}/${target.name}`;
}

export type PackageDecision =
    | { upload: boolean; row: "create" | "update" | "unchanged" }
    | { refuse: string };

/**
 * What to do for one package target, from its row (by os/object/version[/arch]), the object under its key, and
 * the local file's digest. A different file under an existing version is refused unless forced.
 */
export function decidePackage(input: {
    row?: { name: string };
    objectDigest?: string;
    localDigest: string;
    name: string;
    force: boolean;
}): PackageDecision {
    const { row, objectDigest, localDigest, name, force } = input;
    const sameObject = objectDigest === localDigest;
    const rowConflict = row !== undefined && row.name !== name;
    const objectConflict = objectDigest !== undefined && !sameObject;
    if ((rowConflict || objectConflict) && !force) {
        return {
            refuse: rowConflict
                ? `version already holds file '${row!.name}', not '${name}'; bump the version (or --force to replace it)`
                : "version already holds a different file with this name; bump the version (or --force to replace it)",
        };
    }
    const upload = !sameObject;
    const rowAction = row === undefined ? "create" : rowConflict || (upload && force) ? "update" : "unchanged";
    return { upload, row: rowAction };
}
