/** The shapes of the CLI's command table (commands.ts) and of what a command's handler receives. */

export interface OptionSpec {
    type: "string" | "boolean";
    /** What the value is, as help shows it (FILE, DIR, N). */
    value?: string;
    description: string;
    /** Checked before the command's modules load; the example completes the error message. */
    required?: { example: string };
    /** Checks a given value before the command's modules load: why it is refused, or undefined. */
    check?: (value: string) => string | undefined;
}

/** What a command receives: parsed options, positional arguments, and where to write. */
export interface Invocation {
    values: Record<string, string | boolean | undefined>;
    positionals: string[];
    out: NodeJS.WritableStream;
    err: NodeJS.WritableStream;
}

export type CommandHandler = (call: Invocation) => Promise<number>;

export interface CommandSpec {
    /** The words after `bklite`, e.g. ["seed", "apply"]. */
    words: string[];
    /** One line, for the list of commands. */
    summary: string;
    /** Positional arguments by name, all required (e.g. ["BASE", "HEAD"]); none when absent. */
    args?: string[];
    /** What the command does, in a few sentences. */
    description: string;
    options: Record<string, OptionSpec>;
    /** Environment variables it reads, with what each holds. */
    environment?: Record<string, string>;
    /** Exit codes, when they mean more than the usual 0 done, 1 failed, 2 bad input. */
    exitCodes?: Record<number, string>;
    examples: string[];
    /**
     * With --stack: the variables it cannot run without; when one is unset, the unset BKLITE_* variables are read from
     * the stack's operatorEnvironment output.
     */
    readsStackEnvironment?: string[];
    /** Loads the command's modules; called only when it runs. */
    load: () => Promise<CommandHandler>;
}
