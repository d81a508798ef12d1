/**
 * scripts/up.sh with a stand-in `pulumi` on PATH that records every call and what the passphrase variables held:
 * the passphrase file is never overridden, an empty passphrase is refused except for dev, unknown arguments and
 * unknown stacks are refused before Pulumi runs, and no stack is created without --create.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "../support/processes";
import { PROJECT_ROOT } from "../support/stackFiles";

/** Records `argv` and the passphrase environment as one JSON line per call; `stack ls --json` lists $FAKE_STACKS. */
const FAKE_PULUMI = `#!/usr/bin/env node
const fs = require("fs");
const env = process.env;
fs.appendFileSync(env.FAKE_LOG, JSON.stringify({
    args: process.argv.slice(2),
    passphrase: "PULUMI_CONFIG_PASSPHRASE" in env ? env.PULUMI_CONFIG_PASSPHRASE : null,
    file: env.PULUMI_CONFIG_PASSPHRASE_FILE ?? null,
}) + "\\n");
if (process.argv[2] === "stack" && process.argv[3] === "ls") {
    const names = (env.FAKE_STACKS || "").split(",").filter(Boolean);
    for (let i = 0; i < Number(env.FAKE_MORE_STACKS || 0); i++) names.push("other-" + i);
    // Written whole, as the real CLI (a Go program) writes: a reader that stops early kills it with SIGPIPE (141).
    let out = Buffer.from(JSON.stringify(names.map((name) => ({ name, current: false })), null, 4) + "\\n");
    while (out.length > 0) {
        try {
            out = out.subarray(fs.writeSync(1, out));
        } catch (err) {
            if (err.code === "EAGAIN") continue;
            process.exit(err.code === "EPIPE" ? 141 : 1);
        }
    }
}
`;

interface UpRun {
    code: number;
    stdout: string;
    stderr: string;
    calls: Array<{ args: string[]; passphrase: string | null; file: string | null }>;
}

