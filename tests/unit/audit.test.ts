/**
 * `bklite audit` on stack exports in the real format: hand-written exports of deployments that break each rule
 * (tests/fixtures/exports), and exports of this program's own stacks made from runs under mocks.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { auditExport, stackImagePolicy } from "../../src/audit/audit";
import {
    ResourceView,
    exposureFindings,
    isSecretName,
    plaintextSecretFindings,
    retentionFindings,
    secretInText,
} from "../../src/audit/rules";
import { parseStackExport } from "../../src/audit/stackExport";
import { PROJECT_ROOT } from "../../src/util/shell";
import { bklite } from "../support/cli";
import { ProgramRun, runProgram } from "../support/mocks";
import { tempDir } from "../support/processes";
import { exportOfRun } from "../support/stackExport";
import { programConfig } from "../support/stackFiles";

const FIXTURES = path.join(__dirname, "..", "fixtures", "exports");
const fixture = (name: string) => path.join(FIXTURES, name);

/** The plaintext secrets the insecure fixtures hold: no report may repeat them. */
const PLANTED = ["Adm1nPlain-2026", "Pg-Plaintext-Hunter2", "Cb-Url-Secret-77", "Seed-Url-Pass-42", "K8s-Env-Plain-99"];

function assertNoPlantedSecret(text: string): void {
    for (const secret of PLANTED) {
        assert.ok(!text.includes(secret), `the report repeats the secret ${secret}`);
    }
}

interface Row {
    rule: string;
    name: string;
    where?: string;
}

function rows(findings: Array<{ rule: string; name: string; where?: string }>): Row[] {
    return findings.map((f) => ({ rule: f.rule, name: f.name, ...(f.where ? { where: f.where } : {}) }));
}

