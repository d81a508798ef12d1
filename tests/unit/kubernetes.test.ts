/**
 * The whole program with `bklite:runtime: kubernetes`, on the dev and prod configs, under mocks.
 */
import * as assert from "assert";
import { DEFAULT_IMAGES, servicesFor } from "../../src/services/catalog";
import { DEFAULT_INSTALL_APPS } from "../../src/config/keys";
import { resolveImageRef } from "../../src/supply/imageRefs";
import * as mocks from "../support/mocks";
import { ProgramRun, RecordedResource, containsSecret, runProgram } from "../support/mocks";
import { probeOf } from "../support/healthChecks";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../src/config/parse";
import { StackConfig } from "../../src/config/types";
import { StackClaim, stackClaims } from "../../src/runtimes/kubernetes/naming";
import { stackWorkloads } from "../../src/services/stack";
import { TRAEFIK_API_RULES } from "../../src/runtimes/kubernetes/traefik";
import { parse } from "yaml";
import { PROJECT_ROOT, programConfig } from "../support/stackFiles";

const kinds = {
    namespace: "kubernetes:core/v1:Namespace",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    deployment: "kubernetes:apps/v1:Deployment",
    service: "kubernetes:core/v1:Service",
    secret: "kubernetes:core/v1:Secret",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
    ingress: "kubernetes:networking.k8s.io/v1:Ingress",
    ingressClass: "kubernetes:networking.k8s.io/v1:IngressClass",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    roleBinding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    clusterRole: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    clusterRoleBinding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
};

function byName(run: ProgramRun, type: string, name: string): RecordedResource {
    const found = run.recorder.ofType(type).filter((r) => r.inputs.metadata?.name === name);
    assert.strictEqual(
        found.length,
        1,
        `one ${type} named ${name}: ${run.recorder.ofType(type).map((r) => r.inputs.metadata?.name)}`,
    );
    return found[0];
}

