/**
 * The Docker runtime on specs that have nothing to do with bk-lite: it must run any services it is given.
 */
import { startOrder } from "../../src/runtimes/startOrder";
import * as assert from "assert";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import type { Workload } from "../../src/services/workload";
import { ResourceRecorder, containsSecret, setRecordingMocks, settle } from "../support/mocks";

/** Stands for whatever finishes a service's start (a database inside PostgreSQL, say). */
class Migration extends pulumi.CustomResource {
    constructor(name: string, opts: pulumi.CustomResourceOptions) {
        super("test:index:Migration", name, {}, opts);
    }
}

type RuntimeModule = typeof import("../../src/runtimes/docker/containers");
type TemplateModule = typeof import("../../src/services/template");

function spec(name: string, overrides: Partial<Workload> = {}): Workload {
    return {
        name,
        image: `example/${name}:1.0`,
        env: {},
        ports: [],
        volumes: [],
        files: [],
        health: { test: ["CMD", "true"], intervalSeconds: 5, timeoutSeconds: 2, startPeriodSeconds: 5, retries: 3 },
        dependsOn: [],
        routes: [],
        ...overrides,
    };
}

describe("DockerRuntime", () => {
    let runtime: RuntimeModule;
    let template: TemplateModule;
    let recorder: ResourceRecorder;

    beforeEach(async () => {
        recorder = await setRecordingMocks("test");
        // Import after the mocks are set, as the Pulumi docs require.
        runtime = await import("../../src/runtimes/docker/containers");
        template = await import("../../src/services/template");
    });

    it("runs generic services with their volumes, files, ports and dependency order", async () => {
        const { tpl, ref } = template;
        const services = [
            spec("app", {
                dependsOn: ["store"],
                env: { TOKEN: tpl`t-${ref("token")}`, MODE: "prod" },
                ports: [{ name: "http", containerPort: 80, hostPort: 8081 }],
            }),
            spec("store", {
                volumes: [{ name: "store-data", mountPath: "/var/lib/store" }],
                files: [{ path: "/etc/store.conf", content: "plain = yes\n", mode: "0644" }],
                ports: [{ name: "admin", containerPort: 9000, hostPort: 19000, hostIp: "127.0.0.1" }],
            }),
        ];
        const migrated: string[] = [];
        new runtime.DockerRuntime(
            "rt",
            { namePrefix: "demo", services },
            {
                values: { token: pulumi.secret("s3cret") },
                afterStart: {
                    store: (container) => {
                        migrated.push(container.constructor.name);
                        return [new Migration("rt-migration", { dependsOn: [container] })];
                    },
                },
            },
        );
        await settle();

        assert.deepStrictEqual(migrated, ["Container"]);
        const app = recorder.named("rt-app");
        const store = recorder.named("rt-store");
        assert.deepStrictEqual(app.inputs.envs, ["MODE=prod", "TOKEN=t-s3cret"]);
        assert.ok(containsSecret(app.rawInputs.envs), "an env with a secret is secret");
        assert.ok(!containsSecret(store.rawInputs), "a service without secrets has no secret inputs");
        assert.ok(
            app.dependencies.some((d) => d.endsWith("::rt-store")),
            "app waits for store",
        );
        assert.ok(
            app.dependencies.some((d) => d.endsWith("::rt-migration")),
            "app waits for what finishes store's start",
        );
        assert.deepStrictEqual(store.inputs.ports, [
            { internal: 9000, external: 19000, ip: "127.0.0.1", protocol: "tcp" },
        ]);
        assert.deepStrictEqual(store.inputs.uploads, [
            { file: "/etc/store.conf", content: "plain = yes\n", permissions: "0644" },
        ]);
        const volume = recorder.named("rt-store-data");
        assert.strictEqual(volume.inputs.name, "demo-store-data");
        assert.strictEqual(volume.retainOnDelete, true);
        assert.deepStrictEqual(store.inputs.volumes, [
            { volumeName: "demo-store-data", containerPath: "/var/lib/store" },
        ]);
        assert.strictEqual(store.inputs.waitTimeout, runtime.waitTimeoutSeconds(services[1].health));
    });

    it("makes a file secret exactly when it refers to a secret value", async () => {
        const { tpl, ref } = template;
        new runtime.DockerRuntime(
            "rt",
            {
                namePrefix: "demo",
                services: [
                    spec("locked", { files: [{ path: "/etc/app.conf", content: tpl`password ${ref("password")}` }] }),
                    spec("open", { files: [{ path: "/etc/ca.crt", content: tpl`${ref("caCert")}` }] }),
                ],
            },
            { values: { password: pulumi.secret("p4ss"), caCert: pulumi.output("CERT") } },
        );
        await settle();
        assert.ok(containsSecret(recorder.named("rt-locked").rawInputs.uploads));
        assert.ok(!containsSecret(recorder.named("rt-open").rawInputs.uploads));
        assert.deepStrictEqual(recorder.named("rt-open").inputs.uploads, [{ file: "/etc/ca.crt", content: "CERT" }]);
    });

    it("creates one RemoteImage per distinct image, kept locally", async () => {
        new runtime.DockerRuntime(
            "rt",
            { namePrefix: "demo", services: [spec("a", { image: "x/y:1" }), spec("b", { image: "x/y:1" })] },
            { values: {} },
        );
        await settle();
        const images = recorder.ofType("docker:index/remoteImage:RemoteImage");
        assert.strictEqual(images.length, 1);
        assert.strictEqual(images[0].inputs.keepLocally, true);
    });

    it("refuses two services on one host port", () => {
        const services = [
            spec("a", { ports: [{ name: "http", containerPort: 80, hostPort: 8080 }] }),
            spec("b", { ports: [{ name: "http", containerPort: 81, hostPort: 8080 }] }),
        ];
        assert.throws(
            () => new runtime.DockerRuntime("rt", { namePrefix: "demo", services }, { values: {} }),
            /8080 by a\.http and b\.http/,
        );
    });

    it("refuses dependency cycles and unknown dependencies", () => {
        assert.throws(
            () => startOrder([spec("a", { dependsOn: ["b"] }), spec("b", { dependsOn: ["a"] })]),
            /cycle: a -> b -> a/,
        );
        assert.throws(() => startOrder([spec("a", { dependsOn: ["ghost"] })]), /unknown service 'ghost'/);
    });

    it("refuses a spec that refers to a value nobody bound", () => {
        const { tpl, ref } = template;
        assert.throws(
            () =>
                new runtime.DockerRuntime(
                    "rt",
                    { namePrefix: "demo", services: [spec("a", { env: { X: tpl`${ref("missing")}` } })] },
                    { values: {} },
                ),
            /no value bound for 'missing'/,
        );
    });
});

