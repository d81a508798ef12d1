import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { claimName, runsAsStatefulSet, workloadLabels } from "./naming";
import { stableJson } from "../../util/json";
import { visibleDigest } from "../../util/visibleDigest";
import { KEEP_DATA } from "../keepData";
import { Workload, healthGiveUpSeconds } from "../../services/workload";
import { TextValue, refsOf, renderText } from "../../services/template";
import { bindText } from "../bind";
import { startOrder } from "../startOrder";
import { edgeNodeSelector, externalTrafficPolicy, loadBalancerSourceRanges, loadBalancerTimeouts } from "./exposure";
import { mode, probes, waitFor } from "./podParts";

export interface KubernetesRuntimeArgs {
    namespace: string;
    /** Create the namespace (default), or use one that exists already (e.g. holding a pull secret made by hand). */
    createNamespace?: boolean;
    services: Workload[];
    /**
     * An image with bash (the stack's PostgreSQL image) for the init container that holds a pod until the services
     * it depends on accept connections: Kubernetes has no start order, and a pod restarted after a node reboot must
     * wait as much as one started by `pulumi up`.
     */
    waitImage: string;
    storageClass?: string;
    /** Size of each data volume claim. */
    volumeSize: string;
    imagePullSecrets: string[];
    /**
     * How published ports (other than loopback-only ones) are exposed outside the cluster; `sourceRanges` by port
     * name become a LoadBalancer's loadBalancerSourceRanges.
     */
    exposure: {
        type: "NodePort" | "LoadBalancer";
        nodePorts: Record<string, number>;
        sourceRanges?: Record<string, string[]>;
        /** The node whose address clients use (NodePort): exposed services run there, and keep clients' addresses. */
        edgeNode?: string;
    };
    /** Resource requests per service. */
    resources: Record<string, { cpu?: string; memory?: string }>;
}

/** Kept out of the component's inputs: component args are stored in state, and these are secrets and wiring. */
export interface KubernetesRuntimeBindings {
    values: Readonly<Record<string, pulumi.Input<string>>>;
    /** A secret that keys the pods' config hash (see visibleDigest). */
    hashKey: pulumi.Input<string>;
    /** Resources that finish a service's start, made once its workload is ready; dependents wait for them. */
    afterStart?: Readonly<Record<string, (workload: pulumi.Resource) => pulumi.Resource[]>>;
    /** What every workload waits for (the backup before an upgrade): no pod template changes before it is done. */
    before?: pulumi.Resource[];
    /** A registry's credentials: made into the namespace's pull secret REGISTRY_PULL_SECRET, which every pod names. */
    registry?: { server: string; username: string; password: pulumi.Input<string> };
}

/** The pull secret the runtime makes from the registry's credentials. */
export const REGISTRY_PULL_SECRET = "bklite-registry";

/** A `kubernetes.io/dockerconfigjson` document for one registry. */
export function dockerConfigJson(server: string, username: string, password: string): string {
    return JSON.stringify({
        auths: { [server]: { username, password, auth: Buffer.from(`${username}:${password}`).toString("base64") } },
    });
}

/** What every part of one component's workloads is made with. */
interface Scope {
    name: string;
    parent: pulumi.ComponentResource;
    args: KubernetesRuntimeArgs;
    bindings: KubernetesRuntimeBindings;
    namespace: pulumi.Input<string>;
    /** The pull secrets every pod names. */
    pullSecrets: Array<{ name: string }>;
}

/** A value with its references filled in; secret whenever it refers to any (it goes into a Secret). */
function bound(scope: Scope, value: TextValue): pulumi.Input<string> {
    const filled = bindText(value, scope.bindings.values);
    return typeof filled === "string" ? filled : pulumi.secret(filled);
}

