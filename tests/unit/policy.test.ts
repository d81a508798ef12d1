/**
 * The CrossGuard pack in policy/: every policy's validate function called directly with the arguments the
 * analyzer would pass, on resources that break its rule, on ones that keep it, and on this program's own
 * resources; and the pack itself started as the Pulumi CLI starts it.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as path from "path";
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
} from "@pulumi/policy";
import {
    dataRetained,
    dataStoresOnLoopback,
    imagesFromRegistry,
    knownProps,
    noPlaintextSecrets,
    noPullAlways,
    policies,
} from "../../policy/policies";
import { runProgram } from "../support/mocks";
import { programConfig } from "../support/stackFiles";

// The SDK's own proxy, which throws for values only known after deploy (internal module; the analyzer uses it).
const { unknownCheckingProxy, unknownStringValue } = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy<T>(v: T): T;
    unknownStringValue: string;
};

interface Analyzed {
    type: string;
    name: string;
    props: Record<string, unknown>;
    stack?: string;
    protect?: boolean;
    additionalSecretOutputs?: string[];
    config?: Record<string, unknown>;
}

function urnOf(r: Analyzed): string {
    return `urn:pulumi:${r.stack ?? "prod"}::bklite::${r.type}::${r.name}`;
}

function options(r: Analyzed) {
    return {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.additionalSecretOutputs ?? [],
    };
}

/** The arguments the analyzer passes to validateResource. */
function resourceArgs(r: Analyzed): ResourceValidationArgs {
    return {
        type: r.type,
        props: r.props,
        urn: urnOf(r),
        name: r.name,
        opts: options(r),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => (r.config ?? {}) as T,
        notApplicable: () => {
            throw new Error("not applicable");
        },
    };
}

function policyResource(r: Analyzed): PolicyResource {
    return {
        type: r.type,
        props: r.props,
        urn: urnOf(r),
        name: r.name,
        opts: options(r),
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
    };
}

/** The violations one resource policy reports. */
async function violations(policy: ResourceValidationPolicy, r: Analyzed): Promise<string[]> {
    const found: string[] = [];
    const report: ReportViolation = (message) => found.push(message);
    const validate = policy.validateResource!;
    for (const v of Array.isArray(validate) ? validate : [validate]) {
        await v(resourceArgs(r), report);
    }
    return found;
}

/** The violations the stack policy reports, as [urn, message]. */
async function stackViolations(resources: Analyzed[]): Promise<Array<[string | undefined, string]>> {
    const found: Array<[string | undefined, string]> = [];
    const args: StackValidationArgs = {
        resources: resources.map(policyResource),
        getConfig: <T extends object>() => ({}) as T,
        stackTags: new Map(),
        notApplicable: () => {
            throw new Error("not applicable");
        },
    };
    await dataRetained.validateStack(args, (message, urn) => found.push([urn, message]));
    return found;
}

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const VOLUME = "docker:index/volume:Volume";

function deployment(container: Record<string, unknown>): Analyzed {
    return {
        type: "kubernetes:apps/v1:Deployment",
        name: "server",
        props: {
            metadata: { name: "server", namespace: "bklite" },
            spec: { template: { spec: { containers: [{ name: "server", ...container }] } } },
        },
    };
}