describe("bklite audit", () => {
    describe("a Docker deployment that breaks the rules", () => {
        it("fails, naming every plaintext secret, the published PostgreSQL and the unretained volume, without printing a secret", async () => {
            const result = await bklite("audit", fixture("insecure-docker.json"), "--format", "json");
            assert.strictEqual(result.code, 1, result.stderr);
            assertNoPlantedSecret(result.stdout);
            const report = JSON.parse(result.stdout);
            assert.strictEqual(report.passed, false);
            assert.deepStrictEqual(rows(report.errors), [
                { rule: "no-plaintext-secrets", name: "legacy-site", where: "outputs.adminPassword" },
                { rule: "data-stores-on-loopback", name: "postgres", where: "inputs.ports[0]" },
                { rule: "no-plaintext-secrets", name: "postgres", where: "inputs.envs[1]" },
                { rule: "no-plaintext-secrets", name: "postgres", where: "outputs.envs[1]" },
                { rule: "no-plaintext-secrets", name: "server", where: "inputs.labels[0].value" },
                { rule: "no-plaintext-secrets", name: "seed", where: "inputs.environment.BKLITE_PG_URL" },
                { rule: "data-retained", name: "postgres-data" },
            ]);
            // The server's env list is encrypted in the state: not a finding.
            assert.ok(!report.errors.some((f: Row) => f.name === "server" && f.where?.includes("envs")));
            assert.deepStrictEqual(rows(report.warnings), [
                { rule: "images-from-registry", name: "postgres-image", where: "inputs.name" },
            ]);
        });

        it("reports resources by type, every image with its pinning, published ports with bind addresses, and the volumes", async () => {
            const report = JSON.parse(
                (await bklite("audit", fixture("insecure-docker.json"), "--format", "json")).stdout,
            );
            assert.strictEqual(report.resourcesByType["docker:index/container:Container"], 2);
            assert.strictEqual(report.resourcesByType["pulumi:pulumi:Stack"], 1);
            assert.deepStrictEqual(
                report.images.map((i: { ref: string; pinnedBy?: string }) => [i.ref, i.pinnedBy ?? "floating"]),
                [
                    ["postgres:latest", "floating"],
                    ["docker.io/bklite/server:huangpu-v1.0", "tag"],
                ],
            );
            assert.deepStrictEqual(
                report.publishedPorts.map(
                    (p: { resource: string; port: number; hostPort: number; bind: string; dataStore?: string }) => [
                        p.resource,
                        p.port,
                        p.hostPort,
                        p.bind,
                        p.dataStore ?? "",
                    ],
                ),
                [
                    ["postgres", 5432, 5432, "0.0.0.0", "PostgreSQL"],
                    ["server", 8000, 8000, "0.0.0.0", ""],
                ],
            );
            assert.deepStrictEqual(
                report.dataVolumes.map((v: { name: string; kept: boolean }) => [v.name, v.kept]),
                [
                    ["postgres-data", false],
                    ["nats-data", true],
                ],
            );
        });

        it("checks images against a registry given on the command line", async () => {
            const report = JSON.parse(
                (
                    await bklite(
                        "audit",
                        fixture("insecure-docker.json"),
                        "--format",
                        "json",
                        "--registry",
                        "harbor.site.local/bk",
                    )
                ).stdout,
            );
            assert.deepStrictEqual(
                report.images.map((i: { ref: string; fromRegistry: boolean }) => [i.ref, i.fromRegistry]),
                [
                    ["postgres:latest", false],
                    ["docker.io/bklite/server:huangpu-v1.0", false],
                ],
            );
            assert.strictEqual(report.warnings.filter((f: Row) => f.rule === "images-from-registry").length, 3);
            const online = JSON.parse(
                (await bklite("audit", fixture("insecure-docker.json"), "--format", "json", "--online")).stdout,
            );
            assert.deepStrictEqual(online.warnings, [], "an online stack may pull from anywhere");
        });

        it("prints Markdown by default, with the same findings", async () => {
            const result = await bklite("audit", fixture("insecure-docker.json"));
            assert.strictEqual(result.code, 1);
            assertNoPlantedSecret(result.stdout);
            assert.match(result.stdout, /^# bklite audit: stack `site` FAILED/);
            assert.match(result.stdout, /## Findings: 7 failing, 1 warning/);
            assert.match(
                result.stdout,
                /\| `data-stores-on-loopback` \| `postgres` \| `inputs.ports\[0\]` \| PostgreSQL \(port 5432\) is published on 0.0.0.0 port 5432/,
            );
            for (const section of [
                "## Resources by type",
                "## Images",
                "## Published ports",
                "## Data volumes and claims",
            ]) {
                assert.ok(result.stdout.includes(section), section);
            }
        });
    });

    describe("a Kubernetes deployment that breaks the rules", () => {
        let report: any;
        before(async () => {
            const result = await bklite(
                "audit",
                fixture("insecure-kubernetes.json"),
                "--format",
                "json",
                "--registry",
                "harbor.site.local/bk",
            );
            assert.strictEqual(result.code, 1, result.stderr);
            assertNoPlantedSecret(result.stdout);
            report = JSON.parse(result.stdout);
        });

        it("finds the literal password env, the node-port PostgreSQL, and claims a destroy would delete", () => {
            assert.deepStrictEqual(rows(report.errors), [
                {
                    rule: "no-plaintext-secrets",
                    name: "postgres",
                    where: "inputs.spec.template.spec.containers[0].env[1].value",
                },
                { rule: "data-stores-on-loopback", name: "postgres-external", where: "inputs.spec.ports[0]" },
                { rule: "data-retained", name: "redis-data" },
                { rule: "data-retained", name: "postgres" },
                { rule: "data-retained", name: "ns" },
            ]);
        });

        it("leaves Secrets and env taken from Secrets alone", () => {
            assert.ok(!report.errors.some((f: Row) => f.name === "server-env" || f.name === "server"));
        });

        it("warns about foreign registries, latest and imagePullPolicy Always (written or implied)", () => {
            assert.deepStrictEqual(
                report.warnings.map((f: Row & { message: string }) => [f.rule, f.name, f.where]),
                [
                    ["images-from-registry", "postgres", "inputs.spec.template.spec.containers[0].image"],
                    ["no-pull-always", "postgres", "inputs.spec.template.spec.containers[0].imagePullPolicy"],
                    ["images-from-registry", "server", "inputs.spec.template.spec.initContainers[0].image"],
                    ["images-from-registry", "server", "inputs.spec.template.spec.initContainers[0].image"],
                    ["no-pull-always", "server", "inputs.spec.template.spec.initContainers[0].image"],
                    ["images-from-registry", "server", "inputs.spec.template.spec.containers[0].image"],
                ],
            );
        });

        it("lists node ports as published on every node", () => {
            assert.deepStrictEqual(
                report.publishedPorts.map(
                    (p: { resource: string; hostPort: number; bind: string; dataStore?: string }) => [
                        p.resource,
                        p.hostPort,
                        p.bind,
                        p.dataStore ?? "",
                    ],
                ),
                [
                    ["postgres-external", 30432, "every node", "PostgreSQL"],
                    ["traefik", 30080, "every node", ""],
                ],
            );
        });
    });

    describe("this program's own stacks", () => {
        const cases: Array<[string, string, Record<string, unknown>]> = [
            ["dev", "docker", {}],
            ["prod", "docker", {}],
            ["prod", "kubernetes", { "bklite:runtime": "kubernetes" }],
        ];
        for (const [stack, runtime, overrides] of cases) {
            describe(`${stack} on ${runtime}`, () => {
                let run: ProgramRun;
                let exportFile: string;
                before(async () => {
                    run = await runProgram(stack, programConfig(stack, overrides));
                    exportFile = path.join(tempDir("bklite-export-"), `${stack}.json`);
                    fs.writeFileSync(exportFile, JSON.stringify(exportOfRun(run, stack), null, 4));
                });

                it("passes: secrets encrypted, data stores on loopback, every data volume retained", async () => {
                    const result = await bklite("audit", exportFile, "--format", "json");
                    const report = JSON.parse(result.stdout);
                    assert.deepStrictEqual(report.errors, []);
                    assert.strictEqual(result.code, 0);
                    assert.ok(report.dataVolumes.length >= 3);
                    assert.ok(report.dataVolumes.every((v: { kept: boolean }) => v.kept));
                });

                it("names every image, pinned, and on prod from its registry (from Pulumi.prod.yaml)", async () => {
                    const report = JSON.parse((await bklite("audit", exportFile, "--format", "json")).stdout);
                    assert.ok(report.images.length >= 6);
                    assert.ok(report.images.every((i: { pinnedBy?: string }) => i.pinnedBy === "tag"));
                    if (stack === "prod") {
                        assert.strictEqual(report.imagePolicy.registry, "aiharbor.msxf.local/aihpc");
                        assert.ok(report.images.every((i: { fromRegistry: boolean }) => i.fromRegistry === true));
                    }
                    assert.deepStrictEqual(report.warnings, []);
                });

                if (runtime === "docker") {
                    it("shows PostgreSQL bound to loopback and nothing of Redis", async () => {
                        const report = JSON.parse((await bklite("audit", exportFile, "--format", "json")).stdout);
                        const postgres = report.publishedPorts.filter(
                            (p: { dataStore?: string }) => p.dataStore === "PostgreSQL",
                        );
                        assert.deepStrictEqual(
                            postgres.map((p: { bind: string }) => p.bind),
                            ["127.0.0.1"],
                        );
                        assert.ok(!report.publishedPorts.some((p: { dataStore?: string }) => p.dataStore === "Redis"));
                    });
                }
            });
        }

        it("fails an export made with --show-secrets, without printing what it holds", async () => {
            const run = await runProgram("dev", programConfig("dev"));
            const file = path.join(tempDir("bklite-export-"), "shown.json");
            const exported = exportOfRun(run, "dev", { showSecrets: true });
            fs.writeFileSync(file, JSON.stringify(exported));
            const result = await bklite("audit", file, "--format", "json");
            assert.strictEqual(result.code, 1);
            const report = JSON.parse(result.stdout);
            assert.ok(report.errors.length > 0);
            assert.ok(
                report.errors.every((f: { message: string }) =>
                    /holds \d+ secret values? of this resource decrypted/.test(f.message),
                ),
            );
            // The generated passwords are in the file; none may be in the report.
            const shown = JSON.stringify(exported).match(/mock[0-9a-f]{28}/g) ?? [];
            assert.ok(shown.length > 0);
            for (const value of shown) {
                assert.ok(!result.stdout.includes(value));
            }
        });
    });

    describe("reading exports", () => {
        it("accepts a DIY backend's checkpoint file and an empty stack", async () => {
            const checkpoint = await bklite("audit", fixture("checkpoint.json"), "--format", "json");
            assert.strictEqual(checkpoint.code, 0, checkpoint.stderr);
            assert.strictEqual(JSON.parse(checkpoint.stdout).stack, "site");
            const empty = await bklite("audit", fixture("empty.json"), "--format", "json");
            assert.strictEqual(empty.code, 0, empty.stderr);
            assert.deepStrictEqual(JSON.parse(empty.stdout).resourcesByType, {});
        });

        it("refuses other deployment versions, saying which and what to do", async () => {
            const newer = await bklite("audit", fixture("version-4.json"));
            assert.strictEqual(newer.code, 2);
            assert.match(
                newer.stderr,
                /version-4\.json is a deployment of version 4 \(features: refreshBeforeUpdate\); bklite audit reads version 3 only; .*upgrade bklite/,
            );
            const older = await bklite("audit", fixture("version-1.json"));
            assert.strictEqual(older.code, 2);
            assert.match(
                older.stderr,
                /deployment of version 1; bklite audit reads version 3 only; it was written by an old Pulumi CLI/,
            );
            assert.strictEqual(newer.stdout + older.stdout, "");
        });

        it("refuses what is not an export: bad JSON, no deployment, resources without URNs, a missing file", async () => {
            const dir = tempDir("bklite-export-");
            const write = (name: string, text: string) => {
                fs.writeFileSync(path.join(dir, name), text);
                return path.join(dir, name);
            };
            const cases: Array<[string, RegExp]> = [
                [write("bad.json", "{ not json"), /bad\.json is not valid JSON/],
                [write("app.env", "POSTGRES_PASSWORD=hunter2-not-json\n"), /app\.env is not valid JSON; give the file/],
                [
                    write("plan.json", JSON.stringify({ format: 1, stack: "dev", resources: {} })),
                    /plan\.json is not a stack export: it has no 'deployment'/,
                ],
                [
                    write("nourn.json", JSON.stringify({ version: 3, deployment: { resources: [{ type: "x" }] } })),
                    /deployment\.resources\[0\] has no valid urn and type/,
                ],
                [path.join(dir, "missing.json"), /missing\.json does not exist; make it with `pulumi stack export/],
            ];
            for (const [file, message] of cases) {
                const result = await bklite("audit", file);
                assert.strictEqual(result.code, 2, file);
                assert.match(result.stderr, message);
                assert.ok(
                    !result.stderr.includes("hunter2") && !result.stderr.includes("POSTGRES_P"),
                    "the file is never quoted",
                );
            }
        });

        it("refuses bad usage", async () => {
            assert.strictEqual((await bklite("audit")).code, 2);
            assert.strictEqual((await bklite("audit", "a.json", "b.json")).code, 2);
            const format = await bklite("audit", fixture("empty.json"), "--format", "yaml");
            assert.strictEqual(format.code, 2);
            assert.match(format.stderr, /--format must be markdown or json/);
            const project = await bklite("audit", fixture("empty.json"), "--project-dir", "/nonexistent/bklite");
            assert.strictEqual(project.code, 2);
            assert.match(project.stderr, /--project-dir \/nonexistent\/bklite has no Pulumi\.yaml/);
        });

        it("counts secrets an export holds decrypted, per resource", () => {
            const parsed = parseStackExport(
                JSON.stringify({
                    version: 3,
                    deployment: {
                        resources: [
                            {
                                urn: "urn:pulumi:s::p::random:index/randomPassword:RandomPassword::pw",
                                custom: true,
                                type: "random:index/randomPassword:RandomPassword",
                                outputs: {
                                    result: {
                                        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                        plaintext: '"x"',
                                    },
                                    bcryptHash: {
                                        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                        ciphertext: "v1:a:b",
                                    },
                                },
                            },
                        ],
                    },
                }),
                "inline.json",
            );
            assert.deepStrictEqual(
                [...parsed.decryptedSecrets],
                [["urn:pulumi:s::p::random:index/randomPassword:RandomPassword::pw", 1]],
            );
            const report = auditExport(parsed, { offline: true, source: "test" });
            assert.strictEqual(report.errors.length, 1);
        });

        it("lists resources the state will delete and operations an interrupted update left", () => {
            const volume = {
                urn: "urn:pulumi:s::p::docker:index/volume:Volume::old-data",
                custom: true,
                type: "docker:index/volume:Volume",
                inputs: { name: "old" },
                delete: true,
            };
            const parsed = parseStackExport(
                JSON.stringify({
                    version: 3,
                    deployment: {
                        resources: [volume],
                        pending_operations: [
                            {
                                resource: {
                                    urn: "urn:pulumi:s::p::docker:index/container:Container::server",
                                    type: "docker:index/container:Container",
                                },
                                type: "creating",
                            },
                        ],
                    },
                }),
                "pending.json",
            );
            const report = auditExport(parsed, { offline: true, source: "test" });
            assert.deepStrictEqual(
                report.pending.map((p) => [p.urn.split("::").pop(), p.what]),
                [
                    ["old-data", "replaced; deleted by the next update"],
                    ["server", "creating was interrupted; run `pulumi refresh`"],
                ],
            );
            assert.deepStrictEqual(
                report.dataVolumes,
                [],
                "a volume being deleted is not one of the stack's data volumes",
            );
        });

        it("takes the registry and offline flag from the stack file of the export's stack", () => {
            assert.deepStrictEqual(
                { ...stackImagePolicy(PROJECT_ROOT, "prod"), source: "" },
                { registry: "aiharbor.msxf.local/aihpc", offline: true, source: "" },
            );
            assert.deepStrictEqual(
                { ...stackImagePolicy(PROJECT_ROOT, "dev"), source: "" },
                { offline: true, source: "" },
            );
            assert.deepStrictEqual(
                { ...stackImagePolicy(PROJECT_ROOT, "elsewhere"), source: "" },
                { offline: true, source: "" },
            );
        });
    });

    describe("what looks secret", () => {
        it("knows secret names by their last part", () => {
            for (const name of [
                "POSTGRES_PASSWORD",
                "PGPASSWORD",
                "DB_PASS",
                "FALKORDB_REQUIREPASS",
                "NEXTAUTH_SECRET",
                "CLIENTSECRET",
                "SECRET_KEY",
                "apiKey",
                "natsPassword",
                "db-passwd",
                "GITHUB_TOKEN",
                "AWS_ACCESS_KEY",
                "password",
            ]) {
                assert.ok(isSecretName(name), name);
            }
            for (const name of [
                "ALLOW_EMPTY_PASSWORD",
                "no-password",
                "SKIP_PASSWORD",
                "POSTGRES_PASSWORD_FILE",
                "TOKEN_EXPIRE_SECONDS",
                "PASSWORD_MIN_LENGTH",
                "KEY",
                "SECRET_KEY_PATH",
                "monkey",
                "NATS_USER",
                "PROXY_BYPASS",
                "COMPASS_URL",
            ]) {
                assert.ok(!isSecretName(name), name);
            }
        });

        it("finds secrets in text without quoting them, and leaves references and prose alone", () => {
            assert.strictEqual(secretInText("postgres://bklite:pw@127.0.0.1:5432/bklite"), "a URL with a password");
            assert.strictEqual(secretInText("REDIS_PASSWORD=abc"), "env REDIS_PASSWORD");
            assert.strictEqual(secretInText("port 6379\nrequirepass abc\n"), "a 'requirepass' setting");
            assert.strictEqual(secretInText("requirepass abc"), "a 'requirepass' setting", "a one-line redis.conf too");
            assert.strictEqual(
                secretInText("listen: 0.0.0.0:4222\nauthorization { user: admin\n password: abc }\n"),
                "a 'password' setting",
            );
            assert.strictEqual(secretInText("-----BEGIN EC PRIVATE KEY-----\nMHc...\n"), "a private key");
            for (const harmless of [
                "postgres://bklite@host/db",
                "postgres://bklite:${PG_PASSWORD}@host/db",
                "REDIS_PASSWORD=",
                "REDIS_PASSWORD=$REDIS_PASS",
                "http://host:8080/api",
                "port 6379\nrequirepass ${REDIS_PASSWORD}\n",
                "Password: required for the console",
                "Token auth for agents",
                "see the password reset page\nand the token docs\n",
                "tls: true\nsecret: false\n",
                "ALLOW_EMPTY_PASSWORD=yes",
            ]) {
                assert.strictEqual(secretInText(harmless), undefined, harmless);
            }
        });

        it("finds secrets passed as command-line arguments", () => {
            const view = (command: string[]): ResourceView => ({
                urn: "urn:pulumi:s::p::docker:index/container:Container::r",
                type: "docker:index/container:Container",
                name: "r",
                props: { command },
                kept: false,
                secretsMarked: true,
                additionalSecretOutputs: [],
            });
            assert.deepStrictEqual(
                plaintextSecretFindings(view(["redis-server", "--requirepass", "abc", "--appendonly", "yes"])).map(
                    (f) => f.where,
                ),
                ["inputs.command[2]"],
            );
            assert.deepStrictEqual(
                plaintextSecretFindings(view(["app", "--db-password=abc"])).map((f) => f.where),
                ["inputs.command[1]"],
            );
            assert.deepStrictEqual(
                plaintextSecretFindings(view(["redis-server", "--requirepass", "${REDIS_PASSWORD}"])),
                [],
            );
            assert.deepStrictEqual(plaintextSecretFindings(view(["app", "--password-file", "/run/secrets/pw"])), []);
            assert.deepStrictEqual(
                plaintextSecretFindings(view(["sh", "-c", "redis-server --requirepass abc"])).map((f) => f.where),
                ["inputs.command[2]"],
            );
            assert.deepStrictEqual(plaintextSecretFindings(view(["psql", "--no-password", "bklite"])), []);
            assert.deepStrictEqual(plaintextSecretFindings(view(["mysqld", "--allow-empty-password", "yes"])), []);
        });

        it("counts host networking as publishing every port on every address", () => {
            const base = {
                urn: "urn:pulumi:s::p::t::r",
                name: "r",
                kept: false,
                secretsMarked: true,
                additionalSecretOutputs: [],
            };
            const docker: ResourceView = {
                ...base,
                type: "docker:index/container:Container",
                props: { name: "site-postgres", image: "postgres:15.10", networkMode: "host" },
            };
            assert.deepStrictEqual(
                exposureFindings(docker).map((f) => f.where),
                ["inputs.networkMode"],
            );
            const all: ResourceView = {
                ...base,
                type: "docker:index/container:Container",
                props: { name: "cache", image: "redis:5.0.14", publishAllPorts: true },
            };
            assert.deepStrictEqual(
                exposureFindings(all).map((f) => f.where),
                ["inputs.publishAllPorts"],
            );
            const pod: ResourceView = {
                ...base,
                type: "kubernetes:apps/v1:Deployment",
                props: {
                    spec: {
                        template: {
                            spec: { hostNetwork: true, containers: [{ name: "redis", image: "redis:5.0.14" }] },
                        },
                    },
                },
            };
            assert.deepStrictEqual(
                exposureFindings(pod).map((f) => f.where),
                ["inputs.spec.template.spec.hostNetwork"],
            );
        });

        it("finds a namespace named only in its outputs (auto-named) that holds claims", () => {
            const base = { kept: false, secretsMarked: true, additionalSecretOutputs: [] };
            const views: ResourceView[] = [
                {
                    ...base,
                    urn: "urn:pulumi:s::p::kubernetes:core/v1:Namespace::ns",
                    type: "kubernetes:core/v1:Namespace",
                    name: "ns",
                    props: { metadata: {} },
                    outputs: { metadata: { name: "ns-1a2b3c" } },
                },
                {
                    ...base,
                    kept: true,
                    urn: "urn:pulumi:s::p::kubernetes:core/v1:PersistentVolumeClaim::c",
                    type: "kubernetes:core/v1:PersistentVolumeClaim",
                    name: "c",
                    props: { metadata: { namespace: "ns-1a2b3c" } },
                },
            ];
            assert.deepStrictEqual(
                retentionFindings(views, "retainOnDelete").map((f) => f.name),
                ["ns"],
            );
        });
    });
});