/**
 * Runs workloads as Kubernetes Deployments and StatefulSets in one namespace: StatefulSets (claims kept when they are
 * deleted) for stateful services, Deployments for the rest, a Service per service, Secrets for every value that holds
 * one (referenced from env, never plain), images only if not present, and the same start order as the Docker
 * runtime. Knows nothing about what the services are.
 */
export class KubernetesRuntime extends pulumi.ComponentResource {
    /** Workloads by service name. */
    public readonly workloads: Readonly<Record<string, pulumi.Resource>>;
    /** The namespace. */
    public readonly namespace: pulumi.Output<string>;
    /** A digest of every pod template (config hashes included): it changes exactly when a workload rolls out again. */
    public readonly templatesDigest: pulumi.Output<string>;

    constructor(
        name: string,
        args: KubernetesRuntimeArgs,
        bindings: KubernetesRuntimeBindings,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        const services = args.services.map((s) => s.name);
        super("bklite:index:KubernetesRuntime", name, { namespace: args.namespace, services }, opts);
        // Kept on delete: deleting a namespace deletes the claims in it, and with them the data.
        const namespace =
            args.createNamespace === false
                ? pulumi.output(args.namespace)
                : new k8s.core.v1.Namespace(
                      `${name}-namespace`,
                      { metadata: { name: args.namespace } },
                      { parent: this, ...KEEP_DATA },
                  ).metadata.name;
        const scope: Scope = { name, parent: this, args, bindings, namespace, pullSecrets: [] };
        const pullSecret = registryPullSecret(scope);
        scope.pullSecrets = [...args.imagePullSecrets, ...(pullSecret ? [REGISTRY_PULL_SECRET] : [])].map((n) => ({
            name: n,
        }));
        const workloads: Record<string, pulumi.Resource> = {};
        const ready: Record<string, pulumi.Resource[]> = {};
        const templates: Record<string, unknown> = {};
        for (const spec of startOrder(args.services)) {
            const before = [
                ...(bindings.before ?? []),
                ...(pullSecret ? [pullSecret] : []),
                ...spec.dependsOn.flatMap((d) => ready[d]),
            ];
            const made = serviceWorkload(scope, spec, before);
            templates[spec.name] = made.template;
            workloads[spec.name] = made.workload;
            const started = bindings.afterStart?.[spec.name]?.(made.workload) ?? [];
            ready[spec.name] = [made.workload, ...(made.service ? [made.service] : []), ...started];
        }
        this.workloads = workloads;
        this.namespace = namespace;
        this.templatesDigest = pulumi.unsecret(
            pulumi.output(templates).apply((t) => crypto.createHash("sha256").update(stableJson(t)).digest("hex")),
        );
        this.registerOutputs({ namespace: this.namespace });
    }
}

/** The namespace's pull secret from the registry's credentials, when given. */
function registryPullSecret({ name, parent, namespace, bindings }: Scope): k8s.core.v1.Secret | undefined {
    const registry = bindings.registry;
    if (registry === undefined) {
        return undefined;
    }
    const document = pulumi
        .output(registry.password)
        .apply((p) => dockerConfigJson(registry.server, registry.username, p));
    return new k8s.core.v1.Secret(
        `${name}-registry`,
        {
            metadata: { name: REGISTRY_PULL_SECRET, namespace, labels: { "app.kubernetes.io/part-of": "bklite" } },
            type: "kubernetes.io/dockerconfigjson",
            stringData: { ".dockerconfigjson": pulumi.secret(document) },
        },
        { parent },
    );
}

/** One service: its config (env and files), its data, its pod template, its Services and its workload. */
function serviceWorkload(scope: Scope, spec: Workload, before: pulumi.Resource[]) {
    const config = configOf(scope, spec);
    const claims = dataOf(scope, spec, config);
    const template = podTemplate(scope, spec, config);
    const service = servicesOf(scope, spec);
    // Not the Service: Pulumi awaits a Service until it has endpoints, which only this workload provides.
    const after = [...before, ...claims, ...config.sources];
    const workload = runsAsStatefulSet(spec)
        ? statefulSet(scope, spec, template, after)
        : deployment(scope, spec, template, after);
    return { template, workload, service };
}

