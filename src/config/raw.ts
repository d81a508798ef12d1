/**
 * The config as written, before any section reads it: values too large to read are refused first (and nothing else
 * is said of them), then keys that are not this project's, or that sit in a misspelt namespace. Each key's value is
 * then read as the program reads it: the default when unset, JSON for everything but strings.
 */
import { closest, editDistance } from "../util/editDistance";
import { CONFIG_KEYS, CONFIG_NAMESPACE, STRUCTURED_KEYS } from "./keys";
import { AddProblem, MAX_CONFIG_VALUE_CHARS, problemList } from "./problems";
import { ConfigSource } from "./types";
import { Problem } from "../util/problem";

/** A config source as the sections read it. */
export interface RawConfig {
    /** The value of a key: its default when unset, parsed JSON unless a string (a problem and the default if not). */
    value(key: string): unknown;
    /** The text as stored, or undefined when unset (or refused as too large). */
    text(key: string): string | undefined;
    /** Every key set in the namespace. */
    keysSet(): string[];
    /** Keys set but encrypted, whose values cannot be read here (stack files read without the passphrase). */
    encrypted(): Set<string>;
    /** Whether a key's value is held as a secret. */
    isSecret(key: string): boolean;
}

/** Starts reading a source: the problem list with the size, key and namespace problems already on it. */
export function readRaw(given: ConfigSource): { raw: RawConfig; problems: Problem[]; add: AddProblem } {
    // Sizes first, before any value is parsed or matched.
    const oversized = new Set(given.keys().filter((key) => (given.get(key)?.length ?? 0) > MAX_CONFIG_VALUE_CHARS));
    const { problems, add } = problemList(oversized);
    for (const key of oversized) {
        problems.push({
            path: key,
            message: `is ${given.get(key)!.length} characters long; a value holds at most ${MAX_CONFIG_VALUE_CHARS}: check what was set (a file's contents pasted in?)`,
        });
    }
    unknownKeys(given.keys(), add);
    misplacedKeys(given.otherKeys?.() ?? [], add);
    const text = (key: string) => (oversized.has(key) ? undefined : given.get(key));
    const raw: RawConfig = {
        value: (key) => parsedValue(key, text(key), add),
        text,
        keysSet: () => given.keys(),
        encrypted: () => new Set(given.encrypted?.() ?? []),
        isSecret: (key) => given.isSecret(key),
    };
    return { raw, problems, add };
}

function unknownKeys(keys: ReadonlyArray<string>, add: AddProblem): void {
    for (const key of keys.filter((k) => !(k in CONFIG_KEYS))) {
        const known = closest(key, Object.keys(CONFIG_KEYS));
        const hint = known
            ? `; did you mean ${CONFIG_NAMESPACE}:${known}?`
            : ` (known keys: ${Object.keys(CONFIG_KEYS).join(", ")})`;
        add(key, `is not a config key of this project${hint}`);
    }
}

/**
 * A key in another namespace is another program's (docker:host, kubernetes:context), unless the namespace is a slip
 * of `bklite` or missing: then the program would never see it.
 */
function misplacedKeys(otherKeys: ReadonlyArray<string>, add: AddProblem): void {
    for (const full of otherKeys) {
        const colon = full.indexOf(":");
        const namespace = colon < 0 ? "" : full.slice(0, colon);
        const slip = namespace !== CONFIG_NAMESPACE && editDistance(namespace.toLowerCase(), CONFIG_NAMESPACE) <= 2;
        if (colon < 0 || slip) {
            const key = full.slice(colon + 1);
            add(
                full,
                `is not in the ${CONFIG_NAMESPACE} namespace, so the program never reads it; did you mean ${CONFIG_NAMESPACE}:${key}?`,
            );
        }
    }
}

function parsedValue(key: string, text: string | undefined, add: AddProblem): unknown {
    const decl = CONFIG_KEYS[key];
    if (text === undefined) {
        return decl.default;
    }
    if (decl.type === "string") {
        return text;
    }
    try {
        return JSON.parse(text);
    } catch {
        const structured = (STRUCTURED_KEYS as ReadonlyArray<string>).includes(key) || decl.type === "array";
        const example = structured ? "a YAML object or list in the stack file" : `a ${decl.type}`;
        add(key, `is not valid ${decl.type}; write ${example}`, decl.secret ? undefined : text);
        return decl.default;
    }
}
