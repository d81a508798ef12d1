import { parseArgs } from "util";

/** Bad command-line usage: printed with the help text, exit code 2. */
export class UsageError extends Error {}

/** Parses options strictly; an unknown or malformed option is a UsageError naming it. */
export function parseOptions<T extends Record<string, { type: "string" | "boolean"; short?: string }>>(args: string[], options: T) {
    try {
        return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
}

/** Parses options and positional arguments strictly; an unknown or malformed option is a UsageError. */
export function parseArguments<T extends Record<string, { type: "string" | "boolean"; short?: string }>>(args: string[], options: T) {
    try {
        return parseArgs({ args, options, strict: true, allowPositionals: true });
    } catch (e) {
        throw new UsageError((e as Error).message);
    }
}

/** A required string option, or a UsageError naming it. */
export function required(values: Record<string, unknown>, name: string, example: string): string {
    const value = values[name];
    if (typeof value !== "string" || value === "") {
        throw new UsageError(`--${name} is required (e.g. --${name} ${example})`);
    }
    return value;
}