/** What a service's config becomes: env (secret values from a Secret) and files (a Secret or ConfigMap by subPath). */
interface PodConfig {
    env: k8s.types.input.core.v1.EnvVar[];
    volumes: k8s.types.input.core.v1.Volume[];
    volumeMounts: k8s.types.input.core.v1.VolumeMount[];
    /** The Secrets and ConfigMaps the pod reads: the workload waits for them. */
    sources: pulumi.Resource[];
    /** Of everything bound into them: a change restarts the pods (subPath mounts never refresh). */
    hash: pulumi.Output<string>;
    /** The group files owned for a process that drops root are readable by (the pod's fsGroup). */
    fsGroup?: number;
}

function configOf(scope: Scope, spec: Workload): PodConfig {
    const { name, parent, namespace } = scope;
    const labels = workloadLabels(spec.name);
    // Env: plain values inline; anything holding a secret or generated value from a Secret.
    const secretEnv = Object.entries(spec.env).filter(([, v]) => refsOf(v).length > 0);
    const envSecret =
        secretEnv.length === 0
            ? undefined
            : new k8s.core.v1.Secret(
                  `${name}-${spec.name}-env`,
                  {
                      metadata: { name: `${spec.name}-env`, namespace, labels },
                      stringData: Object.fromEntries(secretEnv.map(([k, v]) => [k, bound(scope, v)])),
                  },
                  { parent },
              );
    const env = Object.keys(spec.env)
        .sort()
        .map((key) =>
            refsOf(spec.env[key]).length > 0
                ? { name: key, valueFrom: { secretKeyRef: { name: `${spec.name}-env`, key } } }
                : { name: key, value: renderText(spec.env[key], {}) },
        );
    const files = filesOf(scope, spec);
    // Visible: a secret annotation would make the whole pod spec secret, hidden from previews, plans and audits.
    const hash = visibleDigest(scope.bindings.hashKey, [
        ...secretEnv.map(([, v]) => bound(scope, v)),
        ...spec.files.map((f) => bound(scope, f.content)),
    ]);
    const owned = spec.files.find((f) => f.owner !== undefined)?.owner;
    return {
        env,
        volumes: files.volumes,
        volumeMounts: files.volumeMounts,
        sources: [...(envSecret ? [envSecret] : []), ...(files.source ? [files.source] : [])],
        hash,
        ...(owned ? { fsGroup: owned.gid } : {}),
    };
}

/** One Secret (any file with a value in it) or ConfigMap per service, each file mounted by subPath. */
function filesOf(scope: Scope, spec: Workload) {
    const { name, parent, namespace } = scope;
    const labels = workloadLabels(spec.name);
    const secretFiles = spec.files.some((f) => refsOf(f.content).length > 0);
    const data = Object.fromEntries(spec.files.map((f, i) => [`file-${i}`, bound(scope, f.content)]));
    const metadata = { name: `${spec.name}-files`, namespace, labels };
    const source =
        spec.files.length === 0
            ? undefined
            : secretFiles
              ? new k8s.core.v1.Secret(`${name}-${spec.name}-files`, { metadata, stringData: data }, { parent })
              : new k8s.core.v1.ConfigMap(
                    `${name}-${spec.name}-files`,
                    { metadata, data: data as Record<string, string> },
                    { parent },
                );
    // Files for a process that drops root (WorkloadFile.owner): readable through the pod's fsGroup instead.
    const items = spec.files.map((f, i) => ({
        key: `file-${i}`,
        path: `file-${i}`,
        mode: f.owner ? (mode(f.mode) ?? 0o600) | 0o040 : mode(f.mode),
    }));
    const volumes: k8s.types.input.core.v1.Volume[] = !source
        ? []
        : secretFiles
          ? [{ name: "files", secret: { secretName: `${spec.name}-files`, items } }]
          : [{ name: "files", configMap: { name: `${spec.name}-files`, items } }];
    const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = spec.files.map((f, i) => ({
        name: "files",
        mountPath: f.path,
        subPath: `file-${i}`,
        readOnly: true,
    }));
    return { source, volumes, volumeMounts };
}

