import * as crypto from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { claimName, runsAsStatefulSet, workloadLabels } from "./naming";
import { stableJson } from "../../util/json";
import { visibleDigest } from "../../util/visibleDigest";
import { KEEP_DATA } from "../keepData";
import { HealthCheck, Workload, healthGiveUpSeconds } from "../../services/workload";
import { TextValue, refsOf, renderText } from "../../services/template";
import { bindText } from "../bind";
import { startOrder } from "../docker/containers";

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

/**
 * The init container that waits until every service `spec` depends on accepts TCP connections on each of its ports
 * (bash's /dev/tcp: no other tool needed in the image), saying what it waits for every few seconds; none when it
 * depends on nothing that listens.
 */
export function waitFor(
    spec: Workload,
    all: ReadonlyArray<Workload>,
    image: string,
): k8s.types.input.core.v1.Container | undefined {
    const targets = spec.dependsOn.flatMap((name) =>
        (all.find((s) => s.name === name)?.ports ?? []).map((p) => ({ host: name, port: p.containerPort })),
    );
    if (targets.length === 0) {
        return undefined;
    }
    const loops = targets.map(
        ({ host, port }) =>
            `until (exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null; do echo "waiting for ${host}:${port}"; sleep 3; done`,
    );
    return {
        name: "wait-for-dependencies",
        image,
        imagePullPolicy: "IfNotPresent",
        command: [
            "bash",
            "-c",
            [...loops, `echo "${targets.map((t) => `${t.host}:${t.port}`).join(", ")} accept connections"`].join("\n"),
        ],
        resources: { requests: { cpu: "10m", memory: "16Mi" } },
    };
}

/**
 * Agents and browsers are told one address. A node port answers on every node (Cluster), since on a cluster of
 * several nodes the pod may run on another, unless the pod is pinned to the edge node at that address, where Local
 * keeps clients' addresses for NetworkPolicies. A load balancer sends only to nodes that run the pod, so it keeps
 * them too (Local).
 */
export function externalTrafficPolicy(type: "NodePort" | "LoadBalancer", edgeNode?: string): "Cluster" | "Local" {
    return type === "NodePort" && edgeNode === undefined ? "Cluster" : "Local";
}

/**
 * How long Pulumi waits for a load balancer's address: a cluster without a load balancer implementation never gives
 * one, and the failure ("Service was not allocated an IP address") should come in minutes, not after the default 10.
 */
export function loadBalancerTimeouts(type: "NodePort" | "LoadBalancer"): pulumi.CustomTimeouts | undefined {
    return type === "LoadBalancer" ? { create: "5m", update: "5m" } : undefined;
}

/** Pins a pod to the edge node (its built-in hostname label), when there is one. */
export function edgeNodeSelector(
    type: "NodePort" | "LoadBalancer",
    edgeNode?: string,
): Record<string, string> | undefined {
    return type === "NodePort" && edgeNode !== undefined ? { "kubernetes.io/hostname": edgeNode } : undefined;
}

/** Source ranges for a LoadBalancer: none (no restriction) when anyone may connect. */
export function loadBalancerSourceRanges(sources: ReadonlyArray<string> | undefined): string[] | undefined {
    return sources === undefined || sources.length === 0 || sources.some((s) => s === "0.0.0.0/0" || s === "::/0")
        ? undefined
        : [...sources];
}

/** The exec probe of a health check: CMD runs as given, CMD-SHELL through sh. */
export function probeCommand(h: HealthCheck): string[] {
    const [kind, ...rest] = h.test;
    return kind === "CMD-SHELL" ? ["sh", "-c", rest.join(" ")] : rest;
}

/**
 * Probes from a health check: a startup probe that allows the whole give-up budget (a server running its
 * migrations is not killed in its first minutes), then a readiness probe. No liveness probe: a slow server is
 * not restarted mid-migration.
 */
export function probes(h: HealthCheck): {
    startupProbe: k8s.types.input.core.v1.Probe;
    readinessProbe: k8s.types.input.core.v1.Probe;
} {
    const exec = { command: probeCommand(h) };
    return {
        startupProbe: {
            exec,
            periodSeconds: h.intervalSeconds,
            timeoutSeconds: h.timeoutSeconds,
            failureThreshold: Math.ceil(healthGiveUpSeconds(h) / h.intervalSeconds),
        },
        readinessProbe: {
            exec,
            periodSeconds: h.intervalSeconds,
            timeoutSeconds: h.timeoutSeconds,
            failureThreshold: 3,
        },
    };
}