/** Seconds of a Go duration made of hours, minutes and seconds. */
function secondsOf(duration: string): number {
    const [, h = "0", m = "0", s = "0"] = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)s$/.exec(duration) ?? [];
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

describe("what the docker provider reads back (no-op runs stay no-ops)", () => {
    // Imported here, not at the top: the runtime tests above load the module afresh for each run.
    const { ENGINE_REPORTED, dockerHealthcheck, goDuration } =
        require("../../src/runtimes/docker/containers") as RuntimeModule;

    it("writes durations as Go's time.Duration.String() does", () => {
        const examples: Array<[number, string]> = [
            [0, "0s"],
            [5, "5s"],
            [59, "59s"],
            [60, "1m0s"],
            [90, "1m30s"],
            [120, "2m0s"],
            [3600, "1h0m0s"],
            [3661, "1h1m1s"],
            [86400, "24h0m0s"],
        ];
        for (const [seconds, go] of examples) {
            assert.strictEqual(goDuration(seconds), go, String(seconds));
        }
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 10 * 86400 }), (seconds) => {
                const [, , m = "0", s] = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)s$/.exec(goDuration(seconds))!;
                assert.strictEqual(secondsOf(goDuration(seconds)), seconds);
                assert.ok(Number(s) < 60 && Number(m) < 60, "seconds and minutes below 60, as Go writes them");
            }),
        );
        assert.deepStrictEqual(
            dockerHealthcheck({
                test: ["CMD", "true"],
                intervalSeconds: 10,
                timeoutSeconds: 5,
                startPeriodSeconds: 120,
                retries: 50,
            }),
            {
                tests: ["CMD", "true"],
                interval: "10s",
                timeout: "5s",
                startPeriod: "2m0s",
                retries: 50,
            },
        );
    });

    it("sets, on every container of the program, what the engine reports: network mode, Go durations, non-zero health fields", async () => {
        const { runProgram } = require("../support/mocks") as typeof import("../support/mocks");
        const { programConfig } = require("../support/stackFiles") as typeof import("../support/stackFiles");
        const run = await runProgram(
            "dev",
            programConfig("dev", {
                "bklite:installApps": ["system_mgmt", "cmdb", "monitor", "node_mgmt", "log", "mlops"],
            }),
        );
        const containers = run.recorder.ofType("docker:index/container:Container");
        assert.strictEqual(containers.length, 14);
        for (const c of containers) {
            assert.strictEqual(c.inputs.networkMode, ENGINE_REPORTED.networkMode, c.name);
            const h = c.inputs.healthcheck;
            for (const field of ["interval", "timeout", "startPeriod"]) {
                assert.match(h[field], /^(\d+h)?(\d+m)?\d+s$/, `${c.name} ${field}: Go form`);
                assert.ok(secondsOf(h[field]) > 0, `${c.name} ${field}: non-zero, so no image HEALTHCHECK fills it in`);
                assert.strictEqual(goDuration(secondsOf(h[field])), h[field], `${c.name} ${field}: canonical`);
            }
            assert.ok(h.retries > 0 && h.tests.length > 1, c.name);
            assert.strictEqual(
                h.startInterval,
                undefined,
                `${c.name}: no start interval (Docker 20.10 ignores it and would report 0s)`,
            );
            assert.deepStrictEqual(Object.keys(c.inputs.logOpts).sort(), ["max-file", "max-size"], c.name);
        }
        assert.strictEqual(run.recorder.named("bklite-docker-server").inputs.healthcheck.startPeriod, "2m0s");
    });
});