/** The kubernetes-models class of a recorded resource's type (`kubernetes:apps/v1:Deployment`), by its group and version. */
function modelOf(type: string): (new (data: unknown) => { validate(): void }) | undefined {
    const [, groupVersion, kind] = type.split(":");
    if (groupVersion === undefined || kind === undefined) {
        return undefined;
    }
    const [group, version] = groupVersion.split("/");
    const module = require(group === "core" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`);
    return module[kind];
}

/** Every Kubernetes object the run registers, checked against the upstream OpenAPI schemas (kubernetes-models). */
function schemaProblems(run: ProgramRun): string[] {
    const problems: string[] = [];
    // Patches are partial objects by design (server-side apply of a few fields), which no full schema describes.
    for (const r of run.recorder.resources.filter(
        (x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:index") && !x.type.endsWith("Patch"),
    )) {
        const Model = modelOf(r.type);
        if (Model === undefined) {
            problems.push(`${r.name}: no schema for ${r.type}`);
            continue;
        }
        const [, groupVersion, kind] = r.type.split(":");
        const apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice(5) : groupVersion;
        try {
            new Model({ ...r.inputs, apiVersion, kind }).validate();
        } catch (e) {
            problems.push(`${r.name} (${r.type}): ${(e as Error).message}`);
        }
    }
    return problems;
}

function podSpec(workload: RecordedResource): any {
    return workload.inputs.spec.template.spec;
}

function envOf(run: ProgramRun, service: string): Record<string, any> {
    const workload = run.recorder
        .ofType(kinds.deployment)
        .concat(run.recorder.ofType(kinds.statefulSet))
        .find((w) => w.inputs.metadata.name === service)!;
    return Object.fromEntries(podSpec(workload).containers[0].env.map((e: any) => [e.name, e.valueFrom ?? e.value]));
}

for (const stack of ["dev", "prod"]) {
    describe(`program on Kubernetes (${stack} stack)`, () => {
        let run: ProgramRun;
        const config = programConfig(stack, { "bklite:runtime": "kubernetes" });
        const host = config["bklite:hostAddress"];
        const pullSecrets = stack === "prod" ? [{ name: "harbor-cred" }] : [];
        const storageClass = stack === "prod" ? "local-path" : undefined;

        before(async () => {
            run = await runProgram(stack, config);
        });

        it("registers only objects that pass the Kubernetes OpenAPI schemas", () => {
            assert.ok(run.recorder.resources.filter((r) => r.type.startsWith("kubernetes:")).length > 30);
            assert.deepStrictEqual(schemaProblems(run), []);
        });

        it("creates the namespace, kept on delete (it holds the claims), unless it is made by hand with its pull secret (prod); no Docker or PostgreSQL-provider resources", () => {
            if (stack === "prod") {
                assert.deepStrictEqual(run.recorder.ofType(kinds.namespace), [], "createNamespace: false");
            } else {
                assert.deepStrictEqual(
                    run.recorder.ofType(kinds.namespace).map((n) => n.inputs.metadata.name),
                    ["bklite"],
                );
                assert.strictEqual(run.recorder.ofType(kinds.namespace)[0].retainOnDelete, true);
            }
            assert.deepStrictEqual(
                run.recorder.resources.filter((r) => r.type.startsWith("docker:") || r.type.startsWith("postgresql:")),
                [],
            );
        });

        it("runs the data stores as StatefulSets whose claims are kept, the rest as Deployments", () => {
            for (const name of ["postgres", "nats", "falkordb", "victoria-metrics", "victoria-logs"]) {
                const set = byName(run, kinds.statefulSet, name);
                assert.deepStrictEqual(set.inputs.spec.persistentVolumeClaimRetentionPolicy, {
                    whenDeleted: "Retain",
                    whenScaled: "Retain",
                });
                const claim = set.inputs.spec.volumeClaimTemplates[0];
                assert.strictEqual(claim.spec.storageClassName, storageClass);
                assert.strictEqual(claim.spec.resources.requests.storage, "10Gi");
            }
            assert.deepStrictEqual(
                run.recorder
                    .ofType(kinds.deployment)
                    .map((d) => d.inputs.metadata.name)
                    .sort(),
                ["nats-executor", "redis", "server", "telegraf", "traefik", "vector", "web"],
            );
            const redisClaim = byName(run, kinds.pvc, "redis-data");
            assert.strictEqual(redisClaim.retainOnDelete, true);
            assert.deepStrictEqual(byName(run, kinds.deployment, "redis").inputs.spec.strategy, { type: "Recreate" });
            assert.deepStrictEqual(run.outputs.dataVolumes, [
                "falkordb-data-falkordb-0",
                "nats-data-nats-0",
                "postgres-data-postgres-0",
                "redis-data",
                "victoria-logs-data-victoria-logs-0",
                "victoria-metrics-data-victoria-metrics-0",
            ]);
        });

        it("uses the same images as the Docker runtime, only if not present, with the pull secrets on every pod", () => {
            const images = run.outputs.images as Record<string, string>;
            for (const service of servicesFor(DEFAULT_INSTALL_APPS).map((s) => s.name)) {
                assert.strictEqual(
                    images[service],
                    resolveImageRef(service, DEFAULT_IMAGES[service], JSON.parse(config["bklite:images"] ?? "{}")),
                );
            }
            for (const workload of [
                ...run.recorder.ofType(kinds.deployment),
                ...run.recorder.ofType(kinds.statefulSet),
            ]) {
                const pod = podSpec(workload);
                assert.deepStrictEqual(pod.imagePullSecrets, pullSecrets, workload.name);
                for (const container of pod.containers) {
                    assert.strictEqual(container.imagePullPolicy, "IfNotPresent", workload.name);
                    assert.strictEqual(container.image, images[workload.inputs.metadata.name], workload.name);
                }
            }
        });

        it("holds every secret in Secret objects referenced from env, never as plain values", () => {
            const secretValues = run.recorder
                .ofType("random:index/randomPassword:RandomPassword")
                .map((p) => `mock${require("crypto").createHash("sha256").update(p.name).digest("hex").slice(0, 28)}`);
            secretValues.push("PRIVATE KEY");
            // Everything but Secrets' data and the seeding command's secret inputs: workloads, ConfigMaps, Services, components.
            for (const resource of run.recorder.resources.filter(
                (r) =>
                    r.type !== kinds.secret &&
                    r.type !== "command:local:Command" &&
                    !r.type.startsWith("random:") &&
                    !r.type.startsWith("tls:"),
            )) {
                const text = JSON.stringify(resource.inputs);
                for (const secret of secretValues) {
                    assert.ok(!text.includes(secret), `${resource.name} holds a secret in plain sight`);
                }
            }
            const server = envOf(run, "server");
            assert.deepStrictEqual(server.DB_PASSWORD, { secretKeyRef: { name: "server-env", key: "DB_PASSWORD" } });
            assert.deepStrictEqual(server.NATS_SERVERS, { secretKeyRef: { name: "server-env", key: "NATS_SERVERS" } });
            assert.strictEqual(server.UV_OFFLINE, "1");
            for (const secret of run.recorder.ofType(kinds.secret)) {
                assert.ok(containsSecret(secret.rawInputs.stringData), `${secret.name} data is a Pulumi secret`);
            }
            const init = byName(run, kinds.secret, "postgres-files");
            assert.ok(
                Object.values(init.inputs.stringData as Record<string, string>).some((v) =>
                    /CREATE ROLE bklite LOGIN PASSWORD 'mock[0-9a-f]{28}';\nCREATE DATABASE bklite OWNER bklite/.test(
                        v,
                    ),
                ),
            );
        });

        it("probes every service, and lets the server start for up to 15 minutes without being killed", () => {
            for (const workload of [
                ...run.recorder.ofType(kinds.deployment),
                ...run.recorder.ofType(kinds.statefulSet),
            ]) {
                const container = podSpec(workload).containers[0];
                assert.deepStrictEqual(
                    container.readinessProbe.exec.command,
                    probeOf(workload.inputs.metadata.name),
                    `${workload.name} readiness`,
                );
                assert.strictEqual(
                    container.livenessProbe,
                    undefined,
                    `${workload.name}: no liveness probe to kill a slow start`,
                );
            }
            const server = byName(run, kinds.deployment, "server");
            const startup = podSpec(server).containers[0].startupProbe;
            const budget = startup.periodSeconds * startup.failureThreshold;
            assert.ok(budget >= 600 && budget <= 15 * 60, `startup budget ${budget}s`);
            assert.deepStrictEqual(startup.exec.command, ["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:8000/"]);
            // Neither Kubernetes nor Pulumi gives up on the rollout before the probe does.
            assert.ok(server.inputs.spec.progressDeadlineSeconds > budget);
            assert.ok(
                Number(server.customTimeouts?.create?.replace(/m$/, "")) * 60 > budget,
                `create timeout ${server.customTimeouts?.create}`,
            );
        });

        it("lets redis, which drops root, read its config through the pod's group", () => {
            const pod = podSpec(byName(run, kinds.deployment, "redis"));
            assert.deepStrictEqual(pod.securityContext, { fsGroup: 999 });
            assert.strictEqual(pod.volumes[0].secret.items[0].mode, 0o640);
        });

        it("starts the server after its dependencies are ready, and never makes a workload wait on its own Service", () => {
            const server = byName(run, kinds.deployment, "server");
            for (const dep of ["bklite-k8s-postgres", "bklite-k8s-redis", "bklite-k8s-nats"]) {
                assert.ok(
                    server.dependencies.some((d) => d.endsWith(`::${dep}`)),
                    dep,
                );
            }
            // Pulumi awaits a Service until it has endpoints: a workload behind it must not wait for it.
            for (const workload of [
                ...run.recorder.ofType(kinds.deployment),
                ...run.recorder.ofType(kinds.statefulSet),
            ]) {
                const own = `::bklite-k8s-${workload.inputs.metadata.name}-service`;
                assert.ok(
                    !workload.dependencies.some((d) => d.endsWith(own)),
                    `${workload.name} does not wait for its own Service`,
                );
            }
        });

        it("owns Traefik without access to the Kubernetes API: its routes from a ConfigMap as on Docker, a Service on node port 30080", () => {
            // Its rules, listed: none. No ServiceAccount token, Role, ClusterRole, binding, IngressClass or Ingress.
            assert.deepStrictEqual(TRAEFIK_API_RULES, []);
            for (const kind of [
                kinds.role,
                kinds.roleBinding,
                kinds.clusterRole,
                kinds.clusterRoleBinding,
                kinds.serviceAccount,
                kinds.ingressClass,
                kinds.ingress,
            ]) {
                assert.deepStrictEqual(run.recorder.ofType(kind), [], kind);
            }
            const pod = podSpec(byName(run, kinds.deployment, "traefik"));
            assert.strictEqual(pod.automountServiceAccountToken, false, "no API token in the pod");
            assert.strictEqual(pod.serviceAccountName, undefined);
            const args = pod.containers[0].args as string[];
            assert.ok(args.includes("--providers.file.filename=/etc/traefik/dynamic/routes.yml"));
            assert.ok(!args.some((a) => a.includes("kubernetes")), args.join(" "));
            assert.ok(args.includes("--api.dashboard=false"));
            const routes = byName(run, "kubernetes:core/v1:ConfigMap", "traefik-routes");
            assert.deepStrictEqual(pod.volumes, [{ name: "routes", configMap: { name: "traefik-routes" } }]);
            const dockerTraefik = stackWorkloads(parsedConfig(config)).find((w) => w.name === "traefik")!;
            assert.strictEqual(
                routes.inputs.data["routes.yml"],
                String(dockerTraefik.files[0].content),
                "the routes Docker's Traefik serves, from one renderer",
            );
            assert.deepStrictEqual(Object.keys(parse(routes.inputs.data["routes.yml"]).http.routers).sort(), [
                "server",
                "web",
            ]);
            const service = byName(run, kinds.service, "traefik");
            assert.strictEqual(service.inputs.spec.type, "NodePort");
            // prod names the edge node at hostAddress: Traefik and NATS run there and keep clients' addresses.
            const edge = stack === "prod" ? { "kubernetes.io/hostname": "bklite-node-1" } : undefined;
            for (const [workload, exposed] of [
                ["traefik", "traefik"],
                ["nats", "nats-external"],
            ]) {
                assert.strictEqual(
                    byName(run, kinds.service, exposed).inputs.spec.externalTrafficPolicy,
                    stack === "prod" ? "Local" : "Cluster",
                    exposed,
                );
                const workloadPod = podSpec(
                    run.recorder
                        .ofType(kinds.deployment)
                        .concat(run.recorder.ofType(kinds.statefulSet))
                        .find((w) => w.inputs.metadata.name === workload)!,
                );
                assert.deepStrictEqual(workloadPod.nodeSelector, edge, workload);
            }
            assert.deepStrictEqual(service.inputs.spec.ports, [
                { name: "web", port: 80, targetPort: "web", nodePort: 30080 },
            ]);
        });

        it("exposes NATS to agents on its node port, and keeps PostgreSQL and Redis inside", () => {
            const nats = byName(run, kinds.service, "nats-external");
            assert.deepStrictEqual(nats.inputs.spec.ports, [
                { name: "nats", port: 4222, targetPort: "nats", protocol: "TCP", nodePort: 30422 },
            ]);
            const external = run.recorder
                .ofType(kinds.service)
                .filter((s) => s.inputs.spec.type === "NodePort" || s.inputs.spec.type === "LoadBalancer")
                .map((s) => s.inputs.metadata.name)
                .sort();
            assert.deepStrictEqual(external, ["nats-external", "traefik"]);
        });

        it("derives every region's NODE_SERVER_URL and NATS_SERVERS from the node ports agents use", () => {
            const server = envOf(run, "server");
            assert.strictEqual(server.DEFAULT_ZONE_VAR_NODE_SERVER_URL, `http://${host}:30080`);
            assert.strictEqual(server.DEFAULT_ZONE_VAR_NATS_SERVERS, `${host}:30422`);
            assert.strictEqual(run.outputs.consoleUrl, `http://${host}:30080`);
            assert.strictEqual(run.outputs.natsEndpoint, `tls://${host}:30422`);
            const spec = JSON.parse(run.recorder.named("bklite-seed-apply").inputs.stdin);
            for (const region of spec.regions) {
                assert.strictEqual(region.env.NODE_SERVER_URL, `http://${host}:30080`, region.name);
                assert.strictEqual(region.env.NATS_SERVERS, `${host}:30422`, region.name);
            }
        });

        it("seeds through port-forwards to the cluster's Services", () => {
            const apply = run.recorder.named("bklite-seed-apply");
            assert.strictEqual(apply.inputs.create, "node bin/bklite seed apply --spec - --kube-namespace bklite");
            assert.match(
                apply.inputs.environment.BKLITE_PG_URL,
                /^postgres:\/\/bklite:mock[0-9a-f]{28}@postgres:5432\/bklite$/,
            );
            assert.strictEqual(apply.inputs.environment.BKLITE_NATS_URL, "tls://nats:4222");
            assert.ok(apply.dependencies.some((d) => d.endsWith("::bklite-k8s-server")));
        });

        it("backs up before an upgrade: every workload waits for the backup, which reaches the cluster as the stack says", () => {
            const backup = run.recorder.named("bklite-backup-run");
            assert.strictEqual(
                backup.inputs.create,
                `node bin/bklite backup --stack ${stack} --stack-config - --dir backups --keep 5 --if-deployed`,
            );
            const workloads = [
                ...run.recorder.ofType("kubernetes:apps/v1:StatefulSet"),
                ...run.recorder.ofType("kubernetes:apps/v1:Deployment"),
            ].filter((w) => w.name.startsWith("bklite-k8s-"));
            assert.ok(workloads.length >= 7);
            for (const w of workloads) {
                assert.ok(
                    w.dependencies.some((d) => d.endsWith("::bklite-backup-run")),
                    `${w.name} waits for the backup`,
                );
            }
        });

        it("never runs two servers or executors at once, and holds every pod until what it depends on accepts connections", () => {
            const postgresImage = resolveImageRef(
                "postgres",
                DEFAULT_IMAGES.postgres,
                stack === "prod" ? { registry: "aiharbor.msxf.local/aihpc", tag: "v0.3.5" } : {},
            );
            for (const name of ["server", "nats-executor"]) {
                assert.deepStrictEqual(
                    byName(run, kinds.deployment, name).inputs.spec.strategy,
                    { type: "Recreate" },
                    name,
                );
            }
            assert.strictEqual(byName(run, kinds.deployment, "web").inputs.spec.strategy, undefined, "web may roll");
            const waits = (name: string) => {
                const init = podSpec(byName(run, kinds.deployment, name)).initContainers;
                assert.strictEqual(init.length, 1, name);
                assert.strictEqual(init[0].image, postgresImage, "bash from an image the stack has anyway");
                return [...String(init[0].command[2]).matchAll(/\/dev\/tcp\/([a-z-]+)\/(\d+)/g)].map(
                    (m) => `${m[1]}:${m[2]}`,
                );
            };
            assert.deepStrictEqual(waits("server"), ["postgres:5432", "redis:6379", "nats:4222", "falkordb:6379"]);
            assert.deepStrictEqual(waits("web"), ["server:8000"]);
            assert.deepStrictEqual(waits("nats-executor"), ["nats:4222"]);
            assert.strictEqual(
                podSpec(byName(run, kinds.statefulSet, "postgres")).initContainers,
                undefined,
                "nothing to wait for",
            );
        });

        it("verifies through port-forwards too, reaching each service by its Service, again when a pod template changes", () => {
            const verify = run.recorder.named("bklite-verify-run");
            assert.strictEqual(
                verify.inputs.create,
                "node bin/bklite verify --spec - --retry-seconds 90 --kube-namespace bklite",
            );
            const spec = JSON.parse(verify.inputs.stdin);
            assert.strictEqual(spec.runtime, "kubernetes");
            assert.deepStrictEqual(spec.services.find((s: { service: string }) => s.service === "falkordb").address, {
                kubeService: "falkordb",
            });
            assert.match(verify.inputs.environment.BKLITE_PG_URL, /@postgres:5432\/bklite$/);
            assert.match(verify.inputs.triggers[2], /^[0-9a-f]{64}$/, "the pod templates' digest");
        });

        it("verifies only once every workload, Service, Ingress and NetworkPolicy it checks is there and ready", () => {
            const verify = run.recorder.named("bklite-verify-run");
            const waitedFor = new Set(verify.dependencies);
            const checked = [
                kinds.deployment,
                kinds.statefulSet,
                kinds.service,
                kinds.ingress,
                kinds.networkPolicy,
            ].flatMap((kind) => run.recorder.ofType(kind));
            assert.ok(checked.length > 10);
            const missing = checked.filter((r) => !waitedFor.has(r.urn)).map((r) => `${r.type} ${r.name}`);
            assert.deepStrictEqual(missing, [], "verification waits on each");
        });
    });
}

