/**
 * How the config's problems are collected and reported: every section adds to one list, each problem naming its
 * `bklite:` key, the value as written (cut short, never a secret's) and what to do.
 */
import { InputError } from "../util/inputError";
import { Problem, formatProblem } from "../util/problem";
import { CONFIG_NAMESPACE } from "./keys";

/** Adds a problem at a key path; `value` is quoted as written (JSON, cut short). */
export type AddProblem = (key: string, message: string, value?: unknown) => void;

/** The longest config value read: the largest real one (a list of probe packages) is a few KiB. */
export const MAX_CONFIG_VALUE_CHARS = 64 * 1024;
/** How much of a bad value a problem quotes. */
const QUOTED_VALUE_CHARS = 200;

/** A value as a problem quotes it: JSON, cut short. */
export function quoted(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > QUOTED_VALUE_CHARS
        ? `${text.slice(0, QUOTED_VALUE_CHARS)}… (${text.length} characters)`
        : text;
}

/** Thrown when the config has problems; its message lists every one. */
export class ConfigError extends InputError {
    constructor(public readonly problems: Problem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

/** One line per problem: `bklite:key = value: message`. */
export function formatProblems(problems: ReadonlyArray<Problem>): string {
    // A key's path is namespaced; a path that is not a key (the stack's name) is said as it is.
    const isKey = (path: string) => /^[^\s:]+$/.test(path);
    const lines = problems.map((p) =>
        formatProblem({ ...p, path: isKey(p.path) ? `${CONFIG_NAMESPACE}:${p.path}` : p.path }),
    );
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    return `the stack config has ${count}; nothing was deployed:\n${lines.map((l) => `  - ${l}`).join("\n")}`;
}

/**
 * The list every section adds to, and its `add`: a key whose value was refused as oversized is said once, and
 * nothing else is said of it.
 */
export function problemList(oversized: ReadonlySet<string>): { problems: Problem[]; add: AddProblem } {
    const problems: Problem[] = [];
    const add: AddProblem = (key, message, value) => {
        if (!oversized.has(/^[^.[]*/.exec(key)![0])) {
            problems.push({ path: key, message, value: value === undefined ? undefined : quoted(value) });
        }
    };
    return { problems, add };
}
