/**
 * The same access operations against both runtimes, so what seeding, verification, backups and the CLI rely on holds
 * whichever runs the stack: Docker for real (containers on a Docker engine), Kubernetes through the kubectl stand-in
 * (tests/support/bin/kubectl), whose exec, scale and port-forward act on the same containers. Each runtime's access is
 * built as the CLI builds it, from the runtime the stack names.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PassThrough, Readable } from "stream";
import { runtimeOf } from "../../src/runtimes";
import { RuntimeAccess, ServiceAddress, StoppedService } from "../../src/runtimes/runtime";
import { Workload } from "../../src/services/workload";
import { docker, makeImage, removeImages, requireDockerEngine } from "../support/docker";
import { freePort, httpGet, tempDir, waitFor } from "../support/processes";
import { PROJECT_ROOT } from "../support/stackFiles";

/** What a runtime's side of the suite needs: its access, the address kind it records, a URL the program would give. */
interface Side {
    access(): RuntimeAccess;
    ownAddress: ServiceAddress;
    commandUrl: string;
}

/** Two services: `db` (a stateful one with data) and `web` (an HTTP server), enough for every verb. */
function workloads(): Workload[] {
    const base = { env: {}, files: [], dependsOn: [], routes: [], image: "unused", health: undefined as never };
    return [
        { ...base, name: "db", ports: [], volumes: [{ name: "db-data", mountPath: "/data" }], stateful: true },
        { ...base, name: "web", ports: [{ name: "http", containerPort: 8080 }], volumes: [] },
    ];
}