/** Data: every volume mounted; a Deployment's from a claim of its own, kept when the workload or stack goes. */
function dataOf(scope: Scope, spec: Workload, config: PodConfig): pulumi.Resource[] {
    const { name, parent, namespace, args } = scope;
    const claims: pulumi.Resource[] = [];
    for (const v of spec.volumes) {
        config.volumeMounts.push({ name: v.name, mountPath: v.mountPath });
        if (runsAsStatefulSet(spec)) {
            continue; // from the StatefulSet's claim templates
        }
        claims.push(
            new k8s.core.v1.PersistentVolumeClaim(
                `${name}-${v.name}`,
                { metadata: { name: v.name, namespace, labels: workloadLabels(spec.name) }, spec: claimSpec(args) },
                { parent, ...KEEP_DATA },
            ),
        );
        config.volumes.push({ name: v.name, persistentVolumeClaim: { claimName: v.name } });
    }
    return claims;
}

function claimSpec(args: KubernetesRuntimeArgs): k8s.types.input.core.v1.PersistentVolumeClaimSpec {
    return {
        accessModes: ["ReadWriteOnce"],
        storageClassName: args.storageClass,
        resources: { requests: { storage: args.volumeSize } },
    };
}

function podTemplate(scope: Scope, spec: Workload, config: PodConfig) {
    const { args } = scope;
    const container: k8s.types.input.core.v1.Container = {
        name: spec.name,
        image: spec.image,
        imagePullPolicy: "IfNotPresent",
        command: spec.entrypoint,
        args: spec.command,
        env: config.env,
        ports: spec.ports.map((p) => ({
            name: p.name,
            containerPort: p.containerPort,
            protocol: (p.protocol ?? "tcp").toUpperCase(),
        })),
        volumeMounts: config.volumeMounts,
        resources: args.resources[spec.name] ? { requests: args.resources[spec.name] } : undefined,
        ...probes(spec.health),
    };
    const waits = waitFor(spec, args.services, args.waitImage);
    const podSpec: k8s.types.input.core.v1.PodSpec = {
        initContainers: waits ? [waits] : undefined,
        nodeSelector:
            exposedPorts(spec).length > 0 ? edgeNodeSelector(args.exposure.type, args.exposure.edgeNode) : undefined,
        containers: [container],
        volumes: config.volumes,
        imagePullSecrets: scope.pullSecrets,
        terminationGracePeriodSeconds: spec.stopGraceSeconds,
        securityContext: config.fsGroup !== undefined ? { fsGroup: config.fsGroup } : undefined,
    };
    const labels = workloadLabels(spec.name);
    return { metadata: { labels, annotations: { "bklite.io/config-hash": config.hash } }, spec: podSpec };
}

/** The ports published beyond the stack (not loopback-only ones): what the external Service exposes. */
function exposedPorts(spec: Workload) {
    return spec.ports.filter((p) => p.hostPort !== undefined && p.hostIp !== "127.0.0.1");
}

/**
 * The service's Service (none for one that listens on no port, a NATS client: Kubernetes refuses one without ports),
 * and, for published ports, the external one browsers and agents reach.
 */
