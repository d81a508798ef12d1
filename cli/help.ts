/** `bklite --help` and every command's `--help`, made from the command table. */
import { COMMANDS, COMMON_ENVIRONMENT, CommandSpec, EXIT_CODES } from "./commands";

/** Two columns: names padded to one width, descriptions wrapped under their own column. */
function table(rows: Array<[string, string]>, indent = 2, width = 110): string[] {
    const left = Math.min(Math.max(...rows.map(([name]) => name.length)) + 2, 30);
    const lines: string[] = [];
    for (const [name, text] of rows) {
        const wrapped = wrap(text, width - indent - left);
        const first =
            name.length + 2 > left
                ? [name, ...wrapped]
                : [`${name.padEnd(left)}${wrapped[0] ?? ""}`, ...wrapped.slice(1)];
        const pad = " ".repeat(indent);
        lines.push(`${pad}${first[0]}`, ...first.slice(1).map((l) => `${pad}${" ".repeat(left)}${l}`));
    }
    return lines;
}

function wrap(text: string, width: number): string[] {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
        if (line && line.length + 1 + word.length > width) {
            lines.push(line);
            line = word;
        } else {
            line = line ? `${line} ${word}` : word;
        }
    }
    return line ? [...lines, line] : lines;
}

/** The usage line: required options first, the rest as [options]. */
export function usageLine(command: CommandSpec): string {
    const required = Object.entries(command.options)
        .filter(([, o]) => o.required)
        .map(([name, o]) => `--${name} ${o.value ?? "VALUE"}`);
    const optional = Object.values(command.options).some((o) => !o.required) ? ["[options]"] : [];
    return ["bklite", ...command.words, ...required, ...optional, ...(command.args ?? [])].join(" ");
}

export function commandHelp(command: CommandSpec): string {
    const options: Array<[string, string]> = Object.entries(command.options).map(([name, o]) => [
        `--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`,
        `${o.description}${o.required ? " (required)" : ""}`,
    ]);
    options.push(["-h, --help", "print this help"]);
    const environment = { ...(command.environment ?? {}), ...COMMON_ENVIRONMENT };
    const exitCodes = { ...EXIT_CODES, ...(command.exitCodes ?? {}) };
    const related = COMMANDS.filter((c) => c !== command && c.words[0] === command.words[0]);
    return [
        `Usage: ${usageLine(command)}`,
        "",
        ...wrap(command.description, 110),
        "",
        "Options:",
        ...table(options),
        "",
        "Environment:",
        ...table(Object.entries(environment)),
        "",
        "Exit codes:",
        ...table(Object.entries(exitCodes).map(([code, meaning]) => [code, meaning])),
        "",
        `Example${command.examples.length > 1 ? "s" : ""}:`,
        ...command.examples.map((e) => `  ${e}`),
        ...(related.length > 0
            ? ["", "See also:", ...table(related.map((c) => [`bklite ${c.words.join(" ")}`, c.summary]))]
            : []),
        "",
    ].join("\n");
}

/** `bklite seed --help`: the commands under one word. */
export function groupHelp(word: string): string {
    const commands = COMMANDS.filter((c) => c.words[0] === word);
    return [
        `Usage: bklite ${word} COMMAND [options]`,
        "",
        "Commands:",
        ...table(commands.map((c) => [c.words.join(" "), c.summary])),
        "",
        `Run 'bklite ${word} COMMAND --help' for a command's options, environment and an example.`,
        "",
    ].join("\n");
}

export function rootHelp(): string {
    return [
        "Usage: bklite COMMAND [options]",
        "",
        "The operator CLI of bklite-infra: every step `pulumi up` runs on the host (image loading, seeding, the firewall),",
        "and the offline plan and audit of a stack.",
        "",
        "Commands:",
        ...table(COMMANDS.map((c) => [c.words.join(" "), c.summary])),
        "",
        "Options:",
        ...table([
            ["-h, --help", "print this help (after a command: that command's help)"],
            ["-v, --version", "print the version"],
        ]),
        "",
        "Environment:",
        ...table(Object.entries(COMMON_ENVIRONMENT)),
        "",
        "Exit codes:",
        ...table(Object.entries(EXIT_CODES)),
        "",
        "Run 'bklite COMMAND --help' for a command's options, environment and an example.",
        "",
    ].join("\n");
}
