import { parseArgs } from "util";
import { closest } from "../src/util/editDistance";
import { InputError } from "../src/util/inputError";
import { CommandSpec } from "./types";

/** Bad command-line usage: printed with the command's usage line, exit code 2. */
export class UsageError extends InputError {}

/** Whether the arguments ask for help (`-h` or `--help` before any `--`). */
export function wantsHelp(args: string[]): boolean {
    const end = args.indexOf("--");
    return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/**
 * Parses a command's arguments against its spec, strictly: an unknown option, a missing value, a missing required
 * option or the wrong number of arguments is a UsageError naming it, raised before the command's modules load.
 */
export function parseInvocation(
    command: CommandSpec,
    args: string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
    checkOptionNames(command, args);
    let parsed: ReturnType<typeof parseArgs>;
    try {
        const options = Object.fromEntries(
            Object.entries(command.options).map(([name, o]) => [name, { type: o.type }]),
        );
        parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
    } catch (e) {
        throw new UsageError(parserProblem(command, e as Error & { code?: string }));
    }
    const expected = command.args ?? [];
    if (parsed.positionals.length !== expected.length) {
        const name = command.words.join(" ");
        throw new UsageError(
            expected.length === 0
                ? `${name} takes no arguments, got '${parsed.positionals.join(" ")}'`
                : `${name} takes ${expected.join(" ")} (${expected.length} argument${expected.length === 1 ? "" : "s"}), got ${parsed.positionals.length}`,
        );
    }
    for (const [name, option] of Object.entries(command.options)) {
        const value = parsed.values[name];
        if (option.required && (typeof value !== "string" || value === "")) {
            throw new UsageError(`--${name} is required (e.g. --${name} ${option.required.example})`);
        }
        const refused = typeof value === "string" ? option.check?.(value) : undefined;
        if (refused !== undefined) {
            throw new UsageError(`--${name} ${refused}`);
        }
    }
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** Every `--name` before `--` is one of the command's options: an unknown one is named, with what it may have meant. */
function checkOptionNames(command: CommandSpec, args: string[]): void {
    const end = args.indexOf("--");
    for (const arg of end < 0 ? args : args.slice(0, end)) {
        if (!arg.startsWith("-") || arg === "-") {
            continue;
        }
        const name = arg.replace(/^--?/, "").split("=")[0];
        if (!(name in command.options)) {
            const meant = closest(name, Object.keys(command.options));
            const options = Object.keys(command.options)
                .map((o) => `--${o}`)
                .join(", ");
            throw new UsageError(
                `unknown option '${arg.split("=")[0]}'${meant ? `; did you mean --${meant}?` : ` (options: ${options || "none"})`}`,
            );
        }
    }
}

/** Node's parser errors in the CLI's words: which option, and what it needs. */
function parserProblem(command: CommandSpec, e: Error & { code?: string }): string {
    const named = /'(--?[A-Za-z0-9-]+)/.exec(e.message)?.[1];
    const option = named ? command.options[named.replace(/^--?/, "")] : undefined;
    if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && named && option) {
        return option.type === "boolean"
            ? `${named} takes no value`
            : `${named} needs a value${option.value ? ` (${named} ${option.value})` : ""}`;
    }
    return e.message;
}
