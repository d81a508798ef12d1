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
export function diffEnv(
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
                problems.push(
                    `region '${region.name}' key ${key}: the value is ${storedLength} characters as stored, more than this schema's ${schema.envValueMax}`,
                );
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

/** A secret SidecarEnv row of any region, as stored. */
export interface StoredSecret {
    id: number;
    region: string;
    key: string;
    value: string;
}

/** The keys a seed run holds: the server's SECRET_KEY and, while rotating it, the one before. */
export interface SeedKeys {
    secretKey: string;
    previousSecretKey?: string;
    /** Rewrite what does not decrypt with secretKey: the spec's value, or the previous key's plaintext. */
    reencrypt: boolean;
}

/**
 * Secret rows that SECRET_KEY cannot decrypt, across every region. Without `reencrypt` each is a problem: the key
 * given is not the one the server wrote them with, and writing under it would leave the server unable to read its
 * own values. With `reencrypt`, a row the spec sets is rewritten by diffEnv; any other is re-encrypted from the
 * previous key's plaintext, or a problem when that key cannot read it either.
 */
export function diffRekey(
    secrets: ReadonlyArray<StoredSecret>,
    regions: ReadonlyArray<SeedRegion>,
    keys: SeedKeys,
): { writes: EnvWrite[]; problems: string[] } {
    const unreadable = secrets.filter(
        (row) => storedPlaintext({ value: row.value, type: "secret" }, keys.secretKey) === undefined,
    );
    const names = (rows: ReadonlyArray<StoredSecret>) =>
        rows.map((r) => `region '${r.region}' ${r.key} (row ${r.id})`).join(", ");
    if (unreadable.length === 0) {
        return { writes: [], problems: [] };
    }
    if (!keys.reencrypt) {
        return {
            writes: [],
            problems: [
                `${unreadable.length} stored secret SidecarEnv value(s) do not decrypt with BKLITE_SECRET_KEY: ${names(unreadable)}. ` +
                    "It must be the server's SECRET_KEY (the stack's bklite:secretKey); to rotate the key, re-encrypt them with --reencrypt " +
                    "(and BKLITE_PREVIOUS_SECRET_KEY for the values the spec does not set)",
            ],
        };
    }
    const inSpec = new Set(regions.flatMap((r) => Object.keys(r.env).map((key) => `${r.name}\0${key}`)));
    const writes: EnvWrite[] = [];
    const lost: StoredSecret[] = [];
    for (const row of unreadable.filter((r) => !inSpec.has(`${r.region}\0${r.key}`))) {
        const plaintext =
            keys.previousSecretKey === undefined
                ? undefined
                : storedPlaintext({ value: row.value, type: "secret" }, keys.previousSecretKey);
        if (plaintext === undefined) {
            lost.push(row);
        } else {
            writes.push({
                region: row.region,
                key: row.key,
                stored: aesEncrypt(plaintext, keys.secretKey),
                type: "secret",
                action: "update",
                id: row.id,
            });
        }
    }
    const problems =
        lost.length === 0
            ? []
            : [
                  `${lost.length} stored secret SidecarEnv value(s) decrypt with neither BKLITE_SECRET_KEY nor ${keys.previousSecretKey === undefined ? "a previous key (BKLITE_PREVIOUS_SECRET_KEY is not set)" : "BKLITE_PREVIOUS_SECRET_KEY"}, ` +
                      `and the spec does not set them: ${names(lost)}. Give the key they were written with as BKLITE_PREVIOUS_SECRET_KEY, or add their regions to the spec`,
              ];
    return { writes, problems };
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
    return {
        type: pkg.type,
        os: pkg.os,
        object: pkg.object,
        version: pkg.version,
        cpuArchitecture: pkg.cpuArchitecture ?? "x86_64",
        name: path.basename(pkg.file),
        file,
    };
}

/** The object-store key bk-lite uses for a package (`services/package.py`). */
export function objectKey(target: PackageTarget, schema: SchemaVariant): string {
    return schema.packageArchitecture
        ? `${target.os}/${target.cpuArchitecture || "generic"}/${target.object}/${target.version}/${target.name}`
        : `${target.os}/${target.object}/${target.version}/${target.name}`;
}

export type PackageDecision = { upload: boolean; row: "create" | "update" | "unchanged" } | { refuse: string };

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