describe("runtime access: the same verbs on Docker and on Kubernetes", function () {
    this.timeout(120000);
    const stack = `acc${crypto.randomBytes(4).toString("hex")}`;
    const prefix = `bklite-${stack}`;
    const image = `bklite-access-test-${stack}:1`;
    const marker = `marker-${stack}`;
    const saved = { ...process.env };
    let webPort: number;
    let webAddress: string;

    before(async () => {
        requireDockerEngine();
        makeImage(image, marker);
        webPort = await freePort();
        docker("network", "create", "--label", `io.bklite.test=${stack}`, prefix);
        const run = (service: string, script: string, ...extra: string[]) =>
            docker(
                "run",
                "-d",
                "--name",
                `${prefix}-${service}`,
                "--network",
                prefix,
                ...extra,
                "--entrypoint",
                "/bin/sh",
                image,
                "-c",
                script,
            );
        run("db", "trap 'exit 0' TERM; while :; do sleep 1; done", "--stop-timeout", "2");
        run(
            "web",
            "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www",
            "-p",
            `127.0.0.1:${webPort}:8080`,
        );
        webAddress = docker(
            "inspect",
            "--format",
            `{{(index .NetworkSettings.Networks "${prefix}").IPAddress}}`,
            `${prefix}-web`,
        );
        // The kubectl stand-in acts on the same containers.
        const dir = tempDir("access-kubectl");
        process.env.BKLITE_KUBECTL = path.join(PROJECT_ROOT, "tests", "support", "bin", "kubectl");
        process.env.FAKE_KUBECTL_CONTAINERS = JSON.stringify({
            "statefulset/db": `${prefix}-db`,
            "deployment/web": `${prefix}-web`,
        });
        process.env.FAKE_KUBECTL_TARGETS = JSON.stringify({ "svc/web": `${webAddress}:8080` });
        process.env.FAKE_KUBECTL_REPLICAS = path.join(dir, "replicas.json");
        process.env.FAKE_KUBECTL_LOG = path.join(dir, "calls.log");
    });

    after(() => {
        for (const service of ["db", "web"]) {
            docker("rm", "--force", `${prefix}-${service}`);
        }
        docker("network", "rm", prefix);
        removeImages([image]);
        for (const key of Object.keys(process.env).filter((k) => !(k in saved))) {
            delete process.env[key];
        }
    });

    const sides: Record<string, () => Side> = {
        docker: () => ({
            access: () => runtimeOf("docker").access({ stack }),
            ownAddress: { container: `${prefix}-web`, network: prefix },
            // The program gives Docker commands loopback URLs of published ports.
            commandUrl: `http://127.0.0.1:${webPort}/`,
        }),
        kubernetes: () => ({
            access: () =>
                runtimeOf("kubernetes").access({ stack, workloads: workloads(), options: { "kube-namespace": stack } }),
            ownAddress: { kubeService: "web" },
            // ... and cluster commands URLs naming the Service.
            commandUrl: "http://web:8080/",
        }),
    };

    for (const [runtime, sideOf] of Object.entries(sides)) {
        describe(runtime, () => {
            let side: Side;
            let access: RuntimeAccess;
            beforeEach(() => {
                side = sideOf();
                access = side.access();
            });
            afterEach(() => access.close());

            it("tells running services from absent ones", async () => {
                assert.strictEqual(await access.state("db"), "running");
                assert.strictEqual(await access.state("web"), "running");
                assert.strictEqual(await access.state("nothing"), "absent");
            });

            it("runs a program inside a service, its output collected or streamed, its input streamed", async () => {
                assert.strictEqual((await access.exec("db", ["cat", "/marker"])).trim(), marker);
                const input = crypto.randomBytes(300000);
                const count = await access.exec("db", ["sh", "-c", "cat > /in; wc -c < /in"], {
                    stdin: Readable.from([input]),
                });
                assert.strictEqual(Number(count.trim()), input.length);
                const sink = new PassThrough();
                const chunks: Buffer[] = [];
                sink.on("data", (c: Buffer) => chunks.push(c));
                assert.strictEqual(await access.exec("db", ["cat", "/in"], { stdout: sink }), "");
                assert.ok(Buffer.concat(chunks).equals(input), "the output streamed whole");
            });

            it("an aborted exec stops its program inside the service too, and everything it started", async () => {
                const controller = new AbortController();
                const running = access.exec("db", ["sh", "-c", "sleep 307 & sleep 308; wait"], {
                    signal: controller.signal,
                });
                const processes = async () =>
                    access.exec("db", [
                        "sh",
                        "-c",
                        'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done',
                    ]);
                await waitFor(
                    async () => /sleep 308/.test(await processes()),
                    15000,
                    () => "sleep 308 never ran",
                );
                controller.abort();
                await assert.rejects(running, /interrupted|aborted/i);
                const left = await processes();
                assert.doesNotMatch(left, /sleep 30[78]/, "nothing left running inside");
            });

            it("fails a program that fails, with the tail of what it said", async () => {
                await assert.rejects(access.exec("db", ["sh", "-c", "echo boom >&2; exit 3"]), /exit 3.*boom/);
            });

            it("stops a service, saying first what brings it back, and starts it again from that alone", async () => {
                let heard: StoppedService | undefined;
                const stopped = await access.stop("db", (record) => {
                    heard = record;
                });
                assert.deepStrictEqual(heard, stopped, "heard before stopping");
                assert.deepStrictEqual(JSON.parse(JSON.stringify(stopped)), stopped, "plain data, for a journal");
                assert.strictEqual(await access.state("db"), "stopped");
                await access.start({ service: "db", replicas: stopped.replicas });
                assert.strictEqual(await access.state("db"), "running");
                assert.strictEqual((await access.exec("db", ["cat", "/marker"])).trim(), marker);
            });

            it("reaches a service's port, by its name and by the address a verify spec records", async () => {
                const byName = await access.address("web", 8080);
                assert.strictEqual((await httpGet(`http://${byName}/`)).body.trim(), "hello");
                const byAddress = await access.locate(side.ownAddress, 8080);
                assert.strictEqual((await httpGet(`http://${byAddress}/`)).body.trim(), "hello");
                assert.strictEqual(await access.locate({ host: "192.0.2.1" }, 9), "192.0.2.1:9");
            });

            it("makes a URL the program gives reachable from here, and stops what it started on close", async () => {
                const url = await access.reach(side.commandUrl);
                assert.strictEqual((await httpGet(url)).body.trim(), "hello");
                await access.close();
                if (url !== side.commandUrl) {
                    await assert.rejects(httpGet(url), "a port-forward is gone once the access is closed");
                }
            });

            it("says how to run a program in a service by hand", () => {
                assert.match(
                    access.execHint("db"),
                    runtime === "docker"
                        ? new RegExp(`^docker exec ${prefix}-db$`)
                        : /^kubectl -n \S+ exec statefulset\/db --$/,
                );
            });
        });
    }

    describe("afterwards", () => {
        it("the kubectl stand-in was driven through exec, scale, wait and port-forward", () => {
            const calls = fs.readFileSync(process.env.FAKE_KUBECTL_LOG!, "utf8");
            for (const verb of ["exec", "scale", "port-forward", "wait"]) {
                assert.match(calls, new RegExp(`"${verb}"`), verb);
            }
        });
    });
});