describe("policy pack", () => {
    describe("bklite-images-from-registry", () => {
        it("on prod (registry from Pulumi.prod.yaml): refuses refs outside the registry and floating ones", async () => {
            const found = await violations(imagesFromRegistry, {
                type: IMAGE,
                name: "pg",
                props: { name: "postgres:latest" },
            });
            assert.strictEqual(found.length, 2);
            assert.match(found[0], /postgres:latest is not under the stack's registry aiharbor\.msxf\.local\/aihpc/);
            assert.match(found[1], /floats on tag latest/);
            assert.deepStrictEqual(
                await violations(imagesFromRegistry, {
                    type: IMAGE,
                    name: "pg",
                    props: { name: "aiharbor.msxf.local/aihpc/postgres:15.10" },
                }),
                [],
            );
        });

        it("on dev (offline, no registry): only floating tags", async () => {
            assert.deepStrictEqual(
                await violations(imagesFromRegistry, {
                    type: IMAGE,
                    name: "pg",
                    stack: "dev",
                    props: { name: "postgres:15.10" },
                }),
                [],
            );
            assert.strictEqual(
                (
                    await violations(imagesFromRegistry, {
                        type: IMAGE,
                        name: "pg",
                        stack: "dev",
                        props: { name: "postgres" },
                    })
                ).length,
                1,
            );
        });

        it("takes the registry and offline flag from the pack's config over the stack file", async () => {
            const ref = { type: IMAGE, name: "pg", props: { name: "aiharbor.msxf.local/aihpc/postgres:15.10" } };
            assert.strictEqual(
                (await violations(imagesFromRegistry, { ...ref, config: { registry: "harbor.other.local/x" } })).length,
                1,
            );
            assert.deepStrictEqual(
                await violations(imagesFromRegistry, {
                    type: IMAGE,
                    name: "pg",
                    props: { name: "nginx:latest" },
                    config: { offline: false },
                }),
                [],
            );
        });

        it("checks every container of a Kubernetes workload, init containers too", async () => {
            const found = await violations(imagesFromRegistry, {
                type: "kubernetes:batch/v1:CronJob",
                name: "backup",
                props: {
                    spec: {
                        jobTemplate: {
                            spec: {
                                template: {
                                    spec: {
                                        initContainers: [{ name: "a", image: "busybox:1.36" }],
                                        containers: [{ name: "b", image: "aiharbor.msxf.local/aihpc/pg:15" }],
                                    },
                                },
                            },
                        },
                    },
                },
            });
            assert.strictEqual(found.length, 1);
            assert.match(found[0], /busybox:1\.36 is not under the stack's registry.*initContainers\[0\]\.image/);
        });
    });

    describe("bklite-no-pull-always", () => {
        it("refuses imagePullPolicy Always, and an unset policy on a latest image (Kubernetes' default is then Always)", async () => {
            assert.match(
                (
                    await violations(
                        noPullAlways,
                        deployment({ image: "aiharbor.msxf.local/aihpc/s:v1", imagePullPolicy: "Always" }),
                    )
                )[0],
                /imagePullPolicy Always/,
            );
            assert.match(
                (await violations(noPullAlways, deployment({ image: "aiharbor.msxf.local/aihpc/s" })))[0],
                /imagePullPolicy is unset/,
            );
            assert.deepStrictEqual(
                await violations(
                    noPullAlways,
                    deployment({ image: "aiharbor.msxf.local/aihpc/s:v1", imagePullPolicy: "IfNotPresent" }),
                ),
                [],
            );
            assert.deepStrictEqual(
                await violations(noPullAlways, deployment({ image: "aiharbor.msxf.local/aihpc/s:v1" })),
                [],
            );
        });
    });

    describe("bklite-data-stores-on-loopback", () => {
        it("refuses PostgreSQL or Redis published beyond loopback, on a host port or a node port", async () => {
            const published = (ip: string) => ({
                type: CONTAINER,
                name: "postgres",
                props: { name: "bklite-prod-postgres", image: "x", ports: [{ internal: 5432, external: 25432, ip }] },
            });
            assert.match(
                (await violations(dataStoresOnLoopback, published("0.0.0.0")))[0],
                /PostgreSQL \(port 5432\) is published on 0\.0\.0\.0 port 25432/,
            );
            assert.deepStrictEqual(await violations(dataStoresOnLoopback, published("127.0.0.1")), []);
            const nodePort = {
                type: "kubernetes:core/v1:Service",
                name: "redis",
                props: {
                    spec: { type: "NodePort", selector: { app: "redis" }, ports: [{ port: 6379, nodePort: 30379 }] },
                },
            };
            assert.match(
                (await violations(dataStoresOnLoopback, nodePort))[0],
                /Redis \(port 6379\) is published on every node/,
            );
            const clusterIp = { ...nodePort, props: { spec: { selector: { app: "redis" }, ports: [{ port: 6379 }] } } };
            assert.deepStrictEqual(await violations(dataStoresOnLoopback, clusterIp), []);
        });
    });

    describe("bklite-no-plaintext-secrets", () => {
        it("refuses secret env on a container that does not declare it secret", async () => {
            const container = {
                type: CONTAINER,
                name: "pg",
                props: { envs: ["POSTGRES_USER=postgres", "POSTGRES_PASSWORD=abc123"] },
            };
            const found = await violations(noPlaintextSecrets, container);
            assert.deepStrictEqual(found, [
                "env POSTGRES_PASSWORD is stored in plaintext; make it a Pulumi secret (and on Kubernetes, take it from a Secret) (inputs.envs[1])",
            ]);
            assert.deepStrictEqual(
                await violations(noPlaintextSecrets, { ...container, additionalSecretOutputs: ["envs"] }),
                [],
            );
        });

        it("refuses literal secret env on Kubernetes and takes it from a Secret", async () => {
            assert.strictEqual(
                (
                    await violations(
                        noPlaintextSecrets,
                        deployment({ image: "x:1", env: [{ name: "REDIS_PASSWORD", value: "abc" }] }),
                    )
                ).length,
                1,
            );
            assert.deepStrictEqual(
                await violations(
                    noPlaintextSecrets,
                    deployment({
                        image: "x:1",
                        env: [
                            {
                                name: "REDIS_PASSWORD",
                                valueFrom: { secretKeyRef: { name: "env", key: "REDIS_PASSWORD" } },
                            },
                        ],
                    }),
                ),
                [],
            );
        });

        it("refuses URLs with passwords in a ConfigMap, and leaves Secrets alone", async () => {
            const configMap = {
                type: "kubernetes:core/v1:ConfigMap",
                name: "cfg",
                props: { data: { "app.env": "DATABASE_URL=postgres://bklite:pw@postgres:5432/bklite\n" } },
            };
            assert.match(
                (await violations(noPlaintextSecrets, configMap))[0],
                /a URL with a password .*\(inputs\.data\."app\.env"\)/,
            );
            assert.deepStrictEqual(
                await violations(noPlaintextSecrets, {
                    type: "kubernetes:core/v1:Secret",
                    name: "s",
                    props: { stringData: { DATABASE_URL: "postgres://bklite:pw@postgres/bklite" } },
                }),
                [],
            );
        });
    });

    describe("bklite-data-retained", () => {
        it("refuses a data volume or claim that is not protected, naming it", async () => {
            const found = await stackViolations([
                { type: VOLUME, name: "pg-data", props: { name: "pg-data" }, protect: true },
                { type: VOLUME, name: "redis-data", props: { name: "redis-data" } },
            ]);
            assert.deepStrictEqual(
                found.map(([urn]) => urn),
                ["urn:pulumi:prod::bklite::docker:index/volume:Volume::redis-data"],
            );
            assert.match(found[0][1], /docker volume is not kept when the stack is destroyed \(not protected\)/);
        });

        it("refuses a namespace holding claims unless it is protected too, and StatefulSets that delete their claims", async () => {
            const claim = {
                type: "kubernetes:core/v1:PersistentVolumeClaim",
                name: "data",
                props: { metadata: { name: "data", namespace: "bklite" } },
                protect: true,
            };
            const namespace = {
                type: "kubernetes:core/v1:Namespace",
                name: "ns",
                props: { metadata: { name: "bklite" } },
            };
            assert.deepStrictEqual(
                (await stackViolations([claim, namespace])).map(([urn]) => urn),
                ["urn:pulumi:prod::bklite::kubernetes:core/v1:Namespace::ns"],
            );
            assert.deepStrictEqual(await stackViolations([claim, { ...namespace, protect: true }]), []);
            const statefulSet = {
                type: "kubernetes:apps/v1:StatefulSet",
                name: "pg",
                props: {
                    spec: {
                        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" },
                        volumeClaimTemplates: [{ metadata: { name: "data" } }],
                        template: { spec: { containers: [] } },
                    },
                },
            };
            assert.match((await stackViolations([statefulSet]))[0][1], /whenDeleted is Delete/);
        });
    });

    describe("in a preview", () => {
        it("skips values only known after deploy instead of failing the policy", async () => {
            const props = unknownCheckingProxy({
                name: "bklite-prod-postgres",
                image: unknownStringValue,
                ports: [{ internal: 5432, external: 25432, ip: "0.0.0.0" }],
            });
            assert.throws(() => (props as Record<string, unknown>).image, /can't be known during preview/);
            assert.deepStrictEqual(knownProps(props), {
                name: "bklite-prod-postgres",
                image: "(known after deploy)",
                ports: [{ internal: 5432, external: 25432, ip: "0.0.0.0" }],
            });
            for (const policy of [imagesFromRegistry, noPlaintextSecrets]) {
                assert.deepStrictEqual(await violations(policy, { type: CONTAINER, name: "postgres", props }), []);
            }
            assert.strictEqual(
                (await violations(dataStoresOnLoopback, { type: CONTAINER, name: "postgres", props })).length,
                1,
            );
        });
    });

    describe("this program's own stacks", () => {
        const cases: Array<[string, Record<string, unknown>]> = [
            ["dev", {}],
            ["prod", {}],
            ["prod", { "bklite:runtime": "kubernetes" }],
        ];
        for (const [stack, overrides] of cases) {
            it(`pass every policy: ${stack}${overrides["bklite:runtime"] ? " on kubernetes" : ""}`, async () => {
                const run = await runProgram(stack, programConfig(stack, overrides));
                // What the analyzer sees: inputs with secrets unwrapped, protect and additionalSecretOutputs.
                const analyzed: Analyzed[] = run.recorder.resources
                    .filter((r) => r.custom)
                    .map((r) => ({
                        type: r.type,
                        name: r.name,
                        stack,
                        props: r.inputs,
                        protect: r.protect,
                        additionalSecretOutputs: r.additionalSecretOutputs,
                    }));
                for (const policy of policies.filter((p): p is ResourceValidationPolicy => "validateResource" in p)) {
                    for (const resource of analyzed) {
                        assert.deepStrictEqual(
                            await violations(policy, resource),
                            [],
                            `${policy.name} on ${resource.name}`,
                        );
                    }
                }
                assert.deepStrictEqual(await stackViolations(analyzed), []);
                // The data rule has something to check, and checks it.
                const data = analyzed.filter((r) => r.type === VOLUME || r.type.endsWith("PersistentVolumeClaim"));
                assert.ok(data.length > 0);
                assert.strictEqual(
                    (await stackViolations(analyzed.map((r) => (data.includes(r) ? { ...r, protect: false } : r))))
                        .length,
                    data.length,
                );
            });
        }
    });

    it("starts as the Pulumi CLI starts it (run-policy-pack, type-checked), serving the analyzer on a port", async function () {
        this.timeout(60000);
        // What the nodejs language host runs for `--policy-pack policy`: the SDK's run-policy-pack in the pack's
        // directory, resolved through the project's node_modules, with ts-node type-checking the pack.
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", {
            paths: [path.resolve(__dirname, "..", "..", "policy")],
        });
        const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
            cwd: path.resolve(__dirname, "..", "..", "policy"),
            stdio: ["ignore", "pipe", "pipe"],
        });
        try {
            const port = await new Promise<string>((resolve, reject) => {
                let out = "";
                let err = "";
                child.stdout.on("data", (chunk: Buffer) => {
                    out += chunk.toString();
                    const line = out.split("\n")[0];
                    if (out.includes("\n")) {
                        resolve(line.trim());
                    }
                });
                child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
                child.on("exit", (code) => reject(new Error(`the pack exited with ${code}: ${err}`)));
            });
            assert.match(port, /^\d+$/);
        } finally {
            child.kill("SIGKILL");
        }
    });
});