describe("program on Kubernetes pulling from a registry with credentials in config", () => {
    it("makes the namespace's pull secret from them, secret, before any pod that names it", async () => {
        const password = "registry-robot-token-0123456789";
        const run = await runProgram(
            "dev",
            {
                ...programConfig("dev", {
                    "bklite:runtime": "kubernetes",
                    "bklite:kubernetes": { registryAuth: { server: "harbor.local", username: "robot$bklite" } },
                }),
                "bklite:registryPassword": password,
            },
            { secretKeys: ["bklite:registryPassword"] },
        );
        const secret = byName(run, kinds.secret, "bklite-registry");
        assert.strictEqual(secret.inputs.type, "kubernetes.io/dockerconfigjson");
        assert.ok(containsSecret(secret.rawInputs.stringData), "the credentials are a Pulumi secret");
        const config = JSON.parse(secret.inputs.stringData[".dockerconfigjson"]);
        assert.deepStrictEqual(config.auths["harbor.local"], {
            username: "robot$bklite",
            password,
            auth: Buffer.from(`robot$bklite:${password}`).toString("base64"),
        });
        for (const workload of [...run.recorder.ofType(kinds.deployment), ...run.recorder.ofType(kinds.statefulSet)]) {
            assert.deepStrictEqual(podSpec(workload).imagePullSecrets, [{ name: "bklite-registry" }], workload.name);
            if (workload.name.startsWith("bklite-k8s-")) {
                assert.ok(
                    workload.dependencies.some((d) => d.endsWith("::bklite-k8s-registry")),
                    `${workload.name} waits for the pull secret`,
                );
            }
        }
        for (const component of run.recorder.resources.filter((r) => !r.custom)) {
            assert.ok(
                !JSON.stringify(component.rawInputs).includes(password),
                `${component.name}: no password in component inputs`,
            );
        }
        assert.deepStrictEqual(schemaProblems(run), []);
    });
});

