/** Plain JSON values: the helpers the config, seed, plan and audit code all walk them with. */

export type JsonObject = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Applies `fn` to every string in a value, recursively. */
export function mapStrings(value: unknown, fn: (text: string) => string): unknown {
    if (typeof value === "string") {
        return fn(value);
    }
    if (Array.isArray(value)) {
        return value.map((v) => mapStrings(v, fn));
    }
    if (isRecord(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
    }
    return value;
}

/** Orders strings by code units (as `Array.prototype.sort` does), never by the machine's locale. */
export function compareStrings(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** The value with object keys sorted, recursively (array order is kept: it means something). */
export function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(sortKeys);
    }
    if (isRecord(value)) {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .filter((k) => value[k] !== undefined)
                .map((k) => [k, sortKeys(value[k])]),
        );
    }
    return value;
}

/** JSON with sorted keys and a final newline: the same value gives the same bytes. */
export function stableJson(value: unknown): string {
    return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** Paths into property values, as reports show them: `inputs.spec.ports[0]`, `config."bklite:images".tag`. */
export function propertyPath(base: string, key: string): string {
    const part = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
    return base === "" ? part : `${base}.${part}`;
}
