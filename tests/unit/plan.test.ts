/**
 * `bklite plan` and `bklite plan diff`: plans rendered from the committed stack files (the real CLI for
 * determinism, in-process renders for config changes), and their Markdown diff.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { PropertyChange, diffMarkdown, diffPlans, diffValues } from "../../src/plan/diff";
import { stableJson } from "../../src/util/json";
import { PROJECT_DIR_MARK, Plan, PlanError, SECRET_MASK, planStack } from "../../src/plan/planStack";
import { PROJECT_ROOT } from "../../src/util/shell";
import { copyCheckout } from "../support/checkout";
import { bklite, bkliteProcess } from "../support/cli";
import { PassThrough } from "stream";
import { plan as planCommand } from "../../cli/plan";
import { planSummary } from "../../src/plan/summary";
import { tempDir } from "../support/processes";

/** Every string in a value. */
function strings(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    if (Array.isArray(value)) {
        return value.flatMap(strings);
    }
    if (value && typeof value === "object") {
        return Object.values(value).flatMap(strings);
    }
    return [];
}

const SECURE_VALUE = { secure: "v1:Ab5+8vUJyK0=:v1:Zm9vYmFyYmF6:q5mIu2tC1mE0yqD6fK0jtw==" };

describe("bklite plan", () => {
    describe("the real CLI", () => {
        let first: string;
        before(() => {
            const result = bkliteProcess(["plan", "--stack", "prod"]);
            assert.strictEqual(result.code, 0, result.stderr);
            first = result.stdout;
        });

        it("prints the same bytes on every run", () => {
            const again = bkliteProcess(["plan", "--stack", "prod"]);
            assert.strictEqual(again.code, 0, again.stderr);
            assert.strictEqual(again.stdout, first);
        });

        it("prints the same bytes from another checkout directory and another working directory", () => {
            // The project's absolute path is replaced, so base and head checkouts compare equal.
            assert.ok(!first.includes(PROJECT_ROOT));
            const elsewhere = bkliteProcess(["plan", "--stack", "prod"], { cwd: tempDir("bklite-plan-cwd-") });
            assert.strictEqual(elsewhere.stdout, first);
        });

        it("prints JSON with sorted keys: the program's resources by URN, the config and the outputs", () => {
            const plan = JSON.parse(first) as Plan;
            assert.strictEqual(stableJson(plan), first, "the bytes are the canonical form");
            assert.strictEqual(plan.format, 1);
            assert.strictEqual(plan.stack, "prod");
            const urns = Object.keys(plan.resources);
            assert.deepStrictEqual(urns, [...urns].sort());
            assert.ok(urns.includes("urn:pulumi:prod::bklite::bklite:index:Platform::bklite"));
            // URNs as the engine makes them (the whole parent chain), so they match `pulumi preview` and exports.
            for (const [urn, r] of Object.entries(plan.resources)) {
                if (r.parent) {
                    assert.ok(plan.resources[r.parent], `${urn}'s parent is in the plan`);
                    assert.strictEqual(
                        urn,
                        `${r.parent.split("::").slice(0, 2).join("::")}::${r.parent.split("::")[2]}$${r.type}::${r.name}`,
                    );
                }
                for (const d of r.options.dependsOn ?? []) {
                    assert.ok(plan.resources[d], `${urn}'s dependency ${d} is in the plan`);
                }
            }
            const server =
                plan.resources[
                    "urn:pulumi:prod::bklite::bklite:index:Platform$bklite:index:DockerRuntime$docker:index/remoteImage:RemoteImage::bklite-docker-server-image"
                ];
            assert.strictEqual(server.inputs.name, "aiharbor.msxf.local/aihpc/bklite/server:v0.3.5");
            const volume =
                plan.resources[
                    "urn:pulumi:prod::bklite::bklite:index:Platform$bklite:index:DockerRuntime$docker:index/volume:Volume::bklite-docker-postgres-data"
                ];
            assert.deepStrictEqual(volume.options, { protect: true, retainOnDelete: true });
            assert.strictEqual(plan.config["bklite:hostAddress"], "192.168.31.10");
            assert.strictEqual(plan.outputs.consoleUrl, "http://192.168.31.10:8080");
        });

        it("masks every secret, showing the rest of a value built from one, and reads nothing from this host", () => {
            const plan = JSON.parse(first) as Plan;
            assert.strictEqual(plan.outputs.adminPassword, SECRET_MASK);
            const server = Object.values(plan.resources).find((r) => r.name === "bklite-docker-server")!;
            const envs = server.inputs.envs as string[];
            assert.ok(envs.includes("DB_PASSWORD=[secret]"));
            assert.ok(envs.includes("CELERY_BROKER_URL=redis://:[secret]@redis:6379/3"));
            assert.ok(envs.includes("DB_HOST=postgres"), "the rest of a secret env list shows, so its changes do");
            const seed = Object.values(plan.resources).find((r) => r.name === "bklite-seed-apply")!;
            assert.strictEqual(
                (seed.inputs.environment as Record<string, string>).BKLITE_PG_URL,
                "postgres://bklite:[secret]@127.0.0.1:25432/bklite",
            );
            assert.strictEqual(JSON.parse(seed.inputs.stdin as string).regions[0].env.NATS_PASSWORD, SECRET_MASK);
            // Package digests and the bundle are named, not read (package files are not in the repository).
            const triggers = seed.inputs.triggers as string[];
            assert.match(
                triggers[0],
                /^[0-9a-f]{64}$/,
                "the spec's keyed digest, visible so a diff shows the seeding re-runs",
            );
            assert.deepStrictEqual(
                triggers.slice(1),
                [
                    "fusion-collectors-linux-amd64.zip",
                    "collector/linux/telegraf",
                    "collector/linux/vector",
                    "collector/linux/nats-executor",
                ].map((f) => `(read on the deploy host: sha256 of assets/packages/${f})`),
            );
            const loader = Object.values(plan.resources).find((r) => r.name === "bklite-images-load")!;
            assert.deepStrictEqual(loader.inputs.triggers, [
                "(read on the deploy host: sha256 of assets/images/images.sha256)",
            ]);
            assert.strictEqual(loader.inputs.dir, PROJECT_DIR_MARK);
            for (const text of strings(plan)) {
                assert.ok(
                    !text.includes("secret known after deploy") && !text.includes("plan-placeholder"),
                    `an unmasked stand-in: ${text.slice(0, 200)}`,
                );
            }
        });

        it("prints the same bytes from a copy of the checkout elsewhere (as base and head are in a pull request)", () => {
            const copy = copyCheckout("plan-copy", { withBuild: true });
            const result = bkliteProcess(["plan", "--stack", "prod"], { cwd: copy });
            assert.strictEqual(result.code, 0, result.stderr);
            assert.strictEqual(result.stdout, first);
        });

        it("masks secure config and never uses its ciphertext", async () => {
            const plan = await planStack("prod", { overrides: { "bklite:adminPassword": SECURE_VALUE } });
            assert.strictEqual(plan.config["bklite:adminPassword"], SECRET_MASK);
            const text = stableJson(plan);
            assert.ok(!text.includes(SECURE_VALUE.secure));
            assert.ok(!text.includes("plan-placeholder"), "the stand-in for the encrypted value never shows");
            assert.ok(
                !Object.values(plan.resources).some((r) => r.name === "bklite-secrets-adminPassword"),
                "a given secret is not generated",
            );
        });

        it("renders Kubernetes stacks with their pod specs visible", async () => {
            const plan = await planStack("prod", { overrides: { "bklite:runtime": "kubernetes" } });
            const server = Object.values(plan.resources).find(
                (r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "bklite-k8s-server",
            )!;
            const container = (server.inputs.spec as any).template.spec.containers[0];
            assert.strictEqual(container.image, "aiharbor.msxf.local/aihpc/bklite/server:v0.3.5");
            assert.strictEqual(container.imagePullPolicy, "IfNotPresent");
        });

        it("carries nothing of this host's environment (a kubeconfig with credentials, provider switches)", async () => {
            const k8s = { overrides: { "bklite:runtime": "kubernetes" } };
            const clean = stableJson(await planStack("prod", k8s));
            const saved = { ...process.env };
            Object.assign(process.env, {
                KUBECONFIG: "apiVersion: v1\nusers:\n- name: a\n  user: {token: HOST-TOKEN-4242}\n",
                PULUMI_K8S_DELETE_UNREACHABLE: "true",
                PULUMI_K8S_ENABLE_PATCH_FORCE: "true",
                DOCKER_HOST: "ssh://deploy@10.0.0.9",
                PGPASSWORD: "host-pg-password",
            });
            try {
                const withHost = stableJson(await planStack("prod", k8s));
                assert.strictEqual(withHost, clean);
                assert.ok(!withHost.includes("HOST-TOKEN-4242"));
                assert.strictEqual(
                    process.env.KUBECONFIG?.includes("HOST-TOKEN-4242"),
                    true,
                    "the environment is given back",
                );
            } finally {
                for (const key of Object.keys(process.env)) {
                    if (!(key in saved)) {
                        delete process.env[key];
                    }
                }
                Object.assign(process.env, saved);
            }
        });

        it("refuses a stack that does not exist or whose config is wrong, with exit code 2", async () => {
            const missing = await bklite("plan", "--stack", "nope");
            assert.strictEqual(missing.code, 2);
            assert.match(missing.stderr, /there is no Pulumi\.nope\.yaml in .*; stacks here: dev, prod/);
            await assert.rejects(
                planStack("prod", { overrides: { "bklite:httpPort": "99999", "bklite:runtime": "podman" } }),
                (e: Error) => {
                    assert.ok(e instanceof PlanError);
                    assert.match(e.message, /stack 'prod' cannot be planned/);
                    assert.match(e.message, /bklite:httpPort/);
                    assert.match(e.message, /bklite:runtime/);
                    return true;
                },
            );
            const usage = await bklite("plan");
            assert.strictEqual(usage.code, 2);
            assert.match(usage.stderr, /--stack is required/);
        });

        it("writes the plan to a file with --out", async () => {
            const file = path.join(tempDir("bklite-plan-"), "dev.json");
            const result = await bklite("plan", "--stack", "dev", "--out", file);
            assert.strictEqual(result.code, 0, result.stderr);
            assert.strictEqual(result.stdout, "");
            assert.strictEqual(JSON.parse(fs.readFileSync(file, "utf8")).stack, "dev");
        });

        it("plans the config of --config-file instead of the stack file, and names a missing one", async () => {
            const dir = tempDir("bklite-plan-config-file-");
            const same = path.join(dir, "same.yaml");
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), same);
            const proposed = path.join(dir, "proposed.yaml");
            fs.writeFileSync(proposed, fs.readFileSync(same, "utf8").replace("tag: v0.3.5", "tag: v0.3.6"));
            const [fromSame, fromProposed] = await Promise.all([
                bklite("plan", "--stack", "prod", "--config-file", same),
                bklite("plan", "--stack", "prod", "--config-file", proposed),
            ]);
            assert.strictEqual(fromSame.code, 0, fromSame.stderr);
            assert.strictEqual(fromSame.stdout, first, "a copy of the stack file plans the same bytes");
            const imagesOf = (stdout: string) => (JSON.parse(stdout) as Plan).outputs.images as Record<string, string>;
            const [before, after] = [imagesOf(fromSame.stdout), imagesOf(fromProposed.stdout)];
            const own = Object.keys(after).filter((service) => after[service].includes("/bklite/"));
            assert.ok(
                own.length > 0 && own.every((s) => after[s].endsWith(":v0.3.6")),
                Object.values(after).join(", "),
            );
            for (const service of Object.keys(after).filter((s) => !own.includes(s))) {
                assert.strictEqual(after[service], before[service], `${service} keeps its pinned tag`);
            }
            const missing = await bklite("plan", "--stack", "prod", "--config-file", path.join(dir, "nope.yaml"));
            assert.strictEqual(missing.code, 2);
            assert.match(missing.stderr, /^bklite: the config file .*nope\.yaml does not exist$/m);
            fs.writeFileSync(
                path.join(dir, "broken.yaml"),
                "config:\n  bklite:hostAddress: 10.0.0.1\n\tbklite:httpPort: 80\n",
            );
            fs.writeFileSync(path.join(dir, "twice.yaml"), "config:\n  bklite:httpPort: 80\n  bklite:httpPort: 8080\n");
            fs.writeFileSync(path.join(dir, "list.yaml"), "config:\n  - bklite:httpPort\n");
            const [broken, twice, list] = await Promise.all(
                ["broken", "twice", "list"].map((name) =>
                    bklite("plan", "--stack", "prod", "--config-file", path.join(dir, `${name}.yaml`)),
                ),
            );
            for (const result of [broken, twice, list]) {
                assert.strictEqual(result.code, 2, result.stderr);
            }
            assert.match(
                broken.stderr,
                /^bklite: .*broken\.yaml:3:1: not valid YAML \(Tabs are not allowed as indentation\): fix the file and run again$/m,
            );
            assert.match(twice.stderr, /^bklite: .*twice\.yaml:3:3: not valid YAML \(Map keys must be unique\)/m);
            assert.match(list.stderr, /^bklite: .*list\.yaml: config must be a map of keys/m);
        });
    });

    describe("the summary for a person (--format text)", () => {
        it("says the dev stack in a screen: stack, endpoints, every service and image, ports, volumes, secrets, outputs", async () => {
            const result = await bklite("plan", "--stack", "dev", "--format", "text");
            assert.strictEqual(result.code, 0, result.stderr);
            const lines = result.stdout.trimEnd().split("\n");
            assert.ok(lines.length <= 40, `${lines.length} lines`);
            const plan = JSON.parse((await bklite("plan", "--stack", "dev")).stdout) as Plan;
            assert.match(result.stdout, /^stack dev \(project bklite\), runtime docker$/m);
            assert.match(
                result.stdout,
                new RegExp(`^console +${String(plan.outputs.consoleUrl).replace(/\./g, "\\.")}$`, "m"),
            );
            for (const [service, image] of Object.entries(plan.outputs.images as Record<string, string>)) {
                assert.match(
                    result.stdout,
                    new RegExp(`^  ${service} +${image.replace(/[.]/g, "\\.")}$`, "m"),
                    service,
                );
            }
            assert.match(result.stdout, /^ {2}8080\/tcp +console and agent API, from /m);
            assert.match(result.stdout, /^data volumes, kept on destroy \(6\): bklite-dev-falkordb-data, /m);
            assert.match(result.stdout, /^secrets generated unless given: adminPassword, .*secretKey$/m);
            assert.match(result.stdout, /^outputs: adminPassword \(secret\), /m);
            assert.doesNotMatch(result.stdout, /\(secret known after deploy/, "no placeholder values");
        });

        it("is the default on a terminal only: piped, and with --out, the plan is JSON", async () => {
            const piped = await bklite("plan", "--stack", "dev");
            assert.doesNotThrow(() => JSON.parse(piped.stdout));
            const file = path.join(tempDir("plan-out-"), "dev.json");
            assert.strictEqual((await bklite("plan", "--stack", "dev", "--out", file)).code, 0);
            assert.strictEqual(fs.readFileSync(file, "utf8"), piped.stdout);
            // The command as the CLI runs it, writing to a terminal.
            const terminal = Object.assign(new PassThrough(), { isTTY: true });
            let written = "";
            terminal.on("data", (d) => (written += d));
            const code = await planCommand({
                values: { stack: "dev" },
                positionals: [],
                out: terminal,
                err: new PassThrough(),
            });
            assert.strictEqual(code, 0);
            assert.match(written, /^stack dev \(project bklite\), runtime docker/m);
        });

        it("reads any plan, either runtime: every recorded stack's summary names its services in under a screen", () => {
            const dir = path.join(PROJECT_ROOT, "tests", "fixtures", "plans");
            for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json"))) {
                const plan = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Plan;
                const summary = planSummary(plan);
                assert.ok(summary.split("\n").length <= 40, file);
                for (const service of Object.keys(plan.outputs.images as Record<string, string>)) {
                    assert.ok(summary.includes(`  ${service} `), `${file}: ${service}`);
                }
            }
        });
    });

    describe("plan diff on real config changes", () => {
        let base: Plan;
        before(async () => {
            base = await planStack("prod");
        });

        it("says nothing changed when nothing did", async () => {
            const again = await planStack("prod");
            const diff = diffPlans(base, again);
            assert.strictEqual(diff.status, "unchanged");
            assert.strictEqual(
                diffMarkdown([diff]),
                "## bklite plan diff\n\nDesired resources rendered offline from each commit's stack files (secrets shown as `[secret]`).\n\n### Stack `prod`: no changes\n",
            );
        });

        it("a new release tag: every image and the container that runs it, nothing else", async () => {
            const head = await planStack("prod", {
                overrides: { "bklite:images": { registry: "aiharbor.msxf.local/aihpc", tag: "v0.3.6" } },
            });
            const diff = diffPlans(base, head);
            const changed = diff.resources.filter((r) => r.kind === "change").map((r) => r.name);
            assert.ok(changed.includes("bklite-docker-server-image"));
            assert.ok(changed.includes("bklite-docker-server"));
            assert.ok(!changed.includes("bklite-docker-network"));
            assert.ok(!changed.some((n) => n.includes("volume") || n.endsWith("-data")), "volumes do not change");
            assert.deepStrictEqual(
                diff.resources.filter((r) => r.kind !== "change"),
                [],
            );
            const image = diff.resources.find((r) => r.name === "bklite-docker-server-image")!;
            assert.deepStrictEqual(image.changes, [
                {
                    path: "inputs.name",
                    old: "aiharbor.msxf.local/aihpc/bklite/server:v0.3.5",
                    new: "aiharbor.msxf.local/aihpc/bklite/server:v0.3.6",
                },
            ]);
            // The upgrade takes a backup first: the command's triggers name every new image.
            const backup = diff.resources.find((r) => r.name === "bklite-backup-run")!;
            assert.ok(
                backup.changes.some(
                    (c) =>
                        c.path === "inputs.triggers[+]" &&
                        String(c.new).includes("server=aiharbor.msxf.local/aihpc/bklite/server:v0.3.6"),
                ),
                JSON.stringify(backup.changes),
            );
            assert.deepStrictEqual(diff.config, [{ path: '"bklite:images".tag', old: "v0.3.5", new: "v0.3.6" }]);
            const markdown = diffMarkdown([diff]);
            assert.match(markdown, /### Stack `prod`: 0 to add, \d+ to change, 0 to remove/);
            assert.match(
                markdown,
                /\| <code>inputs.name<\/code> \| <code>aiharbor.msxf.local\/aihpc\/bklite\/server:v0.3.5<\/code> \| <code>aiharbor.msxf.local\/aihpc\/bklite\/server:v0.3.6<\/code> \|/,
            );
            assert.ok(!markdown.includes("bklite-docker-network"), "unchanged resources are not mentioned");
        });

        it("turning the host firewall on adds its command; a tighter rule changes the rules it applies", async () => {
            const rules = [
                { port: "http", sources: ["10.0.0.0/8"], description: "console and agent API" },
                { port: "nats", sources: ["10.0.0.0/8"], description: "agents" },
            ];
            const on = await planStack("prod", { overrides: { "bklite:security": { hostFirewall: true, rules } } });
            const added = diffPlans(base, on).resources.filter((r) => r.kind === "add");
            assert.deepStrictEqual(
                added.map((r) => [r.type, r.name]),
                [["command:local:Command", "bklite-firewall"]],
            );
            const tighter = await planStack("prod", {
                overrides: {
                    "bklite:security": {
                        hostFirewall: true,
                        rules: [{ ...rules[0], sources: ["10.1.0.0/16"] }, rules[1]],
                    },
                },
            });
            const diff = diffPlans(on, tighter);
            const firewall = diff.resources.find((r) => r.name === "bklite-firewall")!;
            assert.strictEqual(firewall.kind, "change");
            assert.deepStrictEqual(
                firewall.changes.map((c) => c.path),
                ["inputs.stdin"],
            );
            assert.ok(String(firewall.changes[0].new).includes("10.1.0.0/16"));
        });

        it("a new cloud region: the seed spec changes (secrets in it masked) and the seeding re-runs", async () => {
            const regions = [{ name: "default" }, { name: "管理网" }, { name: "生产网" }];
            const head = await planStack("prod", { overrides: { "bklite:regions": regions } });
            const diff = diffPlans(base, head);
            assert.ok(diff.config.some((c) => c.path.startsWith('"bklite:regions"')));
            const seed = diff.resources.find((r) => r.name === "bklite-seed-apply")!;
            assert.deepStrictEqual(
                seed.changes.map((c) => c.path),
                ["inputs.stdin", "inputs.triggers[-]", "inputs.triggers[+]"],
            );
            assert.ok(String(seed.changes[0].new).includes("生产网"));
            assert.ok(String(seed.changes[0].new).includes('"NATS_PASSWORD":"[secret]"'));
            assert.deepStrictEqual(
                diff.resources.map((r) => r.name).sort(),
                [
                    "bklite",
                    "bklite-backup",
                    "bklite-backup-run",
                    "bklite-seed-apply",
                    "bklite-verify",
                    "bklite-verify-run",
                ],
                "only the platform, the seeding and its verification, and the config the upgrade backup records",
            );
            const backup = diff.resources.find((r) => r.name === "bklite-backup-run")!;
            assert.deepStrictEqual(
                backup.changes.map((c) => c.path),
                ["inputs.stdin"],
                "no image changed: its triggers stay, so no backup is taken",
            );
            const verify = diff.resources.find((r) => r.name === "bklite-verify-run")!;
            assert.ok(
                verify.changes.some((c) => c.path === "inputs.stdin" && String(c.new).includes("生产网")),
                "the new region is verified",
            );
        });

        it("a changed app list: the server's env entries, old and new, and the services of the app dropped", async () => {
            const head = await planStack("prod", {
                overrides: { "bklite:installApps": ["system_mgmt", "cmdb", "monitor", "node_mgmt"] },
            });
            const diff = diffPlans(base, head);
            const server = diff.resources.find((r) => r.name === "bklite-docker-server")!;
            assert.strictEqual(server.kind, "change");
            assert.deepStrictEqual(server.changes, [
                {
                    path: "inputs.envs[-]",
                    old: "INSTALL_APPS=system_mgmt,cmdb,monitor,node_mgmt,console_mgmt,alerts,log,operation_analysis",
                },
                { path: "inputs.envs[-]", old: "VICTORIALOGS_HOST=http://victoria-logs:9428" },
                { path: "inputs.envs[+]", new: "INSTALL_APPS=system_mgmt,cmdb,monitor,node_mgmt" },
            ]);
            const removed = diff.resources.filter((r) => r.kind === "remove").map((r) => r.name);
            for (const name of [
                "bklite-docker-vector",
                "bklite-docker-victoria-logs",
                "bklite-docker-victoria-logs-data",
            ]) {
                assert.ok(removed.includes(name), `${name} goes with the log app`);
            }
            assert.deepStrictEqual(
                diff.resources.filter((r) => r.kind === "add"),
                [],
            );
        });

        it("moving to Kubernetes removes the Docker resources and adds the cluster's", async () => {
            const head = await planStack("prod", { overrides: { "bklite:runtime": "kubernetes" } });
            const diff = diffPlans(base, head);
            const kinds = (kind: string) => diff.resources.filter((r) => r.kind === kind).map((r) => r.type);
            assert.ok(kinds("remove").includes("docker:index/container:Container"));
            assert.ok(kinds("add").includes("kubernetes:apps/v1:StatefulSet"));
            assert.match(diffMarkdown([diff]), /\*\*Removed\*\* \(\d+\)[\s\S]*bklite-docker-postgres-data/);
        });
    });

    describe("plan diff from the command line", () => {
        let dir: string;
        before(async () => {
            dir = tempDir("bklite-plans-");
            for (const side of ["base", "head"]) {
                fs.mkdirSync(path.join(dir, side));
            }
            const dev = await planStack("dev");
            const prod = await planStack("prod");
            const prodHead = await planStack("prod", { overrides: { "bklite:httpPort": 8088 } });
            fs.writeFileSync(path.join(dir, "base", "dev.json"), stableJson(dev));
            fs.writeFileSync(path.join(dir, "base", "prod.json"), stableJson(prod));
            fs.writeFileSync(path.join(dir, "head", "prod.json"), stableJson(prodHead));
            fs.writeFileSync(path.join(dir, "head", "staging.json"), stableJson({ ...dev, stack: "staging" }));
        });

        it("compares directories stack by stack: new, removed and changed stacks", async () => {
            const result = await bklite("plan", "diff", path.join(dir, "base"), path.join(dir, "head"));
            assert.strictEqual(result.code, 0, result.stderr);
            assert.match(result.stdout, /### Stack `staging`: new stack: \d+ to add, 0 to change, 0 to remove/);
            assert.match(result.stdout, /### Stack `dev`: stack removed: 0 to add, 0 to change, \d+ to remove/);
            assert.match(result.stdout, /### Stack `prod`: 0 to add, \d+ to change, 0 to remove/);
            assert.match(
                result.stdout,
                /\| <code>"bklite:httpPort"<\/code> \| <code>8080<\/code> \| <code>8088<\/code> \|/,
            );
        });

        it("compares directories holding one plan each by stack, not whatever is in them", async () => {
            const only = (side: string, stack: string) => {
                const d = path.join(dir, `${side}-only-${stack}`);
                fs.mkdirSync(d, { recursive: true });
                fs.copyFileSync(path.join(dir, "base", `${stack}.json`), path.join(d, `${stack}.json`));
                return d;
            };
            const result = await bklite("plan", "diff", only("base", "dev"), only("head", "prod"));
            assert.match(result.stdout, /### Stack `prod`: new stack/);
            assert.match(result.stdout, /### Stack `dev`: stack removed/);
        });

        it("compares two plan files", async () => {
            const result = await bklite(
                "plan",
                "diff",
                path.join(dir, "base", "prod.json"),
                path.join(dir, "head", "prod.json"),
            );
            assert.strictEqual(result.code, 0);
            assert.match(result.stdout, /### Stack `prod`/);
            assert.ok(!result.stdout.includes("Stack `dev`"));
        });

        it("refuses what is not a plan, and bad usage", async () => {
            const notPlan = path.join(dir, "export.json");
            fs.writeFileSync(notPlan, JSON.stringify({ version: 3, deployment: {} }));
            const result = await bklite("plan", "diff", notPlan, path.join(dir, "head", "prod.json"));
            assert.strictEqual(result.code, 2);
            assert.match(result.stderr, /export\.json is not a plan of format 1/);
            const notJson = path.join(dir, "app.env");
            fs.writeFileSync(notJson, "POSTGRES_PASSWORD=hunter2-not-json\n");
            const parse = await bklite("plan", "diff", notJson, notPlan);
            assert.strictEqual(parse.code, 2);
            assert.match(parse.stderr, /app\.env is not valid JSON/);
            assert.ok(
                !parse.stderr.includes("hunter2") && !parse.stderr.includes("POSTGRES_P"),
                "the file is not quoted",
            );
            assert.strictEqual((await bklite("plan", "diff", notPlan)).code, 2);
            assert.strictEqual((await bklite("plan", "diff", path.join(dir, "nowhere"), notPlan)).code, 2);
        });
    });

    describe("diffValues", () => {
        const json = fc.letrec((tie) => ({
            value: fc.oneof(
                { depthSize: "small" },
                fc.constantFrom(null, true, 0, 1, "a", "b"),
                fc.array(tie("value"), { maxLength: 3 }),
                fc.dictionary(fc.constantFrom("x", "y", "z"), tie("value"), { maxKeys: 3 }),
            ),
        })).value;

        it("reports nothing exactly when the values are equal", () => {
            fc.assert(
                fc.property(json, json, (a, b) => {
                    const changes: PropertyChange[] = [];
                    diffValues("", a, b, changes);
                    assert.strictEqual(changes.length === 0, JSON.stringify(a) === JSON.stringify(b));
                }),
            );
        });

        it("matches named elements by name and reports scalar lists as what left and what came", () => {
            const changes: PropertyChange[] = [];
            diffValues(
                "env",
                [
                    { name: "A", value: "1" },
                    { name: "B", value: "2" },
                ],
                [
                    { name: "B", value: "3" },
                    { name: "A", value: "1" },
                ],
                changes,
            );
            assert.deepStrictEqual(changes, [{ path: "env[name=B].value", old: "2", new: "3" }]);
            const scalars: PropertyChange[] = [];
            diffValues("envs", ["A=1", "B=2", "C=3"], ["A=1", "C=3", "D=4"], scalars);
            assert.deepStrictEqual(scalars, [
                { path: "envs[-]", old: "B=2" },
                { path: "envs[+]", new: "D=4" },
            ]);
        });
    });
});