describe("program on Kubernetes behind a LoadBalancer", () => {
    it("gives Traefik a LoadBalancer and derives agent URLs from its ports", async () => {
        const run = await runProgram(
            "prod",
            programConfig("prod", {
                "bklite:runtime": "kubernetes",
                "bklite:kubernetes": {
                    serviceType: "LoadBalancer",
                    natsAddress: "192.168.31.22",
                    context: "site-a",
                    createNamespace: false,
                },
            }),
        );
        assert.deepStrictEqual(run.recorder.ofType(kinds.namespace), [], "an existing namespace is used as it is");
        assert.ok(run.recorder.ofType(kinds.deployment).every((d) => d.inputs.metadata.namespace === "bklite"));
        assert.deepStrictEqual(run.recorder.ofType(kinds.ingressClass), [], "the stack's own Traefik needs no class");
        const traefik = run.recorder.ofType(kinds.service).find((s) => s.inputs.metadata.name === "traefik")!;
        assert.strictEqual(traefik.inputs.spec.type, "LoadBalancer");
        assert.strictEqual(traefik.inputs.spec.ports[0].nodePort, undefined);
        assert.strictEqual(
            traefik.inputs.spec.externalTrafficPolicy,
            "Local",
            "a load balancer keeps clients' addresses",
        );
        assert.strictEqual(run.outputs.consoleUrl, "http://192.168.31.10:80");
        assert.strictEqual(run.outputs.natsEndpoint, "tls://192.168.31.22:4222", "NATS's own load balancer");
        assert.strictEqual(run.recorder.named("bklite-k8s-provider").type, "pulumi:providers:kubernetes");
        assert.strictEqual(run.recorder.named("bklite-k8s-provider").inputs.context, "site-a");
        for (const r of run.recorder.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
            assert.ok(r.provider.includes("bklite-k8s-provider"), `${r.name} uses the stack's provider`);
        }
        assert.match(
            run.recorder.named("bklite-seed-apply").inputs.create,
            /--kube-namespace bklite --kube-context site-a$/,
        );
        assert.deepStrictEqual(schemaProblems(run), []);
    });
});

