/**
 * Which bk-lite schema the database has. The huangpu server (HP) and current upstream differ in the package
 * table (cpu_architecture, and its place in the object key and the unique constraint), the region table (proxy
 * columns) and SidecarEnv values (varchar(200) or text). Anything else unknown is refused before writing.
 */
import { SchemaVariant } from "./diff";

export const TABLES = ["node_mgmt_cloudregion", "node_mgmt_sidecarenv", "node_mgmt_packageversion"] as const;
type Table = (typeof TABLES)[number];

export interface ColumnInfo {
    table: string;
    column: string;
    nullable: boolean;
    hasDefault: boolean;
    maxLength: number | null;
}

/** Columns the seeder writes (or that fill themselves), per table. */
const KNOWN: Record<Table, string[]> = {
    node_mgmt_cloudregion: [
        "id",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "name",
        "introduction",
        "domain",
        "updated_by_domain",
        "proxy_address",
        "pending_proxy_address",
        "pending_proxy_address_created_at",
    ],
    node_mgmt_sidecarenv: ["id", "key", "value", "description", "cloud_region_id", "type", "is_pre"],
    node_mgmt_packageversion: [
        "id",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "type",
        "os",
        "object",
        "version",
        "name",
        "description",
        "domain",
        "updated_by_domain",
        "cpu_architecture",
    ],
};

/** Columns without which the tables are not bk-lite's node_mgmt tables. */
const REQUIRED: Record<Table, string[]> = {
    node_mgmt_cloudregion: [
        "id",
        "name",
        "introduction",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "domain",
        "updated_by_domain",
    ],
    node_mgmt_sidecarenv: ["id", "key", "value", "description", "cloud_region_id", "type", "is_pre"],
    node_mgmt_packageversion: [
        "id",
        "type",
        "os",
        "object",
        "version",
        "name",
        "description",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "domain",
        "updated_by_domain",
    ],
};

/** The package uniqueness each variant has (sorted column lists). */
const PACKAGE_UNIQUE = {
    huangpu: ["object", "os", "version"],
    upstream: ["cpu_architecture", "object", "os", "version"],
};

/** Detects the variant from the columns and the package table's unique constraints; throws naming what is unknown. */
export function detectSchema(
    columns: ReadonlyArray<ColumnInfo>,
    packageUniques: ReadonlyArray<string[]>,
): SchemaVariant {
    const problems: string[] = [];
    const byTable = new Map<string, ColumnInfo[]>();
    for (const c of columns) {
        byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
    }
    for (const table of TABLES) {
        const present = byTable.get(table) ?? [];
        const names = new Set(present.map((c) => c.column));
        const missing = REQUIRED[table].filter((c) => !names.has(c));
        if (missing.length > 0) {
            problems.push(`${table} lacks ${missing.join(", ")}`);
        }
        for (const c of present) {
            if (!KNOWN[table].includes(c.column) && !c.nullable && !c.hasDefault) {
                problems.push(
                    `${table}.${c.column} is NOT NULL without a default, and this seeder does not know what to put there`,
                );
            }
        }
    }
    const packageArchitecture = (byTable.get("node_mgmt_packageversion") ?? []).some(
        (c) => c.column === "cpu_architecture",
    );
    const expected = packageArchitecture ? PACKAGE_UNIQUE.upstream : PACKAGE_UNIQUE.huangpu;
    const uniques = packageUniques.map((u) => [...u].sort().join(","));
    if (!uniques.includes(expected.join(","))) {
        problems.push(
            `node_mgmt_packageversion is unique on ${uniques.length ? uniques.map((u) => `(${u})`).join(" and ") : "nothing"}, not on (${expected.join(", ")}) as bk-lite's schema is`,
        );
    }
    if (problems.length > 0) {
        throw new Error(
            `the database has a bk-lite schema this seeder does not know; nothing was written:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
    const value = (byTable.get("node_mgmt_sidecarenv") ?? []).find((c) => c.column === "value");
    return {
        name: packageArchitecture ? "upstream" : "huangpu",
        packageArchitecture,
        regionProxy: (byTable.get("node_mgmt_cloudregion") ?? []).some((c) => c.column === "proxy_address"),
        envValueMax: value?.maxLength ?? undefined,
        plainType: packageArchitecture ? "str" : "",
    };
}
