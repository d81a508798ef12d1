/**
 * The program's seeding step under mocks: what `bklite seed apply` is given, how, and when it runs again.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { REQUIRED_REGION_KEYS } from "../../src/services/regions";
import * as mocks from "../support/mocks";
import { ProgramRun, containsSecret, mockSecret, runProgram } from "../support/mocks";
import { agentPassword, agentUserName } from "../../src/services/natsAccounts";
import { tempDir } from "../support/processes";
import { PROJECT_ROOT, programConfig, standInPackageFile } from "../support/stackFiles";

/** The server side's NATS password, as the server is given it. */
function natsPasswordOf(run: ProgramRun): string {
    const server = run.recorder.named("bklite-docker-server");
    const env = server.inputs.envs as string[];
    return env.find((e) => e.startsWith("NATS_SERVERS="))!.match(/bklite:([^@]+)@/)![1];
}

describe("seeding (program)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("prod", programConfig("prod"));
    });

    it("runs bklite seed apply with the spec on stdin, after the server is healthy", () => {
        const apply = run.recorder.named("bklite-seed-apply");
        assert.strictEqual(apply.type, "command:local:Command");
        assert.strictEqual(apply.inputs.create, "node bin/bklite seed apply --spec - --docker-stack prod");
        assert.strictEqual(apply.inputs.dir, PROJECT_ROOT);
        assert.ok(containsSecret(apply.rawInputs.stdin), "the spec is a secret");
        assert.ok(apply.dependencies.some((d) => d.endsWith("::bklite-docker-server")));
        assert.ok(!apply.inputs.create.includes(natsPasswordOf(run)), "no secret on the command line");
    });

    it("seeds every region, default included, with all six keys and its own agents' NATS user", () => {
        const spec = JSON.parse(run.recorder.named("bklite-seed-apply").inputs.stdin);
        assert.deepStrictEqual(
            spec.regions.map((r: { name: string }) => r.name),
            ["default", "管理网"],
        );
        for (const region of spec.regions) {
            for (const key of REQUIRED_REGION_KEYS) {
                assert.ok(region.env[key], `${region.name} has ${key}`);
            }
            assert.strictEqual(region.env.NATS_USERNAME, agentUserName(region.name));
            assert.strictEqual(
                region.env.NATS_PASSWORD,
                agentPassword(mockSecret("bklite-secrets-natsAgentKey"), region.name),
            );
            assert.notStrictEqual(region.env.NATS_PASSWORD, natsPasswordOf(run), "never the server side's");
            assert.strictEqual(region.env.NATS_PROTOCOL, "tls");
        }
        assert.strictEqual(spec.regions[0].env.NODE_SERVER_URL, "http://192.168.31.10:8080");
        assert.strictEqual(spec.regions[1].env.NODE_SERVER_URL, "http://192.168.31.10:8080");
        assert.deepStrictEqual(spec.packages, [
            { file: standInPackageFile(), os: "linux", type: "controller", object: "Controller", version: "1.0.0" },
            {
                file: standInPackageFile("telegraf"),
                os: "linux",
                type: "collector",
                object: "Telegraf",
                version: "1.0.0",
            },
            { file: standInPackageFile("vector"), os: "linux", type: "collector", object: "Vector", version: "1.0.0" },
            {
                file: standInPackageFile("nats-executor"),
                os: "linux",
                type: "collector",
                object: "NATS-Executor",
                version: "1.0.0",
            },
        ]);
    });

    it("gives the console's admin the stack's password, in the spec (secret), never on a command line", () => {
        const apply = run.recorder.named("bklite-seed-apply");
        const spec = JSON.parse(apply.inputs.stdin);
        assert.deepStrictEqual(spec.admin, { username: "admin", password: run.outputs.adminPassword });
        assert.ok(!apply.inputs.create.includes(String(run.outputs.adminPassword)));
    });

    it("passes the connection in the environment, every value secret, as the owner role not the superuser", () => {
        const apply = run.recorder.named("bklite-seed-apply");
        const env = apply.inputs.environment as Record<string, string>;
        assert.deepStrictEqual(Object.keys(env).sort(), [
            "BKLITE_NATS_BUCKET",
            "BKLITE_NATS_CA",
            "BKLITE_NATS_PASSWORD",
            "BKLITE_NATS_URL",
            "BKLITE_NATS_USER",
            "BKLITE_PG_URL",
            "BKLITE_SECRET_KEY",
        ]);
        // The SDK wraps the whole map once any value in it is secret; SeedData marks every value secret itself.
        assert.ok(containsSecret(apply.rawInputs.environment), "the environment is a secret");
        assert.match(env.BKLITE_PG_URL, /^postgres:\/\/bklite:mock[0-9a-f]{28}@127\.0\.0\.1:25432\/bklite$/);
        assert.strictEqual(env.BKLITE_NATS_URL, "tls://127.0.0.1:24222");
        assert.strictEqual(env.BKLITE_NATS_BUCKET, "bklite");
        assert.strictEqual(env.BKLITE_NATS_CA, run.outputs.natsCaCert);
        assert.strictEqual(env.BKLITE_NATS_PASSWORD, natsPasswordOf(run));
    });

    it("runs again only when the spec or a package's digest changes", async () => {
        const apply = run.recorder.named("bklite-seed-apply");
        const spec = apply.inputs.stdin as string;
        const digestOf = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
        const fileDigest = digestOf(standInPackageFile());
        const collectorDigests = ["telegraf", "vector", "nats-executor"].map((name) =>
            digestOf(standInPackageFile(name)),
        );
        // The spec's digest is keyed by SECRET_KEY: visible in state and previews, useless for guessing secrets.
        const key = String(run.recorder.named("bklite-secrets-secretKey").rawOutputs.result);
        assert.match(key, /^mock[0-9a-f]{28}$/);
        assert.deepStrictEqual(apply.inputs.triggers, [
            crypto
                .createHmac("sha256", key)
                .update(JSON.stringify([spec]))
                .digest("hex"),
            fileDigest,
            ...collectorDigests,
        ]);
        assert.ok(!containsSecret(apply.rawInputs.triggers), "the triggers are not secret");
        const again = await runProgram("prod", programConfig("prod"));
        assert.deepStrictEqual(
            again.recorder.named("bklite-seed-apply").inputs.triggers,
            apply.inputs.triggers,
            "nothing changed, same triggers",
        );

        const dir = tempDir("package");
        const other = path.join(dir, "fusion-collectors-linux-amd64.zip");
        fs.writeFileSync(other, "another build\n");
        try {
            const config = programConfig("prod");
            config["bklite:probePackages"] = JSON.stringify(
                JSON.parse(config["bklite:probePackages"]).map((p: { type?: string }, i: number) =>
                    i === 0 ? { ...p, file: other } : p,
                ),
            );
            const changed = await runProgram("prod", config);
            const triggers = changed.recorder.named("bklite-seed-apply").inputs.triggers;
            assert.notStrictEqual(triggers[1], fileDigest);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("stops before registering anything when a package file is missing", async () => {
        const config = programConfig("prod");
        config["bklite:probePackages"] = JSON.stringify([{ file: "assets/packages/not-there.zip", version: "1.0.0" }]);
        await assert.rejects(
            runProgram("prod", config),
            /bklite:probePackages\[0\]\.file: .*not-there\.zip does not exist/,
        );
        assert.deepStrictEqual(mocks.lastRecorder?.resources, []);
    });
});
