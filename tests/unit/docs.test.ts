/**
 * The documentation against the code: the generated references in step with what defines them, every link landing,
 * and every command in a shell block of README.md and docs/ checked where it can be here: `bklite` invocations by
 * the CLI's own parser and command table (so a renamed flag fails this test, not an operator), `npm` scripts
 * against package.json, `pulumi config set` keys against the config keys, stack outputs against index.ts, and the
 * commands that need no deployed stack run for real.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { findCommand } from "../../cli/commands";
import { parseInvocation, wantsHelp } from "../../cli/usage";
import { CONFIG_KEYS, CONFIG_NAMESPACE } from "../../src/config/keys";
import { SERVICES } from "../../src/services/catalog";
import { parse as parseYaml } from "yaml";
import { parseStackConfig } from "../../src/config/parse";
import { readStackFiles, stackFileSource } from "../../src/config/stackFiles";
import { GENERATED_FILES } from "../../scripts/docs";
import { bkliteArgv } from "../support/cli";
import { PROJECT_ROOT } from "../support/stackFiles";

/** The hand-written documents (the generated ones are GENERATED_FILES). */
const HAND_WRITTEN = [
    "README.md",
    ...fs
        .readdirSync(path.join(PROJECT_ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
];
const read = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");

interface Block {
    file: string;
    line: number;
    lang: string;
    text: string;
}

/** The fenced code blocks of a Markdown file. */
function codeBlocks(file: string, markdown: string): Block[] {
    const blocks: Block[] = [];
    const lines = markdown.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const open = /^```(\S*)\s*$/.exec(lines[i]);
        if (!open) {
            continue;
        }
        const start = i;
        const body: string[] = [];
        while (++i < lines.length && !/^```\s*$/.test(lines[i])) {
            body.push(lines[i]);
        }
        blocks.push({ file, line: start + 1, lang: open[1], text: body.join("\n") });
    }
    return blocks;
}

/** Splits a line into words as sh does for simple commands: quotes kept together, `$(...)` as one word. */
function shellWords(line: string): string[] {
    const words: string[] = [];
    let word = "";
    let quote: string | undefined;
    let depth = 0;
    let has = false;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (quote) {
            if (c === quote) {
                quote = undefined;
            } else {
                word += c;
            }
        } else if (depth > 0) {
            word += c;
            depth += c === "(" ? 1 : c === ")" ? -1 : 0;
        } else if (c === "'" || c === '"') {
            quote = c;
            has = true;
        } else if (c === "$" && line[i + 1] === "(") {
            word += "$(";
            depth = 1;
            i++;
            has = true;
        } else if (/\s/.test(c)) {
            if (has || word !== "") {
                words.push(word);
            }
            word = "";
            has = false;
        } else {
            word += c;
            has = true;
        }
    }
    if (has || word !== "") {
        words.push(word);
    }
    return words;
}

/** The simple commands of a shell block: continuations joined, comments dropped, split at `&&`, `||`, `;` and `|`. */
function shellCommands(text: string): string[][] {
    const joined = text.replace(/\\\n\s*/g, " ");
    const commands: string[][] = [];
    for (const raw of joined.split("\n")) {
        // A comment starts at a # after whitespace, outside quotes.
        let line = "";
        let quote: string | undefined;
        for (let i = 0; i < raw.length; i++) {
            const c = raw[i];
            if (!quote && c === "#" && (i === 0 || /\s/.test(raw[i - 1]))) {
                break;
            }
            if (c === "'" || c === '"') {
                quote = quote === c ? undefined : (quote ?? c);
            }
            line += c;
        }
        for (const part of line.split(/\s*(?:&&|\|\||;|\|)\s*/)) {
            let words = shellWords(part.trim());
            // Leading assignments (VAR=value) and `export` set the environment; redirections are not arguments.
            words = words.filter(
                (w, i) => !(i === 0 && w === "export") && !/^[<>]/.test(w) && !(i > 0 && /^[<>]/.test(words[i - 1])),
            );
            while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
                words.shift();
            }
            if (words.length > 0) {
                commands.push(words);
            }
        }
    }
    return commands;
}

