import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { KEEP_DATA } from "../keepData";
import {
    WorkloadFile,
    HealthCheck,
    Workload,
    findHostPortConflicts,
    healthGiveUpSeconds,
} from "../../services/workload";
import { TextValue, envRefs, refsOf, renderEnv } from "../../services/template";
import { Values, bind, bindText } from "../bind";
import { startOrder } from "../startOrder";

export interface DockerRuntimeArgs {
    /** Prefix of every Docker object name (network, volumes, containers), e.g. `bklite-dev`. */
    namePrefix: string;
    services: Workload[];
}

/** Kept out of the component's inputs: component args are stored in state, and these are secrets and wiring. */
export interface DockerRuntimeBindings {
    /** Values the specs refer to by name (secrets, certificates). */
    values: Readonly<Record<string, pulumi.Input<string>>>;
    /**
     * Resources that finish a service's start, by service name, made once its container is healthy (e.g. the
     * database and role inside PostgreSQL). Services that depend on it wait for them as well.
     */
    afterStart?: Readonly<Record<string, (container: docker.Container) => pulumi.Resource[]>>;
    /** Resources that must finish before any image is looked up (e.g. loading the offline bundle). */
    imagesAfter?: pulumi.Resource[];
}

/** Pulumi never waits longer than this for a container to become healthy. */
const MAX_WAIT_SECONDS = 15 * 60;
const LOG_OPTIONS = { "max-size": "50m", "max-file": "5" };

/**
 * Whole seconds as Go's `time.Duration.String()` writes them (`10s`, `2m0s`, `1h0m0s`): the docker provider reads
 * health check durations back in that form, so anything else (`120s`) differs on every run and replaces the
 * container.
 */
