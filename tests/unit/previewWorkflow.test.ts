/**
 * .github/workflows/preview.yml: the structure that matters, every `run:` script through `bash -n`, and the plan job's
 * own scripts (stack list, rendering, diff, comment, final verdict) run for real against stand-in base and head
 * checkouts whose `bin/bklite` follows the `plan` / `plan diff` contract.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const WORKFLOW = path.join(REPO_ROOT, ".github", "workflows", "preview.yml");
const MARKER = "<!-- bklite-plan-diff -->";
const GATE = "env.PULUMI_BACKEND_URL != '' && env.PULUMI_CONFIG_PASSPHRASE != ''";

interface Step {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    env?: Record<string, string>;
    with?: Record<string, unknown>;
    "working-directory"?: string;
}

interface Job {
    name?: string;
    needs?: string | string[];
    if?: string;
    "runs-on": string;
    outputs?: Record<string, string>;
    env?: Record<string, string>;
    strategy?: { "fail-fast"?: boolean; matrix: Record<string, unknown> };
    steps: Step[];
}

interface Workflow {
    on: Record<string, { types?: string[] } | null>;
    permissions: Record<string, string>;
    concurrency: { group: string; "cancel-in-progress": boolean };
    defaults?: { run?: { shell?: string } };
    jobs: Record<string, Job>;
}

const workflow = parse(fs.readFileSync(WORKFLOW, "utf8")) as Workflow;
const plan = workflow.jobs.plan;
const preview = workflow.jobs.preview;

function step(job: Job, idOrName: string): Step {
    const found = job.steps.find((s) => s.id === idOrName || s.name === idOrName);
    assert.ok(found, `no step ${idOrName}`);
    return found;
}

const tempRoots: string[] = [];
function tempRoot(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    tempRoots.push(dir);
    return dir;
}

function runScripts(job: Job): Step[] {
    return job.steps.filter((s) => typeof s.run === "string");
}

describe("preview workflow (.github/workflows/preview.yml)", () => {
    after(() => {
        for (const dir of tempRoots.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    });

    describe("structure", () => {
        it("runs on pull_request only, with minimal permissions and one run per PR", () => {
            assert.deepStrictEqual(
                Object.keys(workflow.on),
                ["pull_request"],
                "no pull_request_target: PR code never gets a privileged token",
            );
            assert.deepStrictEqual(workflow.permissions, { contents: "read", "pull-requests": "write" });
            assert.match(workflow.concurrency.group, /github\.event\.pull_request\.number/);
            assert.strictEqual(workflow.concurrency["cancel-in-progress"], true);
            assert.strictEqual(workflow.defaults?.run?.shell, "bash");
            assert.deepStrictEqual(Object.keys(workflow.jobs), ["plan", "preview"]);
        });

        it("plan: checks out head and the base commit, sets up Node 20 and runs the tests through .ci/run", () => {
            const checkouts = plan.steps.filter((s) => s.uses?.startsWith("actions/checkout@"));
            assert.strictEqual(checkouts.length, 2);
            const head = checkouts.find((s) => s.with?.path === "head");
            const base = checkouts.find((s) => s.with?.path === "base");
            assert.ok(head && base);
            assert.strictEqual(base.with?.ref, "${{ github.event.pull_request.base.sha }}");
            assert.ok(checkouts.every((s) => s.with?.["persist-credentials"] === false));
            const node = plan.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
            assert.strictEqual(String(node?.with?.["node-version"]), "20");
            const tests = step(plan, "tests");
            assert.strictEqual(tests.run?.trim(), "bash .ci/run");
            assert.strictEqual(tests["working-directory"], "head");
            // The checkouts, Node and the stack list come before the tests; rendering after them.
            const index = (s: Step) => plan.steps.indexOf(s);
            assert.ok(
                index(head) < index(tests) && index(base) < index(tests) && index(tests) < index(step(plan, "render")),
            );
        });

        it("plan: renders every Pulumi.*.yaml stack on base and head, then diffs with `bklite plan diff`", () => {
            const render = step(plan, "render").run!;
            assert.match(render, /Pulumi\.\*\.yaml/);
            assert.match(render, /node bin\/bklite plan --stack "\$stack"/);
            assert.match(render, /npm ci/);
            assert.match(render, /^\s*render base\s*$/m);
            assert.match(render, /^\s*render head\s*$/m);
            assert.match(render, /plans\/\$side\/\$stack\.json/);
            assert.match(render, /-failures\.tsv/, "stacks a side cannot render are recorded");
            assert.match(step(plan, "diff").run!, /node head\/bin\/bklite plan diff plans\/base plans\/head/);
            const upload = plan.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
            assert.ok(upload);
            assert.match(String(upload.with?.path), /^plans\/?$/);
        });

        it("plan: builds the marked comment and upserts it with scripts/pr-comment.ts, the token only in env", () => {
            const comment = step(plan, "comment");
            assert.match(comment.run!, new RegExp(`echo '${MARKER}'`));
            assert.match(comment.run!, /BASE_SHA/);
            assert.match(comment.run!, /HEAD_SHA/);
            assert.strictEqual(comment.env?.BASE_SHA, "${{ github.event.pull_request.base.sha }}");
            assert.strictEqual(comment.env?.HEAD_SHA, "${{ github.event.pull_request.head.sha }}");

            const post = plan.steps.find((s) => s.run?.includes("scripts/pr-comment.ts"));
            assert.ok(post);
            assert.match(post.run!, /npx ts-node --transpile-only scripts\/pr-comment\.ts/);
            assert.ok(post.run!.includes(`--marker '${MARKER}'`));
            assert.match(post.run!, /--pr "\$PR_NUMBER"/);
            assert.match(post.run!, /--body-file \.\.\/plans\/comment\.md/);
            assert.strictEqual(post["working-directory"], "head");
            assert.strictEqual(post.env?.GITHUB_TOKEN, "${{ secrets.GITHUB_TOKEN }}");
            assert.strictEqual(post.env?.PR_NUMBER, "${{ github.event.pull_request.number }}");
            assert.match(
                String(post.if),
                /head\.repo\.full_name == github\.repository/,
                "fork PRs (read-only token) skip posting",
            );
            assert.match(
                String(post.if),
                /github\.actor != 'dependabot\[bot\]'/,
                "so do Dependabot's (read-only token)",
            );
            assert.strictEqual(plan.outputs?.stacks, "${{ steps.stacks.outputs.stacks }}");
            assert.strictEqual(plan.outputs?.preview_stacks, "${{ steps.stacks.outputs.preview_stacks }}");
        });

        it("no run: script expands ${{ }} or mentions a secret (event data and secrets come through env)", () => {
            for (const job of [plan, preview]) {
                for (const s of runScripts(job)) {
                    assert.ok(!s.run!.includes("${{"), `${s.name}: expression inside run:`);
                    assert.ok(!/\bsecrets\.[A-Za-z_]/.test(s.run!), `${s.name}: secret inside run:`);
                    assert.ok(!/GITHUB_TOKEN/.test(s.run!), `${s.name}: the token is never echoed`);
                }
            }
        });

        it("preview: a matrix over the plan job's stacks on an overridable runner, gated on both secrets via env", () => {
            assert.strictEqual(preview.needs, "plan");
            assert.ok(!/secrets/.test(preview.if ?? ""), "secrets cannot be used in jobs.<id>.if");
            assert.match(preview["runs-on"], /^\$\{\{ vars\.BKLITE_PREVIEW_RUNNER \|\| '[^']+' \}\}$/);
            assert.strictEqual(
                preview.strategy?.matrix.stack,
                "${{ fromJSON(needs.plan.outputs.preview_stacks) }}",
                "stacks new in the PR are not created in the backend by a preview",
            );
            assert.strictEqual(preview.strategy?.["fail-fast"], false);
            assert.strictEqual(preview.env?.PULUMI_BACKEND_URL, "${{ secrets.PULUMI_BACKEND_URL }}");
            assert.strictEqual(preview.env?.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");

            const [explain, ...rest] = preview.steps;
            assert.strictEqual(explain.if, "env.PULUMI_BACKEND_URL == '' || env.PULUMI_CONFIG_PASSPHRASE == ''");
            assert.match(explain.run!, /GITHUB_STEP_SUMMARY/);
            assert.match(explain.run!, /PULUMI_BACKEND_URL/);
            assert.match(explain.run!, /PULUMI_CONFIG_PASSPHRASE/);
            assert.ok(rest.length >= 3);
            for (const s of rest) assert.strictEqual(s.if, GATE, `${s.name} is gated on both secrets`);
            assert.ok(rest.some((s) => s.run?.includes("npm ci")));
        });

        it("preview: pulumi/actions@v7 previews the stack with --diff, a PR comment and the policy pack", () => {
            const action = preview.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
            assert.ok(action);
            assert.strictEqual(action.uses, "pulumi/actions@v7");
            assert.strictEqual(action.with?.command, "preview");
            assert.strictEqual(action.with?.["stack-name"], "${{ matrix.stack }}");
            assert.strictEqual(action.with?.["cloud-url"], "${{ secrets.PULUMI_BACKEND_URL }}");
            assert.strictEqual(action.with?.diff, true);
            assert.strictEqual(action.with?.["comment-on-pr"], true);
            assert.strictEqual(action.with?.policyPacks, "policy");
            assert.ok(!("edit-pr-comment" in (action.with ?? {})) || action.with?.["edit-pr-comment"] === true);
            const install = preview.steps.findIndex((s) => s.run?.includes("npm ci"));
            assert.ok(
                install >= 0 && install < preview.steps.indexOf(action),
                "node_modules (also the policy pack's) before the preview",
            );
        });

        it("every run: script is valid bash (bash -n)", () => {
            const dir = tempRoot("bklite-wf-");
            for (const [jobName, job] of Object.entries(workflow.jobs)) {
                for (const [i, s] of runScripts(job).entries()) {
                    const file = path.join(dir, `${jobName}-${i}.sh`);
                    fs.writeFileSync(file, s.run!);
                    const r = spawnSync("bash", ["-n", file], { encoding: "utf8" });
                    assert.strictEqual(r.status, 0, `${jobName} / ${s.name}: ${r.stderr}`);
                }
            }
        });
    });

    describe("the plan job's scripts, run against stand-in checkouts", () => {
        /**
         * A stand-in `bin/bklite` with the CLI's contract: `plan --stack S` prints the stack file as JSON (exit 2 with
         * a message when a file `fail-S` exists), `plan diff A B` prints Markdown naming each stack new, removed,
         * changed or unchanged. FAKE_BKLITE_OLD=<side> makes that side's bklite one that predates `plan`;
         * FAKE_BKLITE_BROKEN_DIFF makes `plan diff` crash.
         */
        const FAKE_BKLITE = `
const fs = require("fs"), path = require("path");
const [cmd, sub, ...rest] = process.argv.slice(2);
if (process.env.FAKE_BKLITE_OLD === path.basename(process.cwd())) { console.error("bklite: unknown command '" + cmd + "'\\n\\nusage: bklite <command> [options]\\n  firewall remove   take the firewall away"); process.exit(2); }
if (process.env.FAKE_BKLITE_BROKEN_DIFF && sub === "diff") { console.error("boom"); process.exit(1); }
if (cmd === "plan" && sub === "--stack") {
    const stack = rest[0];
    if (fs.existsSync("fail-" + stack)) { console.error("\\nbklite:hostAddress: required\\n"); process.exit(2); }
    process.stdout.write(JSON.stringify({ stack, file: fs.readFileSync("Pulumi." + stack + ".yaml", "utf8") }) + "\\n");
} else if (cmd === "plan" && sub === "diff") {
    const [a, b] = rest;
    const names = (d) => fs.readdirSync(d).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
    const A = names(a), B = names(b);
    console.log("### Plan diff");
    for (const s of [...new Set([...A, ...B])].sort()) {
        const state = !A.includes(s) ? "new" : !B.includes(s) ? "removed"
            : fs.readFileSync(path.join(a, s + ".json"), "utf8") === fs.readFileSync(path.join(b, s + ".json"), "utf8") ? "unchanged" : "changed";
        console.log("- \`" + s + "\`: " + state);
    }
} else { console.error("usage"); process.exit(2); }
`;

        interface Side {
            stacks: Record<string, string>;
            failing?: string[];
            bklite?: "current" | "old" | "none";
            installed?: boolean;
        }

        interface Outcome {
            ws: string;
            ctx: Record<string, string>;
            results: Record<string, { status: number | null; stdout: string; stderr: string }>;
            comment: string;
            summary: string;
            npmLog: string;
        }

        function writeSide(dir: string, side: Side): void {
            fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
            for (const [stack, content] of Object.entries(side.stacks))
                fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), content);
            for (const stack of side.failing ?? []) fs.writeFileSync(path.join(dir, `fail-${stack}`), "");
            if ((side.bklite ?? "current") !== "none") fs.writeFileSync(path.join(dir, "bin", "bklite"), FAKE_BKLITE);
            if (side.installed) fs.mkdirSync(path.join(dir, "node_modules"));
        }

        function substitute(value: string, ctx: Record<string, string>): string {
            return value.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expr: string) => {
                assert.ok(expr in ctx, `the test has no value for \${{ ${expr} }}`);
                return ctx[expr];
            });
        }

        /** Runs the plan job's script steps in order, as the runner would (bash -eo pipefail, GITHUB_OUTPUT, ...). */
        function runPlanJob(
            base: Side,
            head: Side,
            testsOutcome: "success" | "failure",
            options: { brokenDiff?: boolean } = {},
        ): Outcome {
            const root = tempRoot("bklite-wf-run-");
            const ws = path.join(root, "ws");
            const fakeBin = path.join(root, "bin");
            fs.mkdirSync(fakeBin, { recursive: true });
            writeSide(path.join(ws, "base"), base);
            writeSide(path.join(ws, "head"), head);
            const npmLog = path.join(root, "npm.log");
            fs.writeFileSync(npmLog, "");
            // `npm ci` stand-in: logs where it ran and "installs".
            fs.writeFileSync(
                path.join(fakeBin, "npm"),
                `#!/bin/sh\necho "npm $* in $(basename "$PWD")" >> "${npmLog}"\nmkdir -p node_modules\n`,
                { mode: 0o755 },
            );
            const output = path.join(root, "github_output");
            const summary = path.join(root, "step_summary");
            fs.writeFileSync(summary, "");

            const ctx: Record<string, string> = {
                "github.event.pull_request.base.sha": "aaaaaaa1111111111111111111111111111111111",
                "github.event.pull_request.base.ref": "main",
                "github.event.pull_request.head.sha": "bbbbbbb2222222222222222222222222222222222",
                "github.sha": "ccccccc3333333333333333333333333333333333",
                "github.server_url": "https://github.example",
                "github.repository": "acme/infra",
                "github.run_id": "42",
                "steps.tests.outcome": testsOutcome,
                "steps.artifact.outputs.artifact-url": "https://github.example/acme/infra/actions/runs/42/artifacts/7",
            };
            const inherited: NodeJS.ProcessEnv = {};
            for (const [k, v] of Object.entries(process.env))
                if (!k.startsWith("GITHUB_") && !k.startsWith("FAKE_")) inherited[k] = v;
            if (base.bklite === "old") inherited.FAKE_BKLITE_OLD = "base";
            if (options.brokenDiff) inherited.FAKE_BKLITE_BROKEN_DIFF = "1";

            const results: Outcome["results"] = {};
            for (const s of runScripts(plan)) {
                if (s.id === "tests" || s.run!.includes("scripts/pr-comment.ts")) continue; // tested elsewhere
                const key = s.id ?? s.name ?? "?";
                fs.writeFileSync(output, "");
                const env: NodeJS.ProcessEnv = {
                    ...inherited,
                    PATH: `${fakeBin}:${process.env.PATH}`,
                    GITHUB_OUTPUT: output,
                    GITHUB_STEP_SUMMARY: summary,
                };
                for (const [k, v] of Object.entries(s.env ?? {})) env[k] = substitute(v, ctx);
                const file = path.join(root, `${key}.sh`);
                fs.writeFileSync(file, s.run!);
                const cwd = s["working-directory"] ? path.join(ws, s["working-directory"]) : ws;
                const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], {
                    cwd,
                    env,
                    encoding: "utf8",
                });
                results[key] = { status: r.status, stdout: r.stdout, stderr: r.stderr };
                if (s.id) {
                    ctx[`steps.${s.id}.outcome`] = r.status === 0 ? "success" : "failure";
                    for (const line of fs.readFileSync(output, "utf8").split("\n")) {
                        const eq = line.indexOf("=");
                        if (eq > 0) ctx[`steps.${s.id}.outputs.${line.slice(0, eq)}`] = line.slice(eq + 1);
                    }
                }
            }
            const commentFile = path.join(ws, "plans", "comment.md");
            return {
                ws,
                ctx,
                results,
                comment: fs.existsSync(commentFile) ? fs.readFileSync(commentFile, "utf8") : "",
                summary: fs.readFileSync(summary, "utf8"),
                npmLog: fs.readFileSync(npmLog, "utf8"),
            };
        }

        it("renders both sides, warns about a stack the base cannot render instead of calling it new, and passes", () => {
            const o = runPlanJob(
                { stacks: { dev: "dev: 1\n", prod: "prod: 1\n" }, failing: ["prod"] },
                { stacks: { dev: "dev: 1\n", prod: "prod: 2\n", staging: "s: 1\n" }, installed: true },
                "success",
            );
            for (const [key, r] of Object.entries(o.results))
                if (key !== "verdict") assert.strictEqual(r.status, 0, `${key}: ${r.stderr}`);
            assert.strictEqual(o.ctx["steps.stacks.outputs.stacks"], '["dev","prod","staging"]');
            assert.strictEqual(
                o.ctx["steps.stacks.outputs.preview_stacks"],
                '["dev","prod"]',
                "staging is new in the PR",
            );
            assert.strictEqual(
                o.npmLog,
                "npm ci --no-audit --no-fund in base\n",
                "npm ci on the fresh base; head was installed by .ci/run",
            );
            assert.deepStrictEqual(fs.readdirSync(path.join(o.ws, "plans", "base")).sort(), ["dev.json"]);
            assert.deepStrictEqual(fs.readdirSync(path.join(o.ws, "plans", "head")).sort(), [
                "dev.json",
                "prod.json",
                "staging.json",
            ]);
            assert.strictEqual(
                fs.readFileSync(path.join(o.ws, "plans", "base-failures.tsv"), "utf8"),
                "prod\t2\tbklite:hostAddress: required\n",
            );

            const c = o.comment;
            assert.ok(c.startsWith(`${MARKER}\n`), c);
            assert.match(c, /^\*\*Offline plan\*\* · base `aaaaaaa` \(main\) → head `bbbbbbb`/m);
            assert.match(c, /test merge commit `ccccccc`/);
            assert.match(c, /Tests \(`bash \.ci\/run`\): passed\./);
            assert.match(
                c,
                /> \[!WARNING\]\n> The base `aaaaaaa` could not render these stacks, so the diff below cannot compare them: it shows them as \*\*new\*\*/,
            );
            assert.match(c, /> - `prod`: exit 2, `bklite:hostAddress: required`/);
            assert.ok(!c.includes("[!CAUTION]"));
            assert.ok(!c.includes("[!NOTE]"), "no test-merge note when the merge parent cannot be read");
            assert.match(c, /### Plan diff\n- `dev`: unchanged\n- `prod`: new\n- `staging`: new\n/);
            assert.match(c, /\[artifact\]\(https:\/\/github\.example\/acme\/infra\/actions\/runs\/42\/artifacts\/7\)/);
            assert.ok(o.summary.includes(c), "the comment is also in the job summary (all a fork PR gets)");
            assert.strictEqual(o.results.verdict.status, 0);
        });

        it("a base that predates `bklite plan` has every stack reported; a stack the PR cannot render fails the job", () => {
            const o = runPlanJob(
                { stacks: { dev: "dev: 1\n", prod: "prod: 1\n" }, bklite: "old" },
                { stacks: { dev: "dev: 1\n", prod: "prod: 1\n" }, failing: ["prod"], installed: true },
                "failure",
            );
            assert.strictEqual(o.results.render.status, 0, o.results.render.stderr);
            const c = o.comment;
            assert.match(c, /> - `dev`: exit 2, `bklite: unknown command 'plan'`/);
            assert.match(c, /> - `prod`: exit 2, `bklite: unknown command 'plan'`/);
            assert.match(
                c,
                /> \[!CAUTION\]\n> This pull request cannot render these stacks, so the diff below cannot show them/,
            );
            assert.match(c, /Tests \(`bash \.ci\/run`\): \*\*failed\*\*/);
            assert.match(
                c,
                /### Plan diff\n- `dev`: new\n\n/,
                "prod renders on neither side, so only the notes name it",
            );
            assert.strictEqual(o.results.verdict.status, 1);
            assert.match(o.results.verdict.stdout, /cannot render every stack/);
        });

        it("a base without bin/bklite is reported as such, without installing anything there", () => {
            const o = runPlanJob(
                { stacks: { dev: "dev: 1\n" }, bklite: "none" },
                { stacks: { dev: "dev: 1\n" }, installed: true },
                "success",
            );
            assert.strictEqual(o.npmLog, "");
            assert.match(o.comment, /> - `dev`: no bin\/bklite on this commit/);
            assert.strictEqual(o.results.verdict.status, 0);
        });

        it("a failing `bklite plan diff` is said in the comment and fails the job", () => {
            const o = runPlanJob(
                { stacks: { dev: "dev: 1\n" } },
                { stacks: { dev: "dev: 1\n" }, installed: true },
                "success",
                { brokenDiff: true },
            );
            assert.strictEqual(o.results.diff.status, 0, "the diff step records the exit code; the verdict step fails");
            assert.strictEqual(o.ctx["steps.diff.outputs.exit"], "1");
            assert.match(o.comment, /\*\*`bklite plan diff` failed\*\* \(exit 1\)/);
            assert.strictEqual(o.results.verdict.status, 1);
            assert.match(o.results.verdict.stdout, /bklite plan diff failed \(exit 1\)/);
        });
    });
});