describe("scripts/up.sh", () => {
    const bin = tempDir("fake-pulumi");
    fs.writeFileSync(path.join(bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
    const secretFile = path.join(bin, "passphrase");
    fs.writeFileSync(secretFile, "a real passphrase\n", { mode: 0o600 });
    const emptyFile = path.join(bin, "empty");
    fs.writeFileSync(emptyFile, "");

    function up(args: string[], env: Record<string, string | undefined>, stacks = "dev,prod"): UpRun {
        const log = path.join(tempDir("up-log"), "calls.jsonl");
        fs.writeFileSync(log, "");
        const base = Object.fromEntries(
            Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_CONFIG_PASSPHRASE")),
        );
        const merged = { ...base, PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, FAKE_STACKS: stacks, ...env };
        const clean = Object.fromEntries(
            Object.entries(merged).filter(([, v]) => v !== undefined),
        ) as NodeJS.ProcessEnv;
        const result = spawnSync("bash", [path.join(PROJECT_ROOT, "scripts", "up.sh"), ...args], {
            env: clean,
            encoding: "utf8",
        });
        const calls = fs
            .readFileSync(log, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l));
        return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, calls };
    }

    it("refuses a passphrase file of only whitespace for any stack but dev: Pulumi would trim it to nothing", () => {
        const blank = path.join(bin, "blank");
        fs.writeFileSync(blank, "  \n\t\n");
        const refused = up(["prod"], { PULUMI_CONFIG_PASSPHRASE_FILE: blank });
        assert.strictEqual(refused.code, 2);
        assert.match(
            refused.stderr,
            /is empty or only whitespace \(Pulumi trims it to an empty passphrase\); stack 'prod' needs a real passphrase/,
        );
        assert.deepStrictEqual(refused.calls, [], "Pulumi never ran");
        assert.strictEqual(up(["dev"], { PULUMI_CONFIG_PASSPHRASE_FILE: blank }).code, 0);
    });

    it("finds the stack in a long list without a pipe race (grep stopping early must not read as absent)", () => {
        const run = up(["prod"], { PULUMI_CONFIG_PASSPHRASE_FILE: secretFile, FAKE_MORE_STACKS: "200000" }, "prod,dev");
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(run.calls[1].args.slice(0, 3), ["stack", "select", "prod"]);
    });

    it("never lets an empty PULUMI_CONFIG_PASSPHRASE override the passphrase file", () => {
        const run = up(["prod"], { PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: secretFile });
        assert.strictEqual(run.code, 0, run.stderr);
        assert.ok(run.calls.length > 0);
        for (const call of run.calls) {
            assert.strictEqual(
                call.passphrase,
                null,
                `${call.args.join(" ")}: the variable is unset, so Pulumi reads the file`,
            );
            assert.strictEqual(call.file, secretFile);
        }
        assert.deepStrictEqual(
            run.calls.map((c) => c.args.slice(0, 2)),
            [
                ["stack", "ls"],
                ["stack", "select"],
                ["up", "--stack"],
            ],
        );
    });

    it("refuses an empty passphrase, or none, for any stack but dev; dev gets an empty one", () => {
        for (const env of [{}, { PULUMI_CONFIG_PASSPHRASE: "" }, { PULUMI_CONFIG_PASSPHRASE_FILE: emptyFile }]) {
            const run = up(["prod"], env);
            assert.strictEqual(run.code, 2, JSON.stringify(env));
            assert.match(run.stderr, /needs a (real )?passphrase/);
            assert.deepStrictEqual(run.calls, [], "Pulumi never ran");
        }
        const dev = up(["dev"], {});
        assert.strictEqual(dev.code, 0, dev.stderr);
        assert.ok(dev.calls.every((c) => c.passphrase === ""));
        const both = up(["prod"], { PULUMI_CONFIG_PASSPHRASE: "x", PULUMI_CONFIG_PASSPHRASE_FILE: secretFile });
        assert.strictEqual(both.code, 2);
        assert.match(both.stderr, /both PULUMI_CONFIG_PASSPHRASE and PULUMI_CONFIG_PASSPHRASE_FILE are set/);
    });

    it("refuses unknown arguments (a misspelt --preview never deploys) and stacks without a stack file", () => {
        const typo = up(["prod", "--preveiw"], { PULUMI_CONFIG_PASSPHRASE: "pw" });
        assert.strictEqual(typo.code, 2);
        assert.match(typo.stderr, /unknown argument '--preveiw' \(nothing was run\)/);
        assert.deepStrictEqual(typo.calls, []);
        const unknown = up(["prdo"], { PULUMI_CONFIG_PASSPHRASE: "pw" });
        assert.strictEqual(unknown.code, 2);
        assert.match(unknown.stderr, /there is no Pulumi\.prdo\.yaml, the stack's config; stacks here: dev prod/);
        assert.deepStrictEqual(unknown.calls, []);
        assert.strictEqual(up([], {}).code, 2);
    });

    it("answers --help with its usage and nothing else, first or after the stack, and runs nothing", () => {
        for (const args of [["--help"], ["-h"], ["dev", "--help"]]) {
            const help = up(args, {});
            assert.strictEqual(help.code, 0, args.join(" "));
            assert.match(help.stdout, /^Deploys \(or previews\) one stack/);
            assert.match(help.stdout, /^ {2}scripts\/up\.sh STACK \[--preview\] \[--create\]$/m);
            assert.doesNotMatch(help.stdout, /^#|set -euo/m, "no script lines");
            assert.deepStrictEqual(help.calls, []);
        }
    });

    it("creates a stack only when told to with --create, and previews without deploying or creating", () => {
        const missing = up(["prod"], { PULUMI_CONFIG_PASSPHRASE: "pw" }, "dev");
        assert.strictEqual(missing.code, 2);
        assert.match(
            missing.stderr,
            /stack 'prod' does not exist in this backend; to create it, run: scripts\/up\.sh prod --create/,
        );
        assert.ok(!missing.calls.some((c) => c.args[1] === "init" || c.args[0] === "up"));
        const created = up(["prod", "--create"], { PULUMI_CONFIG_PASSPHRASE: "pw" }, "dev");
        assert.strictEqual(created.code, 0, created.stderr);
        assert.deepStrictEqual(created.calls[1].args, [
            "stack",
            "init",
            "prod",
            "--secrets-provider",
            "passphrase",
            "--non-interactive",
        ]);
        const preview = up(["prod", "--preview"], { PULUMI_CONFIG_PASSPHRASE: "pw" });
        assert.strictEqual(preview.code, 0, preview.stderr);
        assert.deepStrictEqual(
            preview.calls.map((c) => c.args[0]),
            ["stack", "stack", "preview"],
        );
        assert.strictEqual(up(["prod", "--preview", "--create"], { PULUMI_CONFIG_PASSPHRASE: "pw" }).code, 2);
    });

    it("is what npm run up:dev and preview:dev run", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).scripts;
        assert.strictEqual(scripts["up:dev"], "bash scripts/up.sh dev --create");
        assert.strictEqual(scripts["preview:dev"], "bash scripts/up.sh dev --preview");
    });
});
