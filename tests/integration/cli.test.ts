/**
 * The CLI as operators start it (node bin/bklite): help for every command, what each start loads, the compiled
 * build it runs (made by `npm ci`'s prepare, rebuilt when missing or stale, reported when it cannot be), and the
 * Pulumi program's start as `pulumi up` makes it: compiled, from the same build.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { COMMANDS, COMMON_ENVIRONMENT, findCommand } from "../../cli/commands";
import { parseInvocation } from "../../cli/usage";
import { parseSecurityConfig } from "../../src/security/rules";
import { DEFERRED_MODULES } from "../../cli/deferSerializer";
import { copyCheckout } from "../support/checkout";
import { CliResult, bklite, bkliteArgv, bkliteProcess } from "../support/cli";
import { tempDir } from "../support/processes";
import { PROJECT_ROOT } from "../support/stackFiles";

const PACKAGE = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
    version: string;
    main: string;
    scripts: Record<string, string>;
};

/** Runs `node bin/bklite <args>` in `root` (default: this checkout). */
function cliIn(root: string, args: string[]): CliResult {
    const result = spawnSync(process.execPath, [path.join(root, "bin", "bklite"), ...args], {
        cwd: root,
        encoding: "utf8",
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The modules a real `bklite <args>` loads, by file path. */
function loadedModules(args: string[]): { result: CliResult; modules: string[] } {
    const out = path.join(tempDir("cli-modules"), "modules.txt");
    const env = {
        ...process.env,
        NODE_OPTIONS: `--require ${path.join(PROJECT_ROOT, "tests", "support", "moduleProbe.js")}`,
        BKLITE_MODULE_PROBE_OUT: out,
    };
    const result = bkliteProcess(args, { env });
    return { result, modules: fs.readFileSync(out, "utf8").split("\n") };
}

/** What must never load just to print help or refuse usage. */
const HEAVY = [
    ["@pulumi/pulumi", /node_modules\/@pulumi\//],
    ["pg", /node_modules\/pg\//],
    ["nats", /node_modules\/nats\//],
    ["the plan renderer", /src\/plan\/planStack\.js$/],
    ["the TypeScript compiler", /node_modules\/typescript\//],
] as const;

function heavyIn(modules: string[]): string[] {
    return HEAVY.filter(([, pattern]) => modules.some((m) => pattern.test(m))).map(([name]) => name);
}

describe("the bklite CLI", function () {
    this.timeout(120000);

    describe("help", () => {
        it("answers --help, help and no arguments with every command, and --version with package.json's version", async () => {
            const help = await bklite("--help");
            assert.strictEqual(help.code, 0, help.stderr);
            for (const command of COMMANDS) {
                assert.match(
                    help.stdout,
                    new RegExp(`^  ${command.words.join(" ")} +${escape(command.summary.slice(0, 30))}`, "m"),
                );
            }
            assert.strictEqual((await bklite("help")).stdout, help.stdout);
            const bare = await bklite();
            assert.strictEqual(bare.code, 2, "no command is bad usage");
            assert.strictEqual(bare.stdout, help.stdout);
            for (const flag of ["--version", "-v"]) {
                const version = await bklite(flag);
                assert.strictEqual(version.code, 0);
                assert.strictEqual(version.stdout, `bklite ${PACKAGE.version}\n`);
            }
        });

        for (const command of COMMANDS) {
            const name = command.words.join(" ");
            it(`bklite ${name} --help: usage, every option, the environment, exit codes and an example`, async () => {
                const result = await bklite(...command.words, "--help");
                assert.strictEqual(result.code, 0, result.stderr);
                assert.strictEqual(result.stderr, "");
                const text = result.stdout;
                assert.match(text, new RegExp(`^Usage: bklite ${name}( |$)`, "m"));
                for (const [option, spec] of Object.entries(command.options)) {
                    assert.match(
                        text,
                        new RegExp(`^  --${option}${spec.type === "string" ? ` ${escape(spec.value!)}` : ""} `, "m"),
                        `--${option}`,
                    );
                }
                for (const variable of [
                    ...Object.keys(command.environment ?? {}),
                    ...Object.keys(COMMON_ENVIRONMENT),
                ]) {
                    // A name too long for the column stands on a line of its own, its text below it.
                    assert.match(text, new RegExp(`^  ${variable}( |$)`, "m"), variable);
                }
                assert.match(text, /^Exit codes:\n {2}0 /m);
                assert.match(text, /^Examples?:\n {2}(\S+=\S+ )*(bklite|pulumi|echo) /m);
                for (const example of command.examples) {
                    assert.ok(example.includes(`bklite ${name}`), `the example runs the command: ${example}`);
                }
                // -h and `bklite help <command>` are the same.
                assert.strictEqual((await bklite(...command.words, "-h")).stdout, text);
                assert.strictEqual((await bklite("help", ...command.words)).stdout, text);
            });
        }

        it("prints a group's commands for `bklite seed --help`, and refuses a group without its subcommand", async () => {
            const group = await bklite("firewall", "--help");
            assert.strictEqual(group.code, 0);
            assert.match(group.stdout, /^ {2}firewall apply +only the listed sources/m);
            assert.match(group.stdout, /^ {2}firewall remove +take the firewall away/m);
            const bare = await bklite("seed");
            assert.strictEqual(bare.code, 2);
            assert.match(bare.stderr, /^bklite: seed needs a subcommand: apply$/m);
            const unknown = await bklite("images", "pull");
            assert.strictEqual(unknown.code, 2);
            assert.match(unknown.stderr, /unknown images subcommand 'pull'/);
        });

        it("names every BKLITE_* variable the CLI's code reads in some command's help", () => {
            const read = new Set<string>();
            const visit = (dir: string) => {
                for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                    const full = path.join(dir, entry.name);
                    if (entry.isDirectory()) {
                        visit(full);
                    } else if (entry.name.endsWith(".ts")) {
                        for (const match of fs.readFileSync(full, "utf8").matchAll(/BKLITE_[A-Z0-9_]+/g)) {
                            read.add(match[0]);
                        }
                    }
                }
            };
            visit(path.join(PROJECT_ROOT, "cli"));
            visit(path.join(PROJECT_ROOT, "src"));
            const documented = new Set([
                ...Object.keys(COMMON_ENVIRONMENT),
                ...COMMANDS.flatMap((c) => Object.keys(c.environment ?? {})),
            ]);
            assert.ok(read.size >= 10, "the scan finds the variables");
            assert.deepStrictEqual([...read].filter((v) => !documented.has(v)).sort(), []);
        });
    });

    describe("bklite init", () => {
        let project: string;
        before(() => {
            project = tempDir("cli-init");
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
        });
        after(() => fs.rmSync(project, { recursive: true, force: true }));

        it("writes a commented stack file for a new site that bklite plan accepts as it is, on either runtime", async () => {
            const made = await bklite(
                "init",
                "--stack",
                "site-a",
                "--host-address",
                "10.20.0.5",
                "--project-dir",
                project,
            );
            assert.strictEqual(made.code, 0, made.stderr);
            const k8s = await bklite(
                ...["init", "--stack", "site-b", "--host-address", "10.30.0.8", "--runtime", "kubernetes"],
                ...["--registry", "harbor.factory.local/bklite", "--project-dir", project],
            );
            assert.strictEqual(k8s.code, 0, k8s.stderr);
            for (const [stack, runtime] of [
                ["site-a", "docker"],
                ["site-b", "kubernetes"],
            ]) {
                const file = path.join(project, `Pulumi.${stack}.yaml`);
                assert.match(
                    fs.readFileSync(file, "utf8"),
                    /^ {2}# The address agents and browsers reach this site by/m,
                );
                const planned = await bklite("plan", "--stack", stack, "--config-file", file, "--format", "json");
                assert.strictEqual(planned.code, 0, planned.stderr);
                assert.strictEqual(JSON.parse(planned.stdout).config["bklite:runtime"], runtime);
            }
            const images = JSON.parse(
                (await bklite("plan", "--stack", "site-b", "--config-file", path.join(project, "Pulumi.site-b.yaml")))
                    .stdout,
            ).outputs.images as Record<string, string>;
            assert.ok(Object.values(images).every((ref) => ref.startsWith("harbor.factory.local/bklite/")));
        });

        it("never overwrites a stack file, and writes nothing for values the config's rules refuse, naming each", async () => {
            const file = path.join(project, "Pulumi.site-a.yaml");
            const before = fs.readFileSync(file, "utf8");
            const again = await bklite(
                "init",
                "--stack",
                "site-a",
                "--host-address",
                "10.9.9.9",
                "--project-dir",
                project,
            );
            assert.strictEqual(again.code, 2);
            assert.match(again.stderr, /Pulumi\.site-a\.yaml exists; bklite init never overwrites a stack file/);
            assert.strictEqual(fs.readFileSync(file, "utf8"), before);
            const bad = await bklite(
                ...["init", "--stack", "site-c", "--host-address", "10.20.0", "--registry", "Harbor/x"],
                ...["--project-dir", project],
            );
            assert.strictEqual(bad.code, 2);
            assert.match(bad.stderr, /^ {2}- --host-address "10\.20\.0": is not a valid IPv4 address/m);
            assert.match(bad.stderr, /^ {2}- --registry "Harbor\/x": /m);
            assert.deepStrictEqual(fs.readdirSync(project).sort(), [
                "Pulumi.site-a.yaml",
                "Pulumi.site-b.yaml",
                "Pulumi.yaml",
            ]);
        });
    });

    describe("the help's examples", () => {
        /** The bklite invocation of an example line: environment assignments, redirections and pipes set aside. */
        const invocations = (example: string) =>
            example
                .split(/&&|\|(?!\|)/)
                .map((part) => part.trim())
                .filter((part) => /(^|\s)bklite\s/.test(part))
                .map((part) =>
                    part
                        .replace(/^([A-Z_]+=\S*\s+)+/, "")
                        .replace(/\s*[<>].*$/, "")
                        .split(/\s+/)
                        .slice(1),
                );

        it("parse as written, every one, by the CLI's own parser and checks", () => {
            for (const command of COMMANDS) {
                for (const example of command.examples) {
                    for (const args of invocations(example)) {
                        const found = findCommand(args);
                        assert.ok(found, `${example}: no such command`);
                        assert.doesNotThrow(() => parseInvocation(found.command, found.rest), example);
                    }
                }
            }
        });

        it("run as written where no deployed stack is needed: plugins, plan, init, and firewall apply's rules", async () => {
            assert.strictEqual((await bklite("plugins", "--dir", "plugins")).code, 0);
            const planned = await bklite("plan", "--stack", "prod");
            assert.strictEqual(planned.code, 0, planned.stderr);
            const examplesOf = (words: string) => COMMANDS.find((c) => c.words.join(" ") === words)!.examples;
            const textPlan = invocations(examplesOf("plan")[0])[0];
            const summary = await bklite(...textPlan);
            assert.strictEqual(summary.code, 0, summary.stderr);
            assert.match(summary.stdout, /^stack dev \(project bklite\)/m);
            // init's examples, written into a project of their own rather than this checkout.
            const project = tempDir("cli-init-examples");
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
            for (const example of examplesOf("init")) {
                const made = await bklite(...invocations(example)[0], "--project-dir", project);
                assert.strictEqual(made.code, 0, `${example}: ${made.stderr}`);
            }
            fs.rmSync(project, { recursive: true, force: true });
            const firewall = examplesOf("firewall apply")[0];
            const rules = JSON.parse(/echo '(.*)' \|/.exec(firewall)![1]);
            assert.deepStrictEqual(parseSecurityConfig(rules).problems, [], "the example's rules are accepted");
        });
    });

    describe("usage errors", () => {
        const cases: Array<[string[], RegExp]> = [
            [["nope"], /^bklite: unknown command 'nope'\nRun 'bklite --help' for the commands\.$/m],
            [["plna"], /^bklite: unknown command 'plna'; did you mean 'plan'\?$/m],
            [["seed", "aply"], /^bklite: unknown seed subcommand 'aply'; did you mean 'seed apply'\?$/m],
            [
                ["plan"],
                /^bklite: --stack is required \(e\.g\. --stack prod\)\nUsage: bklite plan --stack STACK \[options\]\nRun 'bklite plan --help' for more\.$/m,
            ],
            [["plan", "--stak", "prod"], /^bklite: unknown option '--stak'; did you mean --stack\?$/m],
            [
                ["seed", "apply", "--spec", "x.json", "--bogus"],
                /^bklite: unknown option '--bogus' \(options: --stack, --spec, /m,
            ],
            [["seed", "apply", "--spec"], /^bklite: --spec needs a value \(--spec FILE\|-\)$/m],
            [
                ["plugins", "--os", "linus"],
                /^bklite: --os linus is not one of linux, darwin, windows; did you mean linux\?$/m,
            ],
            [
                ["plan", "--stack", "prod", "--out", "/missing/x.json"],
                /--out \/missing\/x\.json: the directory \/missing does not exist/,
            ],
            [["plan", "diff", "one.json"], /plan diff takes BASE HEAD \(2 arguments\), got 1/],
            [["audit", "a.json", "b.json"], /audit takes EXPORT\.json \(1 argument\), got 2/],
            [["firewall", "remove", "now"], /firewall remove takes no arguments, got 'now'/],
        ];
        for (const [args, message] of cases) {
            it(`bklite ${args.join(" ")}: exit 2, the problem named, before any command module loads`, () => {
                const { result, modules } = loadedModules(args);
                assert.strictEqual(result.code, 2, result.stderr);
                assert.match(result.stderr, message);
                assert.doesNotMatch(
                    result.stderr,
                    /To specify a positional argument|ERR_PARSE_ARGS/,
                    "not Node's text",
                );
                assert.deepStrictEqual(heavyIn(modules), []);
            });
        }

        it("ends quietly when the reader closes the pipe (exit 141, as SIGPIPE), and names a missing lockfile", () => {
            const [node, ...cli] = bkliteArgv(["plan", "--stack", "prod"]);
            const piped = spawnSync(
                "/bin/bash",
                ["-c", 'set -o pipefail; "$@" | head -c 10 >/dev/null', "--", node, ...cli],
                {
                    cwd: PROJECT_ROOT,
                    encoding: "utf8",
                },
            );
            assert.strictEqual(piped.status, 141, piped.stderr);
            assert.doesNotMatch(piped.stderr, /EPIPE|at .*\.js:\d+/);
            const elsewhere = tempDir("cli-elsewhere");
            const plugins = spawnSync(node, bkliteArgv(["plugins"]).slice(1), { cwd: elsewhere, encoding: "utf8" });
            fs.rmSync(elsewhere, { recursive: true, force: true });
            assert.strictEqual(plugins.status, 2);
            assert.match(
                plugins.stderr,
                /has no package-lock\.json: run bklite plugins in the project directory, or pass --project-dir DIR/,
            );
        });
    });

    describe("inputs without bounds", () => {
        let dir: string;
        before(() => {
            dir = tempDir("cli-bounds");
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("refuses a file larger than its bound by its size, before reading it (a sparse 4 GiB file)", () => {
            const huge = path.join(dir, "huge.json");
            fs.writeFileSync(huge, "");
            fs.truncateSync(huge, 4 * 1024 ** 3);
            for (const args of [
                ["seed", "apply", "--spec", huge],
                ["streams", "apply", "--spec", huge],
                ["firewall", "apply", "--stack", "bounds", "--rules", huge],
                ["plan", "diff", huge, huge],
                ["audit", huge],
            ]) {
                const result = bkliteProcess(args);
                assert.strictEqual(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
                assert.match(
                    result.stderr,
                    /huge\.json is 4294967296 bytes; at most \d+ MiB is read \(/,
                    args.join(" "),
                );
            }
            const stack = path.join(dir, "stack.yaml");
            fs.writeFileSync(stack, "");
            fs.truncateSync(stack, 64 * 1024 ** 2);
            const plan = bkliteProcess(["plan", "--stack", "prod", "--config-file", stack]);
            assert.strictEqual(plan.code, 2, plan.stderr);
            assert.match(
                plan.stderr,
                /stack\.yaml is 67108864 bytes; at most 4 MiB is read \(a Pulumi project or stack file is a few KiB\)/,
            );
        });

        it("stops reading standard input once it passes the bound", async () => {
            const [node, ...args] = bkliteArgv(["seed", "apply", "--spec", "-"]);
            const child = spawn(node, args, { stdio: ["pipe", "pipe", "pipe"] });
            let stderr = "";
            child.stderr.on("data", (d) => (stderr += d));
            // The CLI stops reading and exits: the rest of the input meets a closed pipe.
            child.stdin.on("error", () => undefined);
            child.stdin.end(`{"regions": [${" ".repeat(20 * 1024 * 1024)}]}`);
            const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
            const result = { code, stderr };
            assert.strictEqual(result.code, 2, result.stderr);
            assert.match(
                result.stderr,
                /^bklite: --spec \(standard input\) is more than 16 MiB; at most 16 MiB is read \(a spec or rules file is a few KiB\)/m,
            );
        });
    });

    describe("what a start loads", () => {
        for (const args of [
            ["--help"],
            ["--version"],
            ["seed", "apply", "--help"],
            ["plan", "--help"],
            ["audit", "--help"],
        ]) {
            it(`bklite ${args.join(" ")} loads neither Pulumi, pg, nats, the plan renderer nor TypeScript`, () => {
                const { result, modules } = loadedModules(args);
                assert.strictEqual(result.code, 0, result.stderr);
                assert.deepStrictEqual(heavyIn(modules), []);
                assert.ok(
                    modules.some((m) => m.endsWith(path.join("dist", "cli", "main.js"))),
                    "it ran the compiled CLI",
                );
                assert.ok(!modules.some((m) => m.endsWith(".ts")), "no TypeScript source was loaded");
            });
        }

        it("bklite plan loads Pulumi but neither pg, nats, nor the SDK's function serializer (TypeScript, arborist)", () => {
            const { result, modules } = loadedModules(["plan", "--stack", "dev"]);
            assert.strictEqual(result.code, 0, result.stderr);
            // (The renderer itself is not listed: it drops the project's modules from the cache to load the program afresh.)
            assert.deepStrictEqual(heavyIn(modules), ["@pulumi/pulumi"]);
            assert.ok(
                !modules.some((m) => /node_modules\/@npmcli\/arborist\//.test(m)),
                "arborist is not loaded (nor TypeScript, above)",
            );
        });

        it("defers exactly the serializer's exports, and a deferred function still works when called", () => {
            // In a fresh process: this one has loaded the SDK already.
            const script = `
                const path = require("path");
                require(${JSON.stringify(path.join(PROJECT_ROOT, "dist", "cli", "deferSerializer.js"))}).deferFunctionSerializer();
                const pulumi = require("@pulumi/pulumi");
                const typescriptLoaded = () => Object.keys(require.cache).some((k) => k.includes("/node_modules/typescript/"));
                const before = typescriptLoaded();
                pulumi.runtime.serializeFunction(() => 6 * 7).then((serialized) => {
                    const runtimeDir = path.dirname(require.resolve("@pulumi/pulumi/runtime/index.js"));
                    const files = ${JSON.stringify(Object.keys(DEFERRED_MODULES))};
                    const real = Object.fromEntries(files.map((f) => [f, Object.keys(require(path.join(runtimeDir, f))).sort()]));
                    console.log(JSON.stringify({ before, after: typescriptLoaded(), text: serialized.text, real }));
                });
            `;
            const run = spawnSync(process.execPath, ["-e", script], { cwd: PROJECT_ROOT, encoding: "utf8" });
            assert.strictEqual(run.status, 0, run.stderr);
            const { before, after, text, real } = JSON.parse(run.stdout) as {
                before: boolean;
                after: boolean;
                text: string;
                real: Record<string, string[]>;
            };
            assert.deepStrictEqual(
                [before, after],
                [false, true],
                "TypeScript loads with the first call, not with the SDK",
            );
            assert.match(text, /6 \* 7/);
            assert.deepStrictEqual(
                real,
                Object.fromEntries(Object.entries(DEFERRED_MODULES).map(([f, names]) => [f, [...names].sort()])),
                "the stand-ins cover this SDK's exports",
            );
        });
    });

    describe("the compiled build", () => {
        it("is made by npm ci's prepare script (npm run build), outside git", () => {
            assert.strictEqual(PACKAGE.scripts.prepare, "npm run build");
            assert.strictEqual(PACKAGE.scripts.build, "node scripts/build.js");
            const ignored = spawnSync("git", ["check-ignore", "-q", "dist/cli/main.js"], { cwd: PROJECT_ROOT });
            assert.ok(ignored.status === 0 || ignored.status === 128, "dist/ is git-ignored (128: not a git checkout)");
            const copy = copyCheckout("cli-prepare");
            const build = spawnSync("npm", ["run", "prepare"], { cwd: copy, encoding: "utf8" });
            assert.strictEqual(build.status, 0, build.stderr);
            assert.match(build.stderr, /build: \d+ files compiled into dist\//);
            assert.strictEqual(spawnSync(process.execPath, ["scripts/build.js", "--check"], { cwd: copy }).status, 0);
            const run = cliIn(copy, ["--version"]);
            assert.strictEqual(run.code, 0);
            assert.strictEqual(run.stderr, "", "a fresh build runs without a rebuild");
        });

        it("is built when missing and rebuilt when a source changes, saying why; an unchanged source with a new time is no reason", () => {
            const copy = copyCheckout("cli-stale");
            const first = cliIn(copy, ["--version"]);
            assert.strictEqual(first.code, 0, first.stderr);
            assert.match(
                first.stderr,
                /^bklite: there is no build in dist\/: building the program and the CLI into dist\/$/m,
            );
            assert.strictEqual(first.stdout, `bklite ${PACKAGE.version}\n`);
            assert.strictEqual(cliIn(copy, ["--version"]).stderr, "");

            // A fresh checkout gives every file a new time: content decides.
            const commands = path.join(copy, "cli", "commands.ts");
            const later = new Date(Date.now() + 5000);
            fs.utimesSync(commands, later, later);
            assert.strictEqual(cliIn(copy, ["--version"]).stderr, "");

            fs.writeFileSync(
                commands,
                fs.readFileSync(commands, "utf8").replace("take the firewall away", "take the firewall away (edited)"),
            );
            const edited = cliIn(copy, ["firewall", "--help"]);
            assert.strictEqual(edited.code, 0, edited.stderr);
            assert.match(
                edited.stderr,
                /^bklite: cli\/commands\.ts changed since the last build: building the program and the CLI into dist\/$/m,
            );
            assert.match(edited.stdout, /take the firewall away \(edited\)/, "the new code ran, not the old build");

            fs.writeFileSync(path.join(copy, "src", "extra.ts"), "export const extra = 1;\n");
            assert.match(cliIn(copy, ["--version"]).stderr, /src\/extra\.ts is new since the last build/);
            fs.rmSync(path.join(copy, "src", "extra.ts"));
            assert.match(cliIn(copy, ["--version"]).stderr, /src\/extra\.ts was removed since the last build/);
            assert.ok(
                !fs.existsSync(path.join(copy, "dist", "src", "extra.js")),
                "the build holds no output of a removed source",
            );
            const check = spawnSync(process.execPath, ["scripts/build.js", "--check"], { cwd: copy, encoding: "utf8" });
            assert.strictEqual(check.status, 0, check.stderr);
        });

        it("refuses to run a build it cannot remake, naming the file, the line and the fix", () => {
            const copy = copyCheckout("cli-broken", { withBuild: true });
            fs.appendFileSync(path.join(copy, "cli", "help.ts"), "\nexport const broken = ;\n");
            const run = cliIn(copy, ["--help"]);
            assert.strictEqual(run.code, 1);
            assert.strictEqual(run.stdout, "", "neither the old build nor anything else ran");
            assert.match(
                run.stderr,
                /cli\/help\.ts changed since the last build, and it could not be rebuilt: the sources do not compile:\n {2}cli\/help\.ts:\d+:\d+: Expression expected/,
            );
            assert.match(run.stderr, /Run `npm run build` in .*checkout/);
            const check = spawnSync(process.execPath, ["scripts/build.js", "--check"], { cwd: copy, encoding: "utf8" });
            assert.strictEqual(check.status, 1);
            assert.match(check.stderr, /cli\/help\.ts changed since the last build; run npm run build/);
        });

        it("is built once when several CLIs start at once on a stale build, and each of them runs", async () => {
            const copy = copyCheckout("cli-concurrent");
            const runs = await Promise.all(
                Array.from({ length: 4 }, () => {
                    return new Promise<CliResult>((resolve) => {
                        const child = spawn(process.execPath, [path.join(copy, "bin", "bklite"), "--version"], {
                            cwd: copy,
                        });
                        let stdout = "";
                        let stderr = "";
                        child.stdout.on("data", (d) => (stdout += d));
                        child.stderr.on("data", (d) => (stderr += d));
                        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
                    });
                }),
            );
            for (const run of runs) {
                assert.strictEqual(run.code, 0, run.stderr);
                assert.strictEqual(run.stdout, `bklite ${PACKAGE.version}\n`);
            }
            assert.strictEqual(
                runs.filter((r) => r.stderr.includes("building the program and the CLI")).length,
                1,
                runs.map((r) => r.stderr).join("\n"),
            );
            assert.deepStrictEqual(
                fs.readdirSync(copy).filter((e) => e.startsWith("dist")),
                ["dist"],
                "no lock or half-built directory is left",
            );
        });
    });

    describe("the Pulumi program under pulumi up", () => {
        it("runs compiled: no TypeScript at deploy time, the build brought up to date with the sources first", () => {
            // Pulumi's nodejs host with `typescript: false` loads no ts-node and requires the project: package.json's main.
            assert.strictEqual(PACKAGE.main, "bin/pulumi-program.js");
            const copy = copyCheckout("program-start", { withBuild: true });
            const platform = path.join(copy, "src", "platform", "platform.ts");
            const source = fs.readFileSync(platform, "utf8");
            const edited = source.replace("a whole bk-lite platform", "a whole (edited) bk-lite platform");
            assert.notStrictEqual(edited, source, "the edit applies");
            fs.writeFileSync(platform, edited);
            const started = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(copy)})`], {
                cwd: copy,
                encoding: "utf8",
            });
            assert.match(
                started.stderr,
                /^bklite: src\/platform\/platform\.ts changed since the last build: building the program and the CLI into dist\/$/m,
            );
            assert.ok(
                fs.readFileSync(path.join(copy, "dist", "src", "platform", "platform.js"), "utf8").includes("(edited)"),
                "rebuilt",
            );
            // Outside Pulumi the program stops at its first use of the engine: what ran is dist/index.js.
            assert.notStrictEqual(started.status, 0);
            assert.match(started.stderr, /dist\/index\.js/);
            assert.doesNotMatch(started.stderr, /ts-node/);
        });
    });
});

function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