function servicesOf(scope: Scope, spec: Workload): k8s.core.v1.Service | undefined {
    const { name, parent, namespace, args } = scope;
    const labels = workloadLabels(spec.name);
    const port = (p: Workload["ports"][number]) => ({
        name: p.name,
        port: p.containerPort,
        targetPort: p.name,
        protocol: (p.protocol ?? "tcp").toUpperCase(),
    });
    const exposed = exposedPorts(spec);
    if (exposed.length > 0) {
        const { type, edgeNode, nodePorts, sourceRanges } = args.exposure;
        const sources = exposed.flatMap((p) => sourceRanges?.[p.name] ?? ["0.0.0.0/0"]);
        new k8s.core.v1.Service(
            `${name}-${spec.name}-external`,
            {
                metadata: { name: `${spec.name}-external`, namespace, labels },
                spec: {
                    type,
                    externalTrafficPolicy: externalTrafficPolicy(type, edgeNode),
                    loadBalancerSourceRanges: type === "LoadBalancer" ? loadBalancerSourceRanges(sources) : undefined,
                    selector: labels,
                    ports: exposed.map((p) => ({
                        ...port(p),
                        nodePort: type === "NodePort" ? nodePorts[p.name] : undefined,
                    })),
                },
            },
            { parent, customTimeouts: loadBalancerTimeouts(type) },
        );
    }
    return spec.ports.length === 0
        ? undefined
        : new k8s.core.v1.Service(
              `${name}-${spec.name}-service`,
              {
                  metadata: { name: spec.name, namespace, labels },
                  spec: { selector: labels, ports: spec.ports.map(port) },
              },
              { parent },
          );
}

/** Pulumi waits for readiness as long as the service may take to become healthy, and so does Kubernetes. */
function deadlines(spec: Workload) {
    const seconds = healthGiveUpSeconds(spec.health) + 60;
    const minutes = `${Math.ceil((seconds + 120) / 60)}m`;
    return { seconds, customTimeouts: { create: minutes, update: minutes } };
}

function statefulSet(scope: Scope, spec: Workload, template: object, after: pulumi.Resource[]): pulumi.Resource {
    const { name, parent, namespace, args } = scope;
    const labels = workloadLabels(spec.name);
    const workload = new k8s.apps.v1.StatefulSet(
        `${name}-${spec.name}`,
        {
            metadata: { name: spec.name, namespace, labels },
            spec: {
                serviceName: spec.name,
                replicas: 1,
                selector: { matchLabels: labels },
                template,
                persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                volumeClaimTemplates: spec.volumes.map((v) => ({
                    metadata: { name: v.name, labels },
                    spec: claimSpec(args),
                })),
            },
        },
        // Claim templates are immutable: a changed size or class would replace the StatefulSet and still not apply.
        // The size is patched onto the claims below; a class change is refused before deploying.
        {
            parent,
            dependsOn: after,
            customTimeouts: deadlines(spec).customTimeouts,
            ignoreChanges: ["spec.volumeClaimTemplates"],
        },
    );
    // Each claim grows to volumeSize where its StorageClass allows (checked before deploying).
    for (const v of spec.volumes) {
        new k8s.core.v1.PersistentVolumeClaimPatch(
            `${name}-${v.name}-${spec.name}-0-size`,
            {
                metadata: {
                    name: claimName(spec, v.name),
                    namespace,
                    annotations: { "pulumi.com/patchForce": "true" },
                },
                spec: { resources: { requests: { storage: args.volumeSize } } },
            },
            { parent, dependsOn: [workload], retainOnDelete: true },
        );
    }
    return workload;
}

function deployment(scope: Scope, spec: Workload, template: object, after: pulumi.Resource[]): pulumi.Resource {
    const { name, parent, namespace } = scope;
    const labels = workloadLabels(spec.name);
    const { seconds, customTimeouts } = deadlines(spec);
    return new k8s.apps.v1.Deployment(
        `${name}-${spec.name}`,
        {
            metadata: { name: spec.name, namespace, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once, and a single-instance
                // service (the server: migrations, celery beat) must not overlap itself.
                strategy: spec.volumes.length > 0 || spec.singleInstance ? { type: "Recreate" } : undefined,
                progressDeadlineSeconds: seconds,
                template,
            },
        },
        { parent, dependsOn: after, customTimeouts },
    );
}
