/**
 * Templates let the app model describe values that embed secrets or generated material (a password inside a
 * URL, a certificate inside a file) without holding them: a template names the value, and the runtime fills it
 * in from Pulumi outputs, so the secret stays a Pulumi secret from end to end.
 */

/** A reference to a named runtime value (a secret, a certificate), filled in by the runtime. */
export interface ValueRef {
    readonly ref: string;
}

/** Literal text and value references, concatenated when rendered. */
export interface Template {
    readonly parts: ReadonlyArray<string | ValueRef>;
}

/** An env value or file content: plain text, or a template. */
export type TextValue = string | Template;

const REF_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A reference to the runtime value `name`. */
export function ref(name: string): ValueRef {
    if (!REF_NAME.test(name)) {
        throw new Error(`invalid value reference '${name}'`);
    }
    return { ref: name };
}

/** Tagged template: `tpl\`redis://:${ref("redisPassword")}@redis:6379/3\``; interpolated strings stay literal. */
export function tpl(strings: TemplateStringsArray, ...values: Array<ValueRef | string | number>): Template {
    const parts: Array<string | ValueRef> = [];
    strings.forEach((s, i) => {
        pushLiteral(parts, s);
        if (i < values.length) {
            const v = values[i];
            if (typeof v === "object") {
                parts.push(v);
            } else {
                pushLiteral(parts, String(v));
            }
        }
    });
    return { parts };
}

function pushLiteral(parts: Array<string | ValueRef>, text: string): void {
    if (text === "") {
        return;
    }
    const last = parts[parts.length - 1];
    if (typeof last === "string") {
        parts[parts.length - 1] = last + text;
    } else {
        parts.push(text);
    }
}

/** Joins text values into one template (used to build file contents line by line). */
export function joinText(values: ReadonlyArray<TextValue>, separator = ""): Template {
    const parts: Array<string | ValueRef> = [];
    values.forEach((v, i) => {
        if (i > 0) {
            pushLiteral(parts, separator);
        }
        for (const part of typeof v === "string" ? [v] : v.parts) {
            if (typeof part === "string") {
                pushLiteral(parts, part);
            } else {
                parts.push(part);
            }
        }
    });
    return { parts };
}

/** The names a text value refers to, sorted and unique. */
export function refsOf(value: TextValue): string[] {
    if (typeof value === "string") {
        return [];
    }
    const names = value.parts.filter((p): p is ValueRef => typeof p !== "string").map((p) => p.ref);
    return [...new Set(names)].sort();
}

/** Renders a text value with the given values; a missing reference is a programming error. */
export function renderText(value: TextValue, values: Readonly<Record<string, string>>): string {
    if (typeof value === "string") {
        return value;
    }
    return value.parts
        .map((p) => {
            if (typeof p === "string") {
                return p;
            }
            const v = values[p.ref];
            if (v === undefined) {
                throw new Error(`no value for reference '${p.ref}'`);
            }
            return v;
        })
        .join("");
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Renders an env map into Docker's `KEY=VALUE` list, sorted by key so the list (and the container's inputs)
 * never changes order between runs.
 */
export function renderEnv(
    env: Readonly<Record<string, TextValue>>,
    values: Readonly<Record<string, string>>,
): string[] {
    return Object.keys(env)
        .sort()
        .map((key) => {
            if (!ENV_NAME.test(key)) {
                throw new Error(`invalid environment variable name '${key}'`);
            }
            return `${key}=${renderText(env[key], values)}`;
        });
}

/** The names an env map refers to, sorted and unique. */
export function envRefs(env: Readonly<Record<string, TextValue>>): string[] {
    return [...new Set(Object.values(env).flatMap(refsOf))].sort();
}