/** The bklite arguments of a command, or undefined when it does not run bklite. */
function bkliteArgs(words: string[]): string[] | undefined {
    if (words[0] === "npx" && words[1] === "bklite") {
        return words.slice(2);
    }
    if (words[0] === "bklite") {
        return words.slice(1);
    }
    if (words[0] === "node" && words[1] === "bin/bklite") {
        return words.slice(2);
    }
    return undefined;
}

const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);

function shellBlocksOf(files: string[]): Block[] {
    return files.flatMap((f) => codeBlocks(f, read(f))).filter((b) => SHELL_LANGS.has(b.lang));
}

describe("documentation", () => {
    it("has the generated references in step with the code that defines them (npm run docs)", () => {
        for (const [file, render] of Object.entries(GENERATED_FILES)) {
            assert.ok(fs.existsSync(path.join(PROJECT_ROOT, file)), `${file} is committed`);
            assert.strictEqual(
                read(file),
                render(),
                `${file} is out of step with the code: run \`npm run docs\` and commit it`,
            );
        }
        const check = spawnSync(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", "scripts/docs.ts", "--check"],
            { cwd: PROJECT_ROOT, encoding: "utf8" },
        );
        assert.strictEqual(check.status, 0, check.stderr);
    });

    it("documents every config key and every command in the references", () => {
        const config = read("docs/reference/config.md");
        for (const key of Object.keys(CONFIG_KEYS)) {
            assert.ok(config.includes(`### \`${CONFIG_NAMESPACE}:${key}\``), key);
        }
        const cli = read("docs/reference/cli.md");
        for (const word of [
            "seed apply",
            "verify",
            "backup",
            "backup verify",
            "restore",
            "firewall apply",
            "plan diff",
            "audit",
        ]) {
            assert.ok(cli.includes(`## bklite ${word}\n`), word);
        }
    });

    it("gives every structured key an example that is valid YAML and a config the program accepts", () => {
        for (const [key, decl] of Object.entries(CONFIG_KEYS).filter(([, d]) => d.example.startsWith("bklite:"))) {
            const parsed = parseYaml(decl.example) as Record<string, unknown>;
            assert.deepStrictEqual(Object.keys(parsed), [`${CONFIG_NAMESPACE}:${key}`], key);
            const overrides: Record<string, unknown> = {
                [`${CONFIG_NAMESPACE}:${key}`]: parsed[`${CONFIG_NAMESPACE}:${key}`],
            };
            const problems = parseStackConfig(
                stackFileSource(readStackFiles(PROJECT_ROOT, "dev", overrides)),
            ).problems.filter((p) => p.path === key || p.path.startsWith(`${key}.`) || p.path.startsWith(`${key}[`));
            assert.deepStrictEqual(problems, [], `the ${key} example as config`);
        }
        const reference = read("docs/reference/config.md");
        assert.doesNotMatch(reference, /\\n|\\"/, "no escaped newlines or quotes in the examples");
        assert.doesNotMatch(reference, /openssl rand[^\n]*bklite:(registryPassword|previousSecretKey)/);
    });

    it("keeps the README a front door: about 150 lines, the set-up commands, links into docs/ for every task", () => {
        const readme = read("README.md");
        assert.ok(readme.split("\n").length <= 160, `README.md has ${readme.split("\n").length} lines`);
        const commands = shellBlocksOf(["README.md"]).flatMap((b) => shellCommands(b.text).map((w) => w.join(" ")));
        assert.ok(commands.includes("npm ci"), "the first set-up command");
        assert.ok(commands.includes("bash scripts/up.sh dev --create"), "the second");
        assert.ok(commands.includes("npm test"));
        for (const doc of HAND_WRITTEN.filter((d) => d !== "README.md")) {
            assert.ok(readme.includes(`](${doc})`), `README links ${doc}`);
        }
        const ci = read(".ci/run");
        assert.match(ci, /^npm ci --no-audit --no-fund$/m, "CI installs as the README says");
        assert.match(
            ci,
            /^npm test \|\| status=\$\?$/m,
            "CI runs the test command the README gives, and fails with it",
        );
        assert.match(ci, /^exit "\$status"$/m);
    });

    it("has every relative link land on a file, and every #anchor on a heading", () => {
        const slug = (heading: string) =>
            heading
                .toLowerCase()
                .replace(/[`*]/g, "")
                .replace(/[^\p{L}\p{N}\s_-]/gu, "")
                .trim()
                .replace(/\s/g, "-");
        for (const file of [...HAND_WRITTEN, ...Object.keys(GENERATED_FILES)]) {
            const text = read(file);
            for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                if (/^[a-z]+:/.test(target)) {
                    continue;
                }
                const [relative, anchor] = target.split("#");
                const resolved = relative === "" ? file : path.join(path.dirname(file), relative);
                assert.ok(fs.existsSync(path.join(PROJECT_ROOT, resolved)), `${file}: ${target} does not exist`);
                if (anchor !== undefined && resolved.endsWith(".md")) {
                    const headings = read(resolved)
                        .split("\n")
                        .filter((l) => /^#+ /.test(l))
                        .map((l) => slug(l.replace(/^#+ /, "")));
                    assert.ok(headings.includes(anchor), `${file}: ${target}: no heading #${anchor} in ${resolved}`);
                }
            }
        }
    });

    it("keeps docs/upstream.md in step: every path it names exists, every service has a row, every row a source", () => {
        const text = read("docs/upstream.md");
        const named = [...text.matchAll(/`((?:src|tests|scripts)\/[^`*]+)`/g)].map((m) => m[1]);
        assert.ok(named.length > 20, "the program's side is named by its code");
        assert.deepStrictEqual(
            named.filter((p) => !fs.existsSync(path.join(PROJECT_ROOT, p))),
            [],
            "paths docs/upstream.md names that no longer exist",
        );
        const rows = text
            .split("\n")
            .filter((line) => line.startsWith("| ") && !/^\| (---|alias|service|edge|point) /.test(line));
        const cells = (row: string) =>
            row
                .split(/(?<!\\)\|/)
                .slice(1, -1)
                .map((c) => c.trim());
        for (const row of rows.filter((r) => cells(r).length === 4)) {
            assert.match(cells(row)[1], /\b(HP|UPC|UH)\b/, `a row without its upstream source: ${row}`);
        }
        const services = rows.map((r) => cells(r)[0]).join(", ");
        for (const service of SERVICES.map((s) => s.name)) {
            assert.match(services, new RegExp(`\\b${service}\\b`), `docs/upstream.md has no row for ${service}`);
        }
    });

    it("lists exactly the provider plugins and versions the lockfile pins, where the offline guide says to install them", () => {
        const { requiredPlugins, pluginFileName } =
            require("../../src/supply/plugins") as typeof import("../../src/supply/plugins");
        const guide = read("docs/offline-site.md");
        const plugins = requiredPlugins(PROJECT_ROOT);
        assert.deepStrictEqual(
            plugins.map((p) => p.name),
            ["command", "docker", "kubernetes", "postgresql", "random", "tls"],
        );
        const rows = guide.split("\n").filter((l) => /^\| [a-z]+ \| [0-9.]+ \| `pulumi-resource-/.test(l));
        assert.deepStrictEqual(
            rows,
            plugins.map((p) => `| ${p.name} | ${p.version} | \`${pluginFileName(p)}\` |`),
        );
        assert.ok(guide.includes(`for p in ${plugins.map((p) => `${p.name}:${p.version}`).join(" ")}; do`));
    });

    describe("every command in a shell block", () => {
        const blocks = shellBlocksOf([...HAND_WRITTEN, ...Object.keys(GENERATED_FILES)]);
        const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
        const outputs = [...read("index.ts").matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
        const checked: string[] = [];

        it("finds the shell blocks", () => {
            assert.ok(blocks.length >= 15, `${blocks.length} blocks`);
        });

        for (const block of blocks) {
            it(`${block.file}:${block.line}`, () => {
                for (const words of shellCommands(block.text)) {
                    const where = `${block.file}:${block.line}: ${words.join(" ")}`;
                    const args = bkliteArgs(words);
                    if (args !== undefined) {
                        if (args.length === 0 || args[0] === "--help" || args[0] === "--version") {
                            continue;
                        }
                        const found = findCommand(args);
                        assert.ok(found, `${where}: no such bklite command`);
                        if (!wantsHelp(found.rest)) {
                            assert.doesNotThrow(
                                () => parseInvocation(found.command, found.rest),
                                (e: Error) => `${where}: ${e.message}`,
                            );
                        }
                        checked.push(where);
                    } else if (words[0] === "npm") {
                        if (words[1] === "run") {
                            assert.ok(scripts.includes(words[2]), `${where}: package.json has no script ${words[2]}`);
                        } else {
                            assert.ok(["ci", "test", "install"].includes(words[1]), `${where}: npm ${words[1]}`);
                        }
                        checked.push(where);
                    } else if ((words[0] === "bash" && words[1] === "scripts/up.sh") || words[0] === "scripts/up.sh") {
                        const rest = words.slice(words[0] === "bash" ? 2 : 1);
                        assert.ok(
                            rest.length >= 1 && rest.slice(1).every((a) => a === "--preview" || a === "--create"),
                            `${where}: scripts/up.sh STACK [--preview] [--create]`,
                        );
                        checked.push(where);
                    } else if (words[0] === "pulumi" && words[1] === "config" && words[2] === "set") {
                        const key = words.slice(3).find((w) => w.includes(":") && !w.startsWith("-"));
                        assert.ok(key, `${where}: no key`);
                        const [namespace, name] = [
                            key.slice(0, key.indexOf(":")),
                            key.slice(key.indexOf(":") + 1).split(/[.[]/)[0],
                        ];
                        if (namespace === CONFIG_NAMESPACE) {
                            assert.ok(name in CONFIG_KEYS, `${where}: ${CONFIG_NAMESPACE}:${name} is not a config key`);
                        }
                        checked.push(where);
                    } else if (
                        words[0] === "pulumi" &&
                        words[1] === "stack" &&
                        words[2] === "output" &&
                        words[3] !== undefined &&
                        !words[3].startsWith("-")
                    ) {
                        assert.ok(outputs.includes(words[3]), `${where}: the program exports no output ${words[3]}`);
                        checked.push(where);
                    }
                }
            });
        }

        after(() => {
            assert.ok(checked.length >= 30, `only ${checked.length} commands were checked`);
        });
    });

    it("runs for real the documented commands that need no deployed stack: help, plugins, plans of the committed stacks and their diff", function () {
        this.timeout(120000);
        const documented = shellBlocksOf(HAND_WRITTEN)
            .flatMap((b) => shellCommands(b.text))
            .map((words) => bkliteArgs(words))
            .filter((args): args is string[] => args !== undefined);
        const run = (args: string[]) => {
            const [node, ...cli] = bkliteArgv(args);
            const result = spawnSync(node, cli, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
            assert.strictEqual(result.status, 0, `bklite ${args.join(" ")}: ${result.stderr}`);
            return result.stdout;
        };
        const helpAndPlugins = documented.filter(
            (args) => args.length === 0 || args[0] === "plugins" || args.includes("--help"),
        );
        assert.ok(helpAndPlugins.length >= 2, JSON.stringify(helpAndPlugins));
        helpAndPlugins.forEach(run);
        // `bklite plan --stack prod > FILE` of a committed stack, then `bklite plan diff` of two such files.
        const plans = documented.filter(
            (args) =>
                args[0] === "plan" && args[1] === "--stack" && ["dev", "prod"].includes(args[2]) && args.length === 3,
        );
        assert.ok(plans.length >= 1, "the docs show a plan of a committed stack");
        const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "docs-plans-"));
        try {
            // Two plans of one stack, to diff: the first stack shown, twice if it is shown once.
            const sameStack = plans.filter((args) => args[2] === plans[0][2]);
            const files = [sameStack[0], sameStack[1] ?? sameStack[0]].map((args, i) => {
                const file = path.join(dir, `${i}.json`);
                fs.writeFileSync(file, run(args));
                assert.strictEqual(JSON.parse(fs.readFileSync(file, "utf8")).stack, args[2]);
                return file;
            });
            if (documented.some((args) => args[0] === "plan" && args[1] === "diff")) {
                assert.match(run(["plan", "diff", files[0], files[files.length - 1]]), /no changes/i);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