export function goDuration(seconds: number): string {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** Docker's health check arguments for a spec, written as the provider reads them back. */
export function dockerHealthcheck(h: HealthCheck): docker.types.input.ContainerHealthcheck {
    return {
        tests: h.test,
        interval: goDuration(h.intervalSeconds),
        timeout: goDuration(h.timeoutSeconds),
        startPeriod: goDuration(h.startPeriodSeconds),
        retries: h.retries,
    };
}

/**
 * Inputs the docker provider reads back from the engine, set to exactly what the engine reports, so an unchanged
 * stack stays unchanged on the next `pulumi up` (each of these is ForceNew: a difference replaces the container).
 * @pulumi/docker 5.2.0 bridges terraform-provider-docker v4.5.0, whose `resourceDockerContainerRead`
 * (internal/provider/resource_docker_container_funcs.go) stores:
 * - `network_mode` from `HostConfig.NetworkMode`: "bridge" for a container created without one
 *   (pulumi/pulumi-docker#1272), so the program says "bridge";
 * - `healthcheck` from `Config.Healthcheck`, each duration as Go's `time.Duration.String()` (goDuration), and
 *   `start_interval` too, which the program leaves at the schema's default "0s"; every other field is non-zero, so
 *   an image's own HEALTHCHECK fills none of them in;
 * - `log_opts` from `HostConfig.LogConfig.Config`, the whole map once any are set (`containerLogOptsForState`): only
 *   these two keys, and a daemon.json that adds `log-opts` of its own makes them differ (docs/what-gets-deployed.md);
 * - `restart` from `HostConfig.RestartPolicy.Name` and `stop_timeout` from `Config.StopTimeout`: stored as sent.
 * Env and labels are not read back (the provider's own comment there); the rest the program sets is stored as sent.
 * tests/integration/dockerStack.test.ts compares each with what the engine reports after create.
 */
export const ENGINE_REPORTED = { networkMode: "bridge" } as const;

/** How long `pulumi up` waits for a container to be healthy: its give-up time, capped at 15 minutes. */
export function waitTimeoutSeconds(h: HealthCheck): number {
    return Math.min(MAX_WAIT_SECONDS, healthGiveUpSeconds(h) + 30);
}

/**
 * Runs workloads as Docker containers on one host: one network, named data volumes kept on delete,
 * images never removed from the host, containers started in dependency order and each awaited until healthy.
 * Knows nothing about what the services are.
 */
export class DockerRuntime extends pulumi.ComponentResource {
    /** Name of the stack network. */
    public readonly networkName: pulumi.Output<string>;
    /** Container name of each service. */
    public readonly containerNames: pulumi.Output<Record<string, string>>;
    /** Names of the data volumes, kept when the stack is destroyed. */
    public readonly volumeNames: pulumi.Output<string[]>;
    /** The containers, by service name, for resources that must wait for one. */
    public readonly containers: Readonly<Record<string, docker.Container>>;

    constructor(
        name: string,
        args: DockerRuntimeArgs,
        bindings: DockerRuntimeBindings,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super(
            "bklite:index:DockerRuntime",
            name,
            { namePrefix: args.namePrefix, services: args.services.map((s) => s.name) },
            opts,
        );

        const conflicts = findHostPortConflicts(args.services);
        if (conflicts.length > 0) {
            throw new Error(
                `host ports published twice: ${conflicts.map((c) => `${c.hostPort} by ${c.owners.join(" and ")}`).join("; ")}`,
            );
        }
        const ordered = startOrder(args.services);
        const labels = [{ label: "io.bklite.stack", value: args.namePrefix }];
        const network = new docker.Network(
            `${name}-network`,
            { name: args.namePrefix, driver: "bridge", labels },
            { parent: this },
        );
        const volumes = dataVolumes(this, name, args.namePrefix, ordered, labels);
        const scope: Scope = { parent: this, name, args, bindings, network, volumes, labels, images: new Map() };
        const containers: Record<string, docker.Container> = {};
        const ready: Record<string, pulumi.Resource[]> = {};
        for (const spec of ordered) {
            const container = containerOf(
                scope,
                spec,
                spec.dependsOn.flatMap((d) => ready[d]),
            );
            containers[spec.name] = container;
            ready[spec.name] = [container, ...(bindings.afterStart?.[spec.name]?.(container) ?? [])];
        }

        this.containers = containers;
        this.networkName = network.name;
        this.containerNames = pulumi.output(
            Object.fromEntries(args.services.map((s) => [s.name, `${args.namePrefix}-${s.name}`])),
        );
        this.volumeNames = pulumi.all([...volumes.values()].map((v) => v.name)).apply((names) => [...names].sort());
        this.registerOutputs({
            networkName: this.networkName,
            containerNames: this.containerNames,
            volumeNames: this.volumeNames,
        });
    }
}

type Labels = Array<{ label: string; value: string }>;

/** What every container of one runtime is made with. */
interface Scope {
    parent: pulumi.Resource;
    name: string;
    args: DockerRuntimeArgs;
    bindings: DockerRuntimeBindings;
    network: docker.Network;
    volumes: ReadonlyMap<string, docker.Volume>;
    labels: Labels;
    /** One image resource per ref, shared by the services that run it. */
    images: Map<string, docker.RemoteImage>;
}

/** Every workload's data volumes, by name: `pulumi destroy` and replacements must never take data. */
function dataVolumes(
    parent: pulumi.Resource,
    name: string,
    namePrefix: string,
    ordered: ReadonlyArray<Workload>,
    labels: Labels,
): Map<string, docker.Volume> {
    const volumes = new Map<string, docker.Volume>();
    for (const v of ordered.flatMap((spec) => spec.volumes)) {
        if (volumes.has(v.name)) {
            throw new Error(`volume '${v.name}' is declared by more than one service`);
        }
        const volume = new docker.Volume(
            `${name}-${v.name}`,
            { name: `${namePrefix}-${v.name}`, labels },
            { parent, ...KEEP_DATA },
        );
        volumes.set(v.name, volume);
    }
    return volumes;
}

/** The image a workload runs; keepLocally: an offline host cannot get an image back once the provider deletes it. */
function imageOf(scope: Scope, spec: Workload): docker.RemoteImage {
    let image = scope.images.get(spec.image);
    if (!image) {
        image = new docker.RemoteImage(
            `${scope.name}-${spec.name}-image`,
            { name: spec.image, keepLocally: true },
            { parent: scope.parent, dependsOn: scope.bindings.imagesAfter ?? [] },
        );
        scope.images.set(spec.image, image);
    }
    return image;
}

function containerOf(scope: Scope, spec: Workload, dependsOn: pulumi.Resource[]): docker.Container {
    const { args, bindings } = scope;
    return new docker.Container(
        `${scope.name}-${spec.name}`,
        {
            name: `${args.namePrefix}-${spec.name}`,
            image: imageOf(scope, spec).imageId,
            hostname: spec.name,
            networkMode: ENGINE_REPORTED.networkMode,
            entrypoints: spec.entrypoint,
            command: spec.command,
            envs: boundEnv(spec.env, bindings.values),
            networksAdvanced: [{ name: scope.network.name, aliases: [spec.name] }],
            ports: spec.ports
                .filter((p) => p.hostPort !== undefined)
                .map((p) => ({
                    internal: p.containerPort,
                    external: p.hostPort,
                    ip: p.hostIp ?? "0.0.0.0",
                    protocol: p.protocol ?? "tcp",
                })),
            volumes: spec.volumes.map((v) => ({
                volumeName: scope.volumes.get(v.name)!.name,
                containerPath: v.mountPath,
            })),
            uploads: spec.files.map((f) => upload(f, bindings.values)),
            healthcheck: dockerHealthcheck(spec.health),
            restart: "unless-stopped",
            wait: true,
            waitTimeout: waitTimeoutSeconds(spec.health),
            stopTimeout: spec.stopGraceSeconds,
            destroyGraceSeconds: spec.stopGraceSeconds,
            logDriver: "json-file",
            logOpts: LOG_OPTIONS,
            labels: [...scope.labels, { label: "io.bklite.service", value: spec.name }],
        },
        // Delete first: a replacement with the same name and host ports cannot start while the old one runs (the
        // provider creates first otherwise, pulumi/pulumi-docker#1356). The service is down from the old container's
        // stop to the new one's health, no longer than a restart of it.
        { parent: scope.parent, dependsOn, additionalSecretOutputs: boundProperties(spec), deleteBeforeReplace: true },
    );
}

/**
 * The container properties that take bound values (secrets, keys, certificates), declared secret so the policy
 * pack, which sees values unwrapped, can tell them from plaintext (the values are secret Outputs already).
 */
function boundProperties(spec: Workload): string[] {
    return [
        ...(envRefs(spec.env).length > 0 ? ["envs"] : []),
        ...(spec.files.some((f) => refsOf(f.content).length > 0) ? ["uploads"] : []),
    ];
}

/**
 * An env map as Docker's list. When it refers to values it becomes an Output that is secret whenever one of them
 * is, so an env list holding a password is a Pulumi secret in state and in previews.
 */
function boundEnv(env: Readonly<Record<string, TextValue>>, values: Values): pulumi.Input<string[]> {
    return bind(envRefs(env), values, (resolved) => renderEnv(env, resolved));
}

function upload(file: WorkloadFile, values: Values): docker.types.input.ContainerUpload {
    return {
        file: file.path,
        content: bindText(file.content, values),
        permissions: file.mode,
        ...(file.owner ? { owner: String(file.owner.uid), group: String(file.owner.gid) } : {}),
    };
}
