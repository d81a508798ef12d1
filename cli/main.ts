/**
 * `bklite`: the operator CLI. Every step the program runs at deploy time is a command here, so it can be run,
 * tested and re-run by hand. The command table (commands.ts) holds every command's options and help; a command's
 * modules load only when it runs, so help, usage errors and `--version` answer at once.
 */
import * as fs from "fs";
import * as path from "path";
import { InputError } from "../src/util/inputError";
import { PROJECT_ROOT } from "../src/util/shell";
import { closest } from "../src/util/editDistance";
import { COMMANDS, commandsUnder, findCommand } from "./commands";
import { deferFunctionSerializer } from "./deferSerializer";
import { fillFromStack } from "./stackEnvironment";
import { commandHelp, groupHelp, rootHelp, usageLine } from "./help";
import { CommandSpec } from "./types";
import { UsageError, parseInvocation, wantsHelp } from "./usage";

/** The version in package.json. */
export function version(): string {
    return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string })
        .version;
}

export async function main(
    argv: string[],
    out: NodeJS.WritableStream = process.stdout,
    err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
    const [first, ...more] = argv;
    if (first === undefined) {
        out.write(rootHelp());
        return 2;
    }
    if (first === "--help" || first === "-h") {
        out.write(rootHelp());
        return 0;
    }
    if (first === "--version" || first === "-v") {
        out.write(`bklite ${version()}\n`);
        return 0;
    }
    if (first === "help") {
        // `bklite help seed apply` is `bklite seed apply --help`.
        return more.length === 0 ? (out.write(rootHelp()), 0) : main([...more, "--help"], out, err);
    }
    const found = findCommand(argv);
    if (found === undefined) {
        const group = commandsUnder(first);
        if (group.length === 0) {
            const meant = closest(first, [...new Set(COMMANDS.map((c) => c.words[0]))]);
            err.write(
                `bklite: unknown command '${first}'${meant ? `; did you mean '${meant}'?` : ""}\nRun 'bklite --help' for the commands.\n`,
            );
            return 2;
        }
        if (wantsHelp(more)) {
            out.write(groupHelp(first));
            return 0;
        }
        const sub = more[0];
        const subs = group.map((c) => c.words[1]).join(" or ");
        const meant =
            sub === undefined
                ? undefined
                : closest(
                      sub,
                      group.map((c) => c.words[1]),
                  );
        err.write(
            `bklite: ${sub === undefined || sub.startsWith("-") ? `${first} needs a subcommand: ${subs}` : `unknown ${first} subcommand '${sub}'${meant ? `; did you mean '${first} ${meant}'?` : ""}`}\n\n${groupHelp(first)}`,
        );
        return 2;
    }
    const { command, rest } = found;
    if (wantsHelp(rest)) {
        out.write(commandHelp(command));
        return 0;
    }
    return run(command, rest, out, err);
}

/** Parses a command's arguments, fills its variables from the stack when it reads them there, and runs it. */
async function run(
    command: CommandSpec,
    rest: string[],
    out: NodeJS.WritableStream,
    err: NodeJS.WritableStream,
): Promise<number> {
    try {
        const { values, positionals } = parseInvocation(command, rest);
        // Not under `pulumi up`, whose commands get their variables and the config (--stack-config) from the program.
        if (command.readsStackEnvironment && typeof values.stack === "string" && values["stack-config"] === undefined) {
            const projectDir = path.resolve((values["project-dir"] as string | undefined) ?? ".");
            fillFromStack(values.stack, projectDir, command.readsStackEnvironment);
        }
        deferFunctionSerializer();
        const handler = await command.load();
        return await handler({ values, positionals, out, err });
    } catch (e) {
        if (e instanceof UsageError) {
            err.write(
                `bklite: ${e.message}\nUsage: ${usageLine(command)}\nRun 'bklite ${command.words.join(" ")} --help' for more.\n`,
            );
            return 2;
        }
        if (e instanceof InputError) {
            err.write(`bklite: ${e.message}\n`);
            return 2;
        }
        err.write(`bklite: ${(e as Error).message}\n`);
        if (process.env.BKLITE_DEBUG) {
            err.write(`${(e as Error).stack}\n`);
        }
        return 1;
    }
}
