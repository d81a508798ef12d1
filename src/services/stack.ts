/**
 * What a stack runs for its config: the services its apps need (one definition a file in catalog/) as workloads,
 * with the server told where each of them is, and what the platform must make around them (databases, generated
 * secrets, JetStream streams). Pure data: secrets and certificates appear only as references.
 */
import { GIVEN_ONLY_SECRETS, SecretName } from "../config/keys";
import type { StackConfig } from "../config/types";
import { resolveImageRef } from "../supply/imageRefs";
import { compareStrings } from "../util/json";
import { StreamSettings } from "../nats/streamSettings";
import { endpointsOf } from "../runtimes";
import { bindAddress } from "../security/resolve";
import { resolveSecurity } from "../security/stackRules";
import { DEFAULT_IMAGES, servicesFor } from "./catalog";
import { DatabaseNeed, ServiceData, ServiceDefinition } from "./definition";
import { Workload } from "./workload";

export { ADMIN_USER, DATABASE, NATS_NAMESPACE, VALUE_REFS, natsAgentEndpoint, publicUrl } from "./shared";

/** The secrets every stack has; services add their own (ServiceDefinition.secrets). */
export const CORE_SECRETS: ReadonlyArray<SecretName> = [
    "postgresAdminPassword",
    "postgresPassword",
    "redisPassword",
    "natsPassword",
    "natsServerPassword",
    "natsAgentKey",
    "secretKey",
    "nextauthSecret",
    "adminPassword",
];

/** The workload of every service the stack runs for the given config. */
export function stackWorkloads(config: StackConfig): Workload[] {
    const running = servicesFor(config.installApps);
    // Published ports bind where the rules say they may be reached from: loopback when only the host may.
    const security = resolveSecurity(config);
    const endpoints = endpointsOf(config);
    const specs: Workload[] = [];
    for (const definition of running) {
        const workload = definition.workload({
            config,
            endpoints,
            image: resolveImageRef(definition.name, definition.defaultImage, config.images),
            bindAddress: (port) => bindAddress(security, port) ?? "0.0.0.0",
            peers: [...specs],
        });
        specs.push({ ...workload, volumes: volumesOf(definition) });
    }
    // The server finds each service by the settings it contributes, and waits for those it needs at start.
    const server = specs.find((s) => s.name === "server")!;
    server.env = Object.assign({}, server.env, ...running.map((d) => d.serverEnv?.(config) ?? {}));
    server.dependsOn = [...server.dependsOn, ...running.filter((d) => d.serverWaits).map((d) => d.name)];
    server.connectsTo = running.filter((d) => d.serverEnv && !d.serverWaits).map((d) => d.name);
    return specs;
}

/** A service's data volumes: the ones its data declares, and no other. */
function volumesOf(definition: ServiceDefinition): Workload["volumes"] {
    return (definition.data ?? []).flatMap((d) =>
        d.kind === "volume" ? [{ name: d.name, mountPath: d.mountPath }] : [],
    );
}

/** The data the running services declare, each with its service: what a backup takes and a restore puts back. */
export function stackData(config: StackConfig): Array<{ service: string; data: ServiceData }> {
    return servicesFor(config.installApps).flatMap((d) => (d.data ?? []).map((data) => ({ service: d.name, data })));
}

/** The running services' data of one kind, each with its service. */
export function stackDataOf<K extends ServiceData["kind"]>(
    config: StackConfig,
    kind: K,
): Array<{ service: string; data: Extract<ServiceData, { kind: K }> }> {
    return stackData(config).filter(
        (d): d is { service: string; data: Extract<ServiceData, { kind: K }> } => d.data.kind === kind,
    );
}

/** The PostgreSQL databases the running services keep their data in. */
export function stackDatabases(config: StackConfig): DatabaseNeed[] {
    return stackDataOf(config, "database").map(({ data }) => ({
        name: data.name,
        owner: data.owner,
        passwordRef: data.passwordRef,
    }));
}

/** The secrets the stack needs: the core ones and those of its running services. */
export function stackSecrets(config: StackConfig): SecretName[] {
    const givenOnly = GIVEN_ONLY_SECRETS.filter((name) => config.providedSecrets.includes(name));
    return [
        ...new Set([...CORE_SECRETS, ...servicesFor(config.installApps).flatMap((d) => d.secrets ?? []), ...givenOnly]),
    ];
}

/** The JetStream streams the running services consume, with the services that consume them. */
export function stackStreams(config: StackConfig): Array<{ stream: StreamSettings; consumers: string[] }> {
    const byName = new Map<string, { stream: StreamSettings; consumers: string[] }>();
    for (const { service, data } of stackDataOf(config, "streams")) {
        for (const stream of data.streams) {
            const entry = byName.get(stream.name) ?? { stream, consumers: [] };
            entry.consumers.push(service);
            byName.set(stream.name, entry);
        }
    }
    return [...byName.values()];
}

/** Every image ref the stack runs, sorted and unique: what the host or the bundle must provide. */
export function stackImages(config: StackConfig): string[] {
    return [...new Set(stackWorkloads(config).map((s) => s.image))].sort();
}

/** The image ref each service of the stack runs, by service name, sorted: what a backup records and an upgrade changes. */
export function imagesByService(config: StackConfig): Record<string, string> {
    return Object.fromEntries(
        stackWorkloads(config)
            .map((s) => [s.name, s.image] as const)
            .sort(([a], [b]) => compareStrings(a, b)),
    );
}

/**
 * Where each image comes from on a connected machine (the default or override, before the registry and release tag
 * are applied: `postgres:15-alpine` -> `<registry>/postgres:v0.3.5`) and the ref the stack runs.
 */
/** The images of stack `config` that are built from a checkout of the fork, with the refs the stack runs. */
export function ownImageBuilds(
    config: StackConfig,
): Array<{ service: string; ref: string; context: string; dockerfile: string }> {
    return servicesFor(config.installApps)
        .filter((d) => d.build !== undefined && config.images.overrides?.[d.name] === undefined)
        .map((d) => ({ service: d.name, ref: resolveImageRef(d.name, d.defaultImage, config.images), ...d.build! }));
}

export function serviceImageSources(config: StackConfig): Array<{ source: string; target: string }> {
    const pairs = new Map<string, string>();
    for (const definition of servicesFor(config.installApps)) {
        const target = resolveImageRef(definition.name, definition.defaultImage, config.images);
        pairs.set(target, config.images.overrides?.[definition.name] ?? DEFAULT_IMAGES[definition.name]);
    }
    return [...pairs.entries()]
        .sort(([a], [b]) => compareStrings(a, b))
        .map(([target, source]) => ({ source, target }));
}