/** Octal permission string to the decimal mode Kubernetes wants. */
function mode(octal?: string): number | undefined {
    return octal === undefined ? undefined : parseInt(octal, 8);
}

/**
 * Runs workloads as Kubernetes Deployments and StatefulSets in one namespace: StatefulSets (claims kept when they are deleted)
 * for stateful services, Deployments for the rest, a Service per service, Secrets for every value that holds one
 * (referenced from env, never plain), images only if not present, and the same start order as the Docker runtime.
 * Knows nothing about what the services are.
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
        super(
            "bklite:index:KubernetesRuntime",
            name,
            { namespace: args.namespace, services: args.services.map((s) => s.name) },
            opts,
        );
        // Kept on delete: deleting a namespace deletes the claims in it, and with them the data.
        const namespace =
            args.createNamespace === false
                ? pulumi.output(args.namespace)
                : new k8s.core.v1.Namespace(
                      `${name}-namespace`,
                      { metadata: { name: args.namespace } },
                      { parent: this, ...KEEP_DATA },
                  ).metadata.name;
        const labelsOf = workloadLabels;
        const registry = bindings.registry;
        const pullSecret =
            registry === undefined
                ? undefined
                : new k8s.core.v1.Secret(
                      `${name}-registry`,
                      {
                          metadata: {
                              name: REGISTRY_PULL_SECRET,
                              namespace,
                              labels: { "app.kubernetes.io/part-of": "bklite" },
                          },
                          type: "kubernetes.io/dockerconfigjson",
                          stringData: {
                              ".dockerconfigjson": pulumi.secret(
                                  pulumi
                                      .output(registry.password)
                                      .apply((p) => dockerConfigJson(registry.server, registry.username, p)),
                              ),
                          },
                      },
                      { parent: this },
                  );
        const pullSecrets = [...args.imagePullSecrets, ...(pullSecret ? [REGISTRY_PULL_SECRET] : [])].map((n) => ({
            name: n,
        }));
        // Everything bound goes into a Secret: mark it secret even when the values themselves are not.
        const render = (value: TextValue): pulumi.Input<string> => {
            const bound = bindText(value, bindings.values);
            return typeof bound === "string" ? bound : pulumi.secret(bound);
        };

        const workloads: Record<string, pulumi.Resource> = {};
        const ready: Record<string, pulumi.Resource[]> = {};
        const templates: Record<string, unknown> = {};
        for (const spec of startOrder(args.services)) {
            const labels = labelsOf(spec.name);
            const dependsOn = [
                ...(bindings.before ?? []),
                ...(pullSecret ? [pullSecret] : []),
                ...spec.dependsOn.flatMap((d) => ready[d]),
            ];

            // Env: plain values inline; anything holding a secret or generated value from a Secret.
            const secretEnv = Object.entries(spec.env).filter(([, v]) => refsOf(v).length > 0);
            const envSecret =
                secretEnv.length > 0
                    ? new k8s.core.v1.Secret(
                          `${name}-${spec.name}-env`,
                          {
                              metadata: { name: `${spec.name}-env`, namespace, labels },
                              stringData: Object.fromEntries(secretEnv.map(([k, v]) => [k, render(v)])),
                          },
                          { parent: this },
                      )
                    : undefined;
            const env = Object.keys(spec.env)
                .sort()
                .map((key) =>
                    refsOf(spec.env[key]).length > 0
                        ? { name: key, valueFrom: { secretKeyRef: { name: `${spec.name}-env`, key } } }
                        : { name: key, value: renderText(spec.env[key], {}) },
                );

            // Files: one Secret (any file with a value in it) or ConfigMap per service, each file mounted by subPath.
            const secretFiles = spec.files.some((f) => refsOf(f.content).length > 0);
            const fileData = Object.fromEntries(spec.files.map((f, i) => [`file-${i}`, render(f.content)]));
            const fileSource =
                spec.files.length === 0
                    ? undefined
                    : secretFiles
                      ? new k8s.core.v1.Secret(
                            `${name}-${spec.name}-files`,
                            { metadata: { name: `${spec.name}-files`, namespace, labels }, stringData: fileData },
                            { parent: this },
                        )
                      : new k8s.core.v1.ConfigMap(
                            `${name}-${spec.name}-files`,
                            {
                                metadata: { name: `${spec.name}-files`, namespace, labels },
                                data: fileData as Record<string, string>,
                            },
                            { parent: this },
                        );
            // Files for a process that drops root (WorkloadFile.owner): readable through the pod's fsGroup instead.
            const owned = spec.files.find((f) => f.owner !== undefined)?.owner;
            const items = spec.files.map((f, i) => ({
                key: `file-${i}`,
                path: `file-${i}`,
                mode: f.owner ? (mode(f.mode) ?? 0o600) | 0o040 : mode(f.mode),
            }));
            const volumes: k8s.types.input.core.v1.Volume[] = fileSource
                ? [
                      secretFiles
                          ? { name: "files", secret: { secretName: `${spec.name}-files`, items } }
                          : { name: "files", configMap: { name: `${spec.name}-files`, items } },
                  ]
                : [];
            const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = spec.files.map((f, i) => ({
                name: "files",
                mountPath: f.path,
                subPath: `file-${i}`,
                readOnly: true,
            }));

            // Data: claims, kept when the workload or the stack is deleted.
            const stateful = runsAsStatefulSet(spec);
            const claims: pulumi.Resource[] = [];
            for (const v of spec.volumes) {
                volumeMounts.push({ name: v.name, mountPath: v.mountPath });
                if (!stateful) {
                    claims.push(
                        new k8s.core.v1.PersistentVolumeClaim(
                            `${name}-${v.name}`,
                            {
                                metadata: { name: v.name, namespace, labels },
                                spec: {
                                    accessModes: ["ReadWriteOnce"],
                                    storageClassName: args.storageClass,
                                    resources: { requests: { storage: args.volumeSize } },
                                },
                            },
                            { parent: this, ...KEEP_DATA },
                        ),
                    );
                    volumes.push({ name: v.name, persistentVolumeClaim: { claimName: v.name } });
                }
            }

            const container: k8s.types.input.core.v1.Container = {
                name: spec.name,
                image: spec.image,
                imagePullPolicy: "IfNotPresent",
                command: spec.entrypoint,
                args: spec.command,
                env,
                ports: spec.ports.map((p) => ({
                    name: p.name,
                    containerPort: p.containerPort,
                    protocol: (p.protocol ?? "tcp").toUpperCase(),
                })),
                volumeMounts,
                resources: args.resources[spec.name] ? { requests: args.resources[spec.name] } : undefined,
                ...probes(spec.health),
            };
            const waits = waitFor(spec, args.services, args.waitImage);
            const exposedHere = spec.ports.some((p) => p.hostPort !== undefined && p.hostIp !== "127.0.0.1");
            const podSpec: k8s.types.input.core.v1.PodSpec = {
                initContainers: waits ? [waits] : undefined,
                nodeSelector: exposedHere ? edgeNodeSelector(args.exposure.type, args.exposure.edgeNode) : undefined,
                containers: [container],
                volumes,
                imagePullSecrets: pullSecrets,
                terminationGracePeriodSeconds: spec.stopGraceSeconds,
                securityContext: owned ? { fsGroup: owned.gid } : undefined,
            };
            // A changed Secret or ConfigMap restarts the pods that read it (subPath mounts never refresh). Visible:
            // a secret annotation would make the whole pod spec secret, hidden from previews, plans and audits.
            const dataHash = visibleDigest(bindings.hashKey, [
                ...secretEnv.map(([, v]) => render(v)),
                ...spec.files.map((f) => render(f.content)),
            ]);
            const template = {
                metadata: { labels, annotations: { "bklite.io/config-hash": dataHash } },
                spec: podSpec,
            };
            templates[spec.name] = template;
            // Pulumi waits for readiness as long as the service may take to become healthy, and so does Kubernetes.
            const deadlineSeconds = healthGiveUpSeconds(spec.health) + 60;
            const customTimeouts = {
                create: `${Math.ceil((deadlineSeconds + 120) / 60)}m`,
                update: `${Math.ceil((deadlineSeconds + 120) / 60)}m`,
            };

            // A service that listens on no port (a NATS client) has no Service: Kubernetes refuses one without ports.
            const service =
                spec.ports.length === 0
                    ? undefined
                    : new k8s.core.v1.Service(
                          `${name}-${spec.name}-service`,
                          {
                              metadata: { name: spec.name, namespace, labels },
                              spec: {
                                  selector: labels,
                                  ports: spec.ports.map((p) => ({
                                      name: p.name,
                                      port: p.containerPort,
                                      targetPort: p.name,
                                      protocol: (p.protocol ?? "tcp").toUpperCase(),
                                  })),
                              },
                          },
                          { parent: this },
                      );
            const exposed = spec.ports.filter((p) => p.hostPort !== undefined && p.hostIp !== "127.0.0.1");
            if (exposed.length > 0) {
                new k8s.core.v1.Service(
                    `${name}-${spec.name}-external`,
                    {
                        metadata: { name: `${spec.name}-external`, namespace, labels },
                        spec: {
                            type: args.exposure.type,
                            externalTrafficPolicy: externalTrafficPolicy(args.exposure.type, args.exposure.edgeNode),
                            loadBalancerSourceRanges:
                                args.exposure.type === "LoadBalancer"
                                    ? loadBalancerSourceRanges(
                                          exposed.flatMap((p) => args.exposure.sourceRanges?.[p.name] ?? ["0.0.0.0/0"]),
                                      )
                                    : undefined,
                            selector: labels,
                            ports: exposed.map((p) => ({
                                name: p.name,
                                port: p.containerPort,
                                targetPort: p.name,
                                protocol: (p.protocol ?? "tcp").toUpperCase(),
                                nodePort:
                                    args.exposure.type === "NodePort" ? args.exposure.nodePorts[p.name] : undefined,
                            })),
                        },
                    },
                    { parent: this, customTimeouts: loadBalancerTimeouts(args.exposure.type) },
                );
            }

            // Not the Service: Pulumi awaits a Service until it has endpoints, which only this workload provides.
            const after = [
                ...dependsOn,
                ...claims,
                ...(envSecret ? [envSecret] : []),
                ...(fileSource ? [fileSource] : []),
            ];
            const workload = stateful
                ? new k8s.apps.v1.StatefulSet(
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
                                  spec: {
                                      accessModes: ["ReadWriteOnce"],
                                      storageClassName: args.storageClass,
                                      resources: { requests: { storage: args.volumeSize } },
                                  },
                              })),
                          },
                      },
                      // Claim templates are immutable: a changed size or class would replace the StatefulSet and still not
                      // apply. The size is patched onto the claims below; a class change is refused before deploying.
                      { parent: this, dependsOn: after, customTimeouts, ignoreChanges: ["spec.volumeClaimTemplates"] },
                  )
                : new k8s.apps.v1.Deployment(
                      `${name}-${spec.name}`,
                      {
                          metadata: { name: spec.name, namespace, labels },
                          spec: {
                              replicas: 1,
                              selector: { matchLabels: labels },
                              // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once, and a
                              // single-instance service (the server: migrations, celery beat) must not overlap itself.
                              strategy:
                                  spec.volumes.length > 0 || spec.singleInstance ? { type: "Recreate" } : undefined,
                              progressDeadlineSeconds: deadlineSeconds,
                              template,
                          },
                      },
                      { parent: this, dependsOn: after, customTimeouts },
                  );
            if (stateful) {
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
                        { parent: this, dependsOn: [workload], retainOnDelete: true },
                    );
                }
            }
            workloads[spec.name] = workload;
            ready[spec.name] = [
                workload,
                ...(service ? [service] : []),
                ...(bindings.afterStart?.[spec.name]?.(workload) ?? []),
            ];
        }
        this.workloads = workloads;
        this.namespace = namespace;
        this.templatesDigest = pulumi.unsecret(
            pulumi.output(templates).apply((t) => crypto.createHash("sha256").update(stableJson(t)).digest("hex")),
        );
        this.registerOutputs({ namespace: this.namespace });
    }
}