/**
 * Runs the program with the fake kubectl answering for a cluster holding `objects` (null: no cluster answers),
 * with `extra` fake-kubectl settings (FAKE_KUBECTL_FORBIDDEN, FAKE_KUBECTL_LOG).
 */
async function withCluster<T>(
    objects: Record<string, unknown[]> | null,
    fn: () => Promise<T>,
    extra: Record<string, string> = {},
): Promise<T> {
    const restore = mocks.setEnv({
        BKLITE_KUBECTL: require("path").join(__dirname, "..", "support", "bin", "kubectl"),
        FAKE_KUBECTL_UNREACHABLE: objects === null ? "1" : undefined,
        FAKE_KUBECTL_OBJECTS: objects === null ? undefined : JSON.stringify(objects),
        ...extra,
    });
    try {
        return await fn();
    } finally {
        restore();
    }
}

/** What stock k3s has: its Traefik's class, and local-path (no expansion) as the default StorageClass. */
const K3S = {
    ingressclasses: [
        {
            metadata: { name: "traefik", labels: { "app.kubernetes.io/name": "traefik" } },
            spec: { controller: "traefik.io/ingress-controller" },
        },
    ],
    storageclasses: [
        {
            metadata: { name: "local-path", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
            allowVolumeExpansion: false,
        },
    ],
    persistentvolumeclaims: [] as unknown[],
};

async function programError(config: Record<string, string>): Promise<Error> {
    try {
        await runProgram("dev", config);
    } catch (err) {
        return err as Error;
    }
    throw new Error("the program did not fail");
}

describe("program on stock k3s (its own Traefik and IngressClass), and the cluster preflight", () => {
    const k8s = (kubernetes: Record<string, unknown> = {}) =>
        programConfig("dev", { "bklite:runtime": "kubernetes", "bklite:kubernetes": kubernetes });

    it("runs its own Traefik beside k3s's: nothing for k3s's Traefik to serve, and IngressClasses not even read", async () => {
        const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bklite-k3s-")), "kubectl.log");
        const run = await withCluster(K3S, () => runProgram("dev", k8s()), { FAKE_KUBECTL_LOG: log });
        assert.deepStrictEqual(run.recorder.ofType(kinds.ingressClass), []);
        assert.deepStrictEqual(run.recorder.ofType(kinds.ingress), []);
        assert.ok(run.recorder.ofType(kinds.deployment).some((d) => d.inputs.metadata.name === "traefik"));
        assert.doesNotMatch(fs.readFileSync(log, "utf8"), /ingressclasses/);
        fs.rmSync(path.dirname(log), { recursive: true, force: true });
    });

    it("with kubernetes.ingress cluster, creates only the Ingresses for the cluster's Traefik, on port 80, let through by the NetworkPolicies", async () => {
        const run = await withCluster(K3S, () => runProgram("dev", k8s({ ingress: "cluster" })));
        for (const kind of [
            kinds.ingressClass,
            kinds.clusterRole,
            kinds.clusterRoleBinding,
            kinds.role,
            kinds.serviceAccount,
        ]) {
            assert.deepStrictEqual(run.recorder.ofType(kind), [], kind);
        }
        assert.ok(!run.recorder.ofType(kinds.deployment).some((d) => d.inputs.metadata.name === "traefik"));
        const ingresses = run.recorder.ofType(kinds.ingress);
        assert.deepStrictEqual(ingresses.map((i) => i.inputs.metadata.name).sort(), ["server", "web"]);
        for (const ingress of ingresses) {
            assert.strictEqual(ingress.inputs.spec.ingressClassName, "traefik");
            assert.strictEqual(
                ingress.inputs.metadata.annotations["traefik.ingress.kubernetes.io/router.entrypoints"],
                "web",
            );
        }
        assert.strictEqual(run.outputs.consoleUrl, `http://${programConfig("dev")["bklite:hostAddress"]}:80`);
        const web = run.recorder
            .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .find((p) => p.inputs.metadata.name === "allow-web")!;
        assert.deepStrictEqual(web.inputs.spec.ingress[0].from, [
            {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
            },
        ]);
        assert.deepStrictEqual(schemaProblems(run), []);
        const missing = await withCluster({ ...K3S, ingressclasses: [] }, () =>
            programError(k8s({ ingress: "cluster" })),
        );
        assert.match(missing.message, /the cluster's Traefik must serve an IngressClass 'traefik', but there is none/);
    });

    it("refuses a claim's class change or a shrink, and growth its StorageClass does not allow, with the migration path; lets a claim grow where it may", async () => {
        const claim = (name: string, storageClass: string, storage: string) => ({
            metadata: { name },
            spec: { storageClassName: storageClass, resources: { requests: { storage } } },
        });
        const cluster = (claims: unknown[], expandable = false) => ({
            ingressclasses: [],
            storageclasses: [
                {
                    metadata: {
                        name: "local-path",
                        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
                    },
                    allowVolumeExpansion: false,
                },
                { metadata: { name: "ceph" }, allowVolumeExpansion: expandable },
            ],
            persistentvolumeclaims: claims,
        });
        const moved = await withCluster(cluster([claim("postgres-data-postgres-0", "local-path", "10Gi")]), () =>
            programError(k8s({ storageClass: "ceph" })),
        );
        assert.match(
            moved.message,
            /claim postgres-data-postgres-0 holds data on StorageClass 'local-path', and a claim's class cannot change/,
        );
        assert.match(
            moved.message,
            /`bklite backup`, delete the StatefulSet postgres and claim postgres-data-postgres-0 \(kubectl delete\), `pulumi up` to make new ones, then `bklite restore`/,
        );
        const shrunk = await withCluster(cluster([claim("nats-data-nats-0", "local-path", "20Gi")]), () =>
            programError(k8s({})),
        );
        assert.match(shrunk.message, /10Gi is smaller than claim nats-data-nats-0 \(20Gi\), and claims cannot shrink/);
        const fixed = await withCluster(cluster([claim("postgres-data-postgres-0", "local-path", "10Gi")]), () =>
            programError(k8s({ volumeSize: "20Gi" })),
        );
        assert.match(
            fixed.message,
            /cannot grow to 20Gi: its StorageClass 'local-path' does not allow volume expansion/,
        );
        const run = await withCluster(cluster([claim("postgres-data-postgres-0", "ceph", "10Gi")], true), () =>
            runProgram("dev", k8s({ storageClass: "ceph", volumeSize: "20Gi" })),
        );
        const patch = run.recorder.named("bklite-k8s-postgres-data-postgres-0-size");
        assert.strictEqual(patch.type, "kubernetes:core/v1:PersistentVolumeClaimPatch");
        assert.deepStrictEqual(
            [patch.inputs.metadata.name, patch.inputs.spec.resources.requests.storage],
            ["postgres-data-postgres-0", "20Gi"],
        );
        assert.ok(
            patch.dependencies.some((d) => d.endsWith("::bklite-k8s-postgres")),
            "after the StatefulSet made the claim",
        );
    });

    it("checks a Deployment's own claim as a StatefulSet's: another class or a smaller size is refused", async () => {
        const redisClaim = stackClaimsOf(k8s()).find((c) => c.workload === "Deployment");
        assert.ok(redisClaim, "the stack has a Deployment with a claim of its own");
        const cluster = {
            ingressclasses: [],
            storageclasses: [{ metadata: { name: "local-path" }, allowVolumeExpansion: false }],
            persistentvolumeclaims: [
                {
                    metadata: { name: redisClaim.name },
                    spec: { storageClassName: "local-path", resources: { requests: { storage: "20Gi" } } },
                },
            ],
        };
        const error = await withCluster(cluster, () => programError(k8s({ storageClass: "ceph" })));
        assert.match(
            error.message,
            new RegExp(
                `claim ${redisClaim.name} holds data on StorageClass 'local-path', and a claim's class cannot change \\(the claim would have to be replaced\\)`,
            ),
        );
        assert.match(
            error.message,
            new RegExp(`delete the Deployment ${redisClaim.service} and claim ${redisClaim.name}`),
        );
        const shrunk = await withCluster(cluster, () => programError(k8s({ storageClass: "local-path" })));
        assert.match(shrunk.message, new RegExp(`10Gi is smaller than claim ${redisClaim.name} \\(20Gi\\)`));
    });

    it("fails closed: stops where no cluster answers or a permission is missing, naming it, the fix and the key that skips", async () => {
        const unreachable = await withCluster(null, () => programError(k8s()));
        assert.match(
            unreachable.message,
            /the cluster could not be checked before deploying; nothing was deployed: The connection to the server 127\.0\.0\.1:6443 was refused.*check that the cluster in \$KUBECONFIG or ~\/\.kube\/config answers from this host, or set bklite:kubernetes\.preflight to skip/,
        );
        assert.deepStrictEqual(mocks.lastRecorder?.resources, [], "nothing registered");
        for (const [kind, where] of [
            ["persistentvolumeclaims", "in namespace bklite \\(a Role\\)"],
            ["storageclasses", "cluster-wide \\(a ClusterRole\\)"],
        ]) {
            const forbidden = await withCluster(K3S_WITHOUT_TRAEFIK, () => programError(k8s()), {
                FAKE_KUBECTL_FORBIDDEN: kind,
            });
            assert.match(forbidden.message, new RegExp(`User "deployer" may not list ${kind}`));
            assert.match(forbidden.message, new RegExp(`grant that identity list on ${kind}\\S* ${where}`));
            assert.match(forbidden.message, /or set bklite:kubernetes\.preflight to skip/);
        }
        const { result: run, warnings } = await mocks.capturingWarnings(() =>
            withCluster(null, () => runProgram("dev", k8s({ preflight: "skip" }))),
        );
        assert.ok(run.recorder.ofType(kinds.deployment).length > 0);
        assert.ok(
            warnings.some((w) => /bklite:kubernetes\.preflight is skip: the cluster was not checked/.test(w)),
            warnings.join("\n"),
        );
    });

    it("reads the cluster through the kubeconfig the provider uses", async () => {
        const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bklite-kubeconfig-")), "kubectl.log");
        const run = await withCluster(
            K3S_WITHOUT_TRAEFIK,
            () => runProgram("dev", k8s({ kubeconfig: "site/kubeconfig.yaml", context: "site-a" })),
            { FAKE_KUBECTL_LOG: log },
        );
        const wanted = path.join(PROJECT_ROOT, "site", "kubeconfig.yaml");
        assert.strictEqual(run.recorder.named("bklite-k8s-provider").inputs.kubeconfig, wanted);
        const calls = fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((line) => (JSON.parse(line) as { args: string[] }).args);
        assert.deepStrictEqual(
            calls.map((args) => args.slice(0, 6)),
            [
                ["--kubeconfig", wanted, "--context", "site-a", "get", "persistentvolumeclaims"],
                ["--kubeconfig", wanted, "--context", "site-a", "get", "storageclasses"],
            ],
        );
        assert.match(
            run.recorder.named("bklite-seed-apply").inputs.create,
            /--kube-namespace bklite --kube-context site-a --kubeconfig site\/kubeconfig\.yaml$/,
        );
        fs.rmSync(path.dirname(log), { recursive: true, force: true });
    });

    it("refuses a kubeconfig's contents in place of its path, and an unknown preflight mode", async () => {
        const error = await programError(k8s({ kubeconfig: "apiVersion: v1\nclusters: []", preflight: "maybe" }));
        assert.match(error.message, /bklite:kubernetes\.kubeconfig: must be the path of a kubeconfig file/);
        assert.doesNotMatch(error.message, /apiVersion/, "a kubeconfig's contents are not quoted back");
        assert.match(error.message, /bklite:kubernetes\.preflight = "maybe": must be check .* or skip/);
    });
});

/** A cluster with a default StorageClass and no Traefik of its own. */
const K3S_WITHOUT_TRAEFIK = { ...K3S_LIKE_STORAGE(), ingressclasses: [] };

function K3S_LIKE_STORAGE() {
    return { storageclasses: K3S.storageclasses, persistentvolumeclaims: [] as unknown[] };
}

/** A valid config, parsed as the program parses it. */
function parsedConfig(config: Record<string, string>): StackConfig {
    const parsed = parseStackConfig(mocks.configSource(config));
    assert.ok(parsed.config, JSON.stringify(parsed.problems));
    return parsed.config;
}

/** The claims a config's stack owns, as the program names them. */
function stackClaimsOf(config: Record<string, string>): StackClaim[] {
    return stackClaims(stackWorkloads(parsedConfig(config)));
}

describe("program on Kubernetes: settings it does not use", () => {
    it("warns only of what the stack file sets, not of Pulumi.yaml's defaults Pulumi hands over as set", async () => {
        const minimal = (ports: Record<string, string>) => ({
            "bklite:hostAddress": "192.168.31.10",
            "bklite:runtime": "kubernetes",
            ...ports,
        });
        const defaults = { "bklite:httpPort": "8080", "bklite:natsPort": "24222", "bklite:postgresPort": "25432" };
        const quiet = await mocks.capturingWarnings(() => runProgram("dev", minimal(defaults)));
        assert.deepStrictEqual(
            quiet.warnings.filter((w) => /is set, but/.test(w)),
            [],
        );
        const chosen = await mocks.capturingWarnings(() =>
            runProgram("dev", minimal({ ...defaults, "bklite:httpPort": "9090" })),
        );
        assert.ok(
            chosen.warnings.some((w) => /bklite:httpPort is set, but on a cluster/.test(w)) &&
                !chosen.warnings.some((w) => /bklite:natsPort is set/.test(w)),
            chosen.warnings.join("\n"),
        );
    });
});

describe("program on Kubernetes: LoadBalancer endpoints", () => {
    it("tells agents the NATS load balancer's own address, bounds the wait for addresses, and refuses a missing one", async () => {
        const run = await runProgram(
            "dev",
            programConfig("dev", {
                "bklite:runtime": "kubernetes",
                "bklite:kubernetes": { serviceType: "LoadBalancer", natsAddress: "192.168.31.21" },
            }),
        );
        assert.strictEqual(run.outputs.natsEndpoint, "tls://192.168.31.21:4222");
        const spec = JSON.parse(run.recorder.named("bklite-seed-apply").inputs.stdin);
        assert.strictEqual(spec.regions[0].env.NATS_SERVERS, "192.168.31.21:4222");
        for (const name of ["traefik", "nats-external"]) {
            const service = run.recorder.ofType(kinds.service).find((s) => s.inputs.metadata.name === name)!;
            assert.deepStrictEqual(
                [service.customTimeouts?.create, service.customTimeouts?.update],
                ["5m", "5m"],
                name,
            );
        }
        const error = await programError(
            programConfig("dev", {
                "bklite:runtime": "kubernetes",
                "bklite:kubernetes": { serviceType: "LoadBalancer" },
            }),
        );
        assert.match(
            error.message,
            /bklite:kubernetes\.natsAddress: is missing: behind load balancers Traefik and NATS each get an address/,
        );
    });
});
