/**
 * The rules `bklite audit` checks in a stack export and the policy pack (policy/) enforces before deployment:
 * one implementation for both. They work on a ResourceView, which each side builds from what it can see:
 * the audit from the state (real retainOnDelete, secrets still marked), the policy pack from the analyzer's
 * request (protect instead of retainOnDelete, which the analyzer protocol does not carry, and secret values
 * already unwrapped).
 */
import { JsonObject as Json, isRecord, propertyPath } from "../util/json";
import { effectiveTag, isFloatingLatest, isUnderRegistry, parseImageRef } from "../supply/imageRefs";

/** What a secret value is replaced with before the rules see it (the audit knows which values are secret). */
export const HIDDEN_SECRET = "[secret]";

export interface ResourceView {
    urn: string;
    type: string;
    name: string;
    /** The resource's inputs (policy: its props). Secret values are HIDDEN_SECRET where `secretsMarked`. */
    props: Record<string, unknown>;
    /** Its outputs, where known (the audit); same secret handling. */
    outputs?: Record<string, unknown>;
    /** Kept when the stack is destroyed: retainOnDelete in the state, `protect` for the policy pack. */
    kept: boolean;
    /** Whether secret values have been told apart (HIDDEN_SECRET) from plaintext ones. */
    secretsMarked: boolean;
    /** The resource's additionalSecretOutputs option. */
    additionalSecretOutputs: string[];
}

export type RuleName =
    "images-from-registry" | "no-pull-always" | "data-retained" | "data-stores-on-loopback" | "no-plaintext-secrets";

/** Each rule's one-line description (policy descriptions and report headings). */
export const RULES: Record<RuleName, string> = {
    "images-from-registry": "Images come from the stack's registry and are pinned (never `latest`) on offline stacks.",
    "no-pull-always": "No imagePullPolicy Always: an offline site has nothing to pull from.",
    "data-retained": "Data volumes and claims (and a namespace holding claims) are kept when the stack is destroyed.",
    "data-stores-on-loopback": "PostgreSQL, Redis and other data stores are published on loopback only, if at all.",
    "no-plaintext-secrets":
        "No secret-looking value (password env, URL with credentials, private key) stored in plaintext.",
};

export interface Finding {
    rule: RuleName;
    urn: string;
    type: string;
    name: string;
    /** Where in the resource, e.g. `inputs.envs[3] (POSTGRES_PASSWORD)`; never the value. */
    where?: string;
    message: string;
}

function finding(view: ResourceView, rule: RuleName, message: string, where?: string): Finding {
    return { rule, urn: view.urn, type: view.type, name: view.name, ...(where ? { where } : {}), message };
}

// ---- resource kinds

export const DOCKER_CONTAINER = "docker:index/container:Container";
export const DOCKER_IMAGE = "docker:index/remoteImage:RemoteImage";
export const DOCKER_VOLUME = "docker:index/volume:Volume";
export const K8S_CLAIM = "kubernetes:core/v1:PersistentVolumeClaim";
export const K8S_NAMESPACE = "kubernetes:core/v1:Namespace";
export const K8S_SERVICE = "kubernetes:core/v1:Service";
export const K8S_STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
export const K8S_CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
export const K8S_SECRET = "kubernetes:core/v1:Secret";

/** Where each workload kind keeps its pod spec. */
const POD_SPEC_PATHS: Record<string, string[]> = {
    "kubernetes:core/v1:Pod": ["spec"],
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The pod spec of a Kubernetes workload, with its path. */
export function podSpecOf(view: ResourceView): { spec: Json; at: string } | undefined {
    const steps = POD_SPEC_PATHS[view.type];
    if (!steps) {
        return undefined;
    }
    let node: unknown = view.props;
    for (const step of steps) {
        node = isRecord(node) ? node[step] : undefined;
    }
    return isRecord(node) ? { spec: node, at: ["inputs", ...steps].join(".") } : undefined;
}

interface PodContainer {
    container: Json;
    at: string;
}

function podContainers(view: ResourceView): PodContainer[] {
    const pod = podSpecOf(view);
    if (!pod) {
        return [];
    }
    return ["initContainers", "containers", "ephemeralContainers"].flatMap((list) => {
        const items = pod.spec[list];
        return Array.isArray(items)
            ? items.filter(isRecord).map((container, i) => ({ container, at: `${pod.at}.${list}[${i}]` }))
            : [];
    });
}

// ---- images

export interface ImagePolicy {
    /** The stack's registry prefix; undefined when the stack has none. */
    registry?: string;
    /** Offline stacks must not use floating tags or images from elsewhere. */
    offline: boolean;
}

export interface ImageUse {
    ref: string;
    /** Path of the ref in the resource. */
    where: string;
    /** Kubernetes containers' imagePullPolicy as written. */
    pullPolicy?: string;
}

/** Refs that name no image yet: digests of images pulled elsewhere, values only known after deploy. */
function isImageRef(value: unknown): value is string {
    return (
        typeof value === "string" &&
        value !== "" &&
        value !== HIDDEN_SECRET &&
        !/^sha256:[0-9a-f]{64}$/.test(value) &&
        !value.startsWith("(known after deploy")
    );
}

/** Every image a resource names. */
export function imageUses(view: ResourceView): ImageUse[] {
    if (view.type === DOCKER_IMAGE) {
        return isImageRef(view.props.name) ? [{ ref: view.props.name, where: "inputs.name" }] : [];
    }
    if (view.type === DOCKER_CONTAINER) {
        return isImageRef(view.props.image) ? [{ ref: view.props.image, where: "inputs.image" }] : [];
    }
    return podContainers(view)
        .filter((c) => isImageRef(c.container.image))
        .map((c) => ({
            ref: c.container.image as string,
            where: `${c.at}.image`,
            ...(typeof c.container.imagePullPolicy === "string" ? { pullPolicy: c.container.imagePullPolicy } : {}),
        }));
}

export interface ImageAssessment {
    /** `digest`, `tag` or undefined when the ref floats (`latest`, written or implied). */
    pinnedBy?: "digest" | "tag";
    /** Whether the ref is under the stack's registry; undefined when the stack has no registry. */
    fromRegistry?: boolean;
    /** A malformed ref's problem. */
    malformed?: string;
}

export function assessImage(ref: string, policy: ImagePolicy): ImageAssessment {
    const parsed = parseImageRef(ref);
    if (typeof parsed === "string") {
        return { malformed: parsed };
    }
    const pinnedBy = parsed.digest ? "digest" : isFloatingLatest(ref) ? undefined : "tag";
    return {
        ...(pinnedBy ? { pinnedBy } : {}),
        ...(policy.registry ? { fromRegistry: isUnderRegistry(ref, policy.registry) } : {}),
    };
}

/**
 * images-from-registry (offline stacks): refs under the registry when one is configured, never floating.
 * no-pull-always: no container pulls on every start (written, or Kubernetes' default for `latest`).
 */
export function imageFindings(view: ResourceView, policy: ImagePolicy): Finding[] {
    const findings: Finding[] = [];
    for (const use of imageUses(view)) {
        const assessment = assessImage(use.ref, policy);
        if (policy.offline) {
            if (assessment.malformed) {
                findings.push(
                    finding(view, "images-from-registry", `image ref is malformed: ${assessment.malformed}`, use.where),
                );
            } else if (assessment.fromRegistry === false) {
                findings.push(
                    finding(
                        view,
                        "images-from-registry",
                        `image ${use.ref} is not under the stack's registry ${policy.registry}; an offline site cannot pull it`,
                        use.where,
                    ),
                );
            }
            if (!assessment.malformed && !assessment.pinnedBy) {
                findings.push(
                    finding(
                        view,
                        "images-from-registry",
                        `image ${use.ref} floats on tag latest; pin a release tag or digest an offline site can reproduce`,
                        use.where,
                    ),
                );
            }
        }
        if (use.pullPolicy === "Always") {
            findings.push(
                finding(
                    view,
                    "no-pull-always",
                    `imagePullPolicy Always pulls ${use.ref} on every start; use IfNotPresent`,
                    use.where.replace(/\.image$/, ".imagePullPolicy"),
                ),
            );
        } else if (use.pullPolicy === undefined && podSpecOf(view) && effectiveTag(use.ref) === "latest") {
            findings.push(
                finding(
                    view,
                    "no-pull-always",
                    `imagePullPolicy is unset and ${use.ref} is tagged latest, so Kubernetes pulls it on every start; set IfNotPresent`,
                    use.where,
                ),
            );
        }
    }
    return findings;
}

// ---- published ports

/** Data stores by their usual port, and names that give them away in an image or container name. */
const DATA_STORE_PORTS: Record<number, string> = {
    5432: "PostgreSQL",
    6379: "Redis",
    3306: "MySQL",
    27017: "MongoDB",
    9200: "Elasticsearch",
    2379: "etcd",
};
const DATA_STORE_NAMES: Array<[RegExp, string]> = [
    [/postgres/i, "PostgreSQL"],
    [/redis/i, "Redis"],
    [/mysql|mariadb/i, "MySQL"],
    [/mongo/i, "MongoDB"],
    [/falkordb/i, "FalkorDB"],
    // No authentication of their own: published, they are open to whoever reaches the port.
    [/victoria-?metrics/i, "VictoriaMetrics"],
    [/victoria-?logs/i, "VictoriaLogs"],
    [/minio/i, "MinIO"],
    [/elasticsearch/i, "Elasticsearch"],
    [/\betcd\b/i, "etcd"],
];

/** The data store a port or name belongs to, if any. */
export function dataStoreOf(port: number | undefined, ...names: Array<string | undefined>): string | undefined {
    if (port !== undefined && DATA_STORE_PORTS[port]) {
        return DATA_STORE_PORTS[port];
    }
    for (const name of names) {
        const match = name ? DATA_STORE_NAMES.find(([pattern]) => pattern.test(name)) : undefined;
        if (match) {
            return match[1];
        }
    }
    return undefined;
}

export interface PublishedPort {
    /** The port inside the container or pod. */
    port: number | string;
    /** The port on the host or node. */
    hostPort: number | string;
    protocol: string;
    /** Bind address; `0.0.0.0` for every address; `every node` for node ports and load balancers. */
    bind: string;
    where: string;
    /** The data store behind the port, if it is one. */
    dataStore?: string;
}

export function isLoopback(address: string): boolean {
    return /^127\./.test(address) || address === "::1" || address === "localhost";
}

function asPort(value: unknown): number | undefined {
    return typeof value === "number"
        ? value
        : typeof value === "string" && /^\d+$/.test(value)
          ? Number(value)
          : undefined;
}

/**
 * Ports a resource publishes beyond its network: Docker container ports, Kubernetes NodePort and LoadBalancer
 * Services, external IPs and pod host ports. `imageOf` names a Docker container's image from its image id.
 */
export function publishedPorts(
    view: ResourceView,
    imageOf: (id: string) => string | undefined = () => undefined,
): PublishedPort[] {
    if (view.type === DOCKER_CONTAINER) {
        return containerPorts(view, imageOf);
    }
    if (view.type === K8S_SERVICE && isRecord(view.props.spec)) {
        return servicePorts(view, view.props.spec);
    }
    return podPorts(view);
}

/** A Docker container's: the host's network, every exposed port, or the ports it lists. */
function containerPorts(view: ResourceView, imageOf: (id: string) => string | undefined): PublishedPort[] {
    const ports: PublishedPort[] = [];
    const image = typeof view.props.image === "string" ? (imageOf(view.props.image) ?? view.props.image) : undefined;
    const containerName = typeof view.props.name === "string" ? view.props.name : view.name;
    const everything = (port: string, hostPort: string, where: string) =>
        ports.push({
            port,
            hostPort,
            protocol: "tcp",
            bind: "0.0.0.0",
            where,
            ...optionalStore(dataStoreOf(undefined, image, containerName)),
        });
    // The host's network: every port the container listens on, on every address of the host.
    if (view.props.networkMode === "host") {
        everything("(every port)", "(the same)", "inputs.networkMode");
    }
    if (view.props.publishAllPorts === true) {
        everything("(every exposed port)", "(chosen by Docker)", "inputs.publishAllPorts");
    }
    const list = Array.isArray(view.props.ports) ? view.props.ports : [];
    list.filter(isRecord).forEach((p, i) => {
        const internal = asPort(p.internal);
        ports.push({
            port: internal ?? String(p.internal),
            hostPort: asPort(p.external) ?? "(chosen by Docker)",
            protocol: typeof p.protocol === "string" ? p.protocol : "tcp",
            bind: typeof p.ip === "string" && p.ip !== "" ? p.ip : "0.0.0.0",
            where: `inputs.ports[${i}]`,
            ...optionalStore(dataStoreOf(internal, image, containerName)),
        });
    });
    return ports;
}

/** A Kubernetes Service's: node ports and load balancers, and external IPs. */
function servicePorts(view: ResourceView, spec: Record<string, unknown>): PublishedPort[] {
    const ports: PublishedPort[] = [];
    const type = typeof spec.type === "string" ? spec.type : "ClusterIP";
    const selector = isRecord(spec.selector) ? Object.values(spec.selector).map(String) : [];
    const list = Array.isArray(spec.ports) ? spec.ports.filter(isRecord) : [];
    const externalIPs = Array.isArray(spec.externalIPs) ? spec.externalIPs.map(String) : [];
    list.forEach((p, i) => {
        const target = asPort(p.targetPort) ?? asPort(p.port);
        const name = typeof p.name === "string" ? p.name : undefined;
        const base = {
            port: asPort(p.port) ?? String(p.port),
            protocol: typeof p.protocol === "string" ? p.protocol.toLowerCase() : "tcp",
            where: `inputs.spec.ports[${i}]`,
            ...optionalStore(dataStoreOf(target, ...selector, view.name, name)),
        };
        if (type === "NodePort" || type === "LoadBalancer") {
            ports.push({
                ...base,
                hostPort: asPort(p.nodePort) ?? "(node port chosen by Kubernetes)",
                bind: type === "LoadBalancer" ? "load balancer and every node" : "every node",
            });
        }
        for (const ip of externalIPs) {
            ports.push({ ...base, hostPort: base.port, bind: ip });
        }
    });
    return ports;
}

/** A pod's (of a workload, or a Pod): the host's network, and host ports. */
function podPorts(view: ResourceView): PublishedPort[] {
    const ports: PublishedPort[] = [];
    const pod = podSpecOf(view);
    const imageOfContainer = (c: Record<string, unknown>) => (typeof c.image === "string" ? c.image : undefined);
    if (pod?.spec.hostNetwork === true) {
        ports.push({
            port: "(every port)",
            hostPort: "(the same)",
            protocol: "tcp",
            bind: "every node",
            where: `${pod.at}.hostNetwork`,
            ...optionalStore(
                dataStoreOf(undefined, ...podContainers(view).map((c) => imageOfContainer(c.container)), view.name),
            ),
        });
    }
    for (const c of podContainers(view)) {
        const list = Array.isArray(c.container.ports) ? c.container.ports.filter(isRecord) : [];
        list.forEach((p, i) => {
            if (p.hostPort === undefined) {
                return;
            }
            const port = asPort(p.containerPort);
            ports.push({
                port: port ?? String(p.containerPort),
                hostPort: asPort(p.hostPort) ?? String(p.hostPort),
                protocol: typeof p.protocol === "string" ? p.protocol.toLowerCase() : "tcp",
                bind: typeof p.hostIP === "string" && p.hostIP !== "" ? p.hostIP : "0.0.0.0",
                where: `${c.at}.ports[${i}]`,
                ...optionalStore(dataStoreOf(port, imageOfContainer(c.container), String(c.container.name ?? ""))),
            });
        });
    }
    return ports;
}

function optionalStore(store: string | undefined): { dataStore?: string } {
    return store ? { dataStore: store } : {};
}

/** data-stores-on-loopback: a data store's published port must bind to loopback. */
export function exposureFindings(view: ResourceView, imageOf?: (id: string) => string | undefined): Finding[] {
    return publishedPorts(view, imageOf)
        .filter((p) => p.dataStore && !isLoopback(p.bind))
        .map((p) =>
            finding(
                view,
                "data-stores-on-loopback",
                `${p.dataStore} (port ${p.port}) is published on ${p.bind} port ${p.hostPort}; publish it on 127.0.0.1 only, or not at all`,
                p.where,
            ),
        );
}

// ---- data volumes

export interface DataVolume {
    urn: string;
    type: string;
    name: string;
    /** What holds the data: a Docker volume, a claim, a StatefulSet's claim templates, a namespace of claims. */
    kind: "docker volume" | "claim" | "claim template" | "namespace";
    kept: boolean;
    /** Why it is or is not kept. */
    how: string;
}

function namespaceOf(view: ResourceView): string | undefined {
    const metadata = isRecord(view.props.metadata) ? view.props.metadata : {};
    return typeof metadata.namespace === "string" ? metadata.namespace : undefined;
}

function metadataName(view: ResourceView): string | undefined {
    // Auto-named objects have their name only in the outputs.
    for (const source of [view.props.metadata, view.outputs?.metadata]) {
        if (isRecord(source) && typeof source.name === "string") {
            return source.name;
        }
    }
    return undefined;
}

/**
 * Everything in the stack that holds data, and whether it survives `pulumi destroy`. `keptBy` names the
 * evidence the caller could see (retainOnDelete or protect).
 */
export function dataVolumes(views: ResourceView[], keptBy: string): DataVolume[] {
    const volumes: DataVolume[] = [];
    const claimNamespaces = new Set<string>();
    for (const view of views) {
        const base = { urn: view.urn, type: view.type, name: view.name };
        if (view.type === DOCKER_VOLUME) {
            volumes.push({
                ...base,
                kind: "docker volume",
                kept: view.kept,
                how: view.kept ? keptBy : `not ${keptBy}`,
            });
        } else if (view.type === K8S_CLAIM) {
            volumes.push({ ...base, kind: "claim", kept: view.kept, how: view.kept ? keptBy : `not ${keptBy}` });
            claimNamespaces.add(namespaceOf(view) ?? "default");
        } else if (
            view.type === K8S_STATEFUL_SET &&
            isRecord(view.props.spec) &&
            Array.isArray(view.props.spec.volumeClaimTemplates) &&
            view.props.spec.volumeClaimTemplates.length > 0
        ) {
            const policy = isRecord(view.props.spec.persistentVolumeClaimRetentionPolicy)
                ? view.props.spec.persistentVolumeClaimRetentionPolicy
                : {};
            const deleted = policy.whenDeleted === "Delete";
            volumes.push({
                ...base,
                kind: "claim template",
                kept: !deleted,
                how: deleted
                    ? "persistentVolumeClaimRetentionPolicy.whenDeleted is Delete"
                    : "claims retained (whenDeleted Retain)",
            });
            claimNamespaces.add(namespaceOf(view) ?? "default");
        }
    }
    // Deleting a namespace deletes every claim in it, whatever their own options.
    for (const view of views.filter((v) => v.type === K8S_NAMESPACE)) {
        const name = metadataName(view);
        if (name && claimNamespaces.has(name)) {
            volumes.push({
                urn: view.urn,
                type: view.type,
                name: view.name,
                kind: "namespace",
                kept: view.kept,
                how: view.kept ? `${keptBy} (it holds claims)` : `not ${keptBy}, and deleting it deletes its claims`,
            });
        }
    }
    return volumes;
}

/** data-retained: every data volume, claim and claim-holding namespace is kept. */
export function retentionFindings(views: ResourceView[], keptBy: string): Finding[] {
    return dataVolumes(views, keptBy)
        .filter((v) => !v.kept)
        .map((v) => ({
            rule: "data-retained" as const,
            urn: v.urn,
            type: v.type,
            name: v.name,
            message: `${v.kind} is not kept when the stack is destroyed (${v.how}); data must survive \`pulumi destroy\` and replacements`,
        }));
}

// ---- plaintext secrets

/** Name parts (or their endings) that make a value a secret: `DB_PASSWORD`, `PGPASSWORD`, `NEXTAUTH_SECRET`. */
const SECRET_ENDINGS = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "PASSPHRASE", "CREDENTIAL", "CREDENTIALS"];
/** Whole name parts that do: `DB_PASS`, `FALKORDB_REQUIREPASS`, `PWD`. */
const SECRET_PARTS = new Set(["PASS", "PWD", "REQUIREPASS", "MASTERAUTH", "APIKEY"]);
const KEY_QUALIFIERS = new Set(["SECRET", "API", "ACCESS", "PRIVATE", "ENCRYPTION", "SIGNING", "AUTH"]);
/** Leading parts that make the name a switch about a secret, not the secret: `ALLOW_EMPTY_PASSWORD`, `--no-password`. */
const SWITCH_PARTS = new Set([
    "NO",
    "SKIP",
    "ALLOW",
    "EMPTY",
    "DISABLE",
    "ENABLE",
    "REQUIRE",
    "USE",
    "WITHOUT",
    "WITH",
]);

/** The parts of an env or property name: `NEXTAUTH_SECRET`, `secretKey`, `db-password`. */
function nameParts(name: string): string[] {
    return name
        .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
        .split(/[^A-Za-z0-9]+/)
        .filter((p) => p !== "")
        .map((p) => p.toUpperCase());
}

/**
 * True for names whose value is a secret, judged by the last part: `*_PASSWORD`, `PGPASSWORD`, `DB_PASS`,
 * `REQUIREPASS`, `SECRET_KEY`, `apiKey`. Not `POSTGRES_PASSWORD_FILE` or `TOKEN_EXPIRE_SECONDS`.
 */
export function isSecretName(name: string): boolean {
    const parts = nameParts(name);
    const last = parts[parts.length - 1];
    if (last === undefined || parts.slice(0, -1).some((p) => SWITCH_PARTS.has(p))) {
        return false;
    }
    return (
        SECRET_PARTS.has(last) ||
        SECRET_ENDINGS.some((ending) => last.endsWith(ending)) ||
        (last === "KEY" && parts.length > 1 && KEY_QUALIFIERS.has(parts[parts.length - 2]))
    );
}

/** A value that is only a reference to a secret held elsewhere, or nothing at all. */
function isPlaceholder(value: string): boolean {
    const v = value.trim();
    return (
        v === "" ||
        /^(yes|no|true|false|on|off)$/i.test(v) ||
        v === HIDDEN_SECRET ||
        /^\$\{[^}]+\}$|^\$\([^)]+\)$|^\$[A-Z_][A-Z0-9_]*$|^\{\{.*\}\}$/.test(v) ||
        v.startsWith("(known after deploy")
    );
}

const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/([^\s/:@]*):([^\s/@]+)@/gi;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
/** Redis settings that hold its password: `requirepass x`, also in a one-line file. */
const REDIS_SECRET_LINE = /^\s*(requirepass|masterauth)\s+"?([^"\s#]+)"?/gim;
/** Lines of a config file that set a secret: `password: x`, `token = x`. */
const CONFIG_SECRET_LINE = /^\s*(password|passwd|secret|token)\s*[:=]\s*"?([^"\s#]+)"?/gim;

/** A secret passed as a command-line flag: `--requirepass x` or `--password=x` (next is the following token). */
function flagSecret(token: string, next: string | undefined): string | undefined {
    const flag = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(token);
    if (!flag || !isSecretName(flag[1])) {
        return undefined;
    }
    const argument = flag[2] ?? (next !== undefined && !next.startsWith("-") ? next : undefined);
    return argument !== undefined && !isPlaceholder(argument) ? `argument ${token.split("=")[0]}` : undefined;
}

/** What in a string gives a secret away, if anything (described, never quoted). */
export function secretInText(text: string): string | undefined {
    for (const match of text.matchAll(URL_CREDENTIALS)) {
        if (!isPlaceholder(match[2])) {
            return "a URL with a password";
        }
    }
    if (PRIVATE_KEY.test(text)) {
        return "a private key";
    }
    for (const match of text.matchAll(REDIS_SECRET_LINE)) {
        if (!isPlaceholder(match[2])) {
            return `a '${match[1]}' setting`;
        }
    }
    // Only in file contents: a one-line value such as a description may well start with "Password: ...".
    if (text.includes("\n")) {
        for (const match of text.matchAll(CONFIG_SECRET_LINE)) {
            if (!isPlaceholder(match[2])) {
                return `a '${match[1]}' setting`;
            }
        }
    }
    // A command line in one string (`sh -c "redis-server --requirepass x"`).
    const tokens = text.trim().split(/\s+/);
    for (let i = 0; i < tokens.length && tokens.length > 1; i++) {
        const found = flagSecret(tokens[i], tokens[i + 1]);
        if (found) {
            return found;
        }
    }
    const assignment = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(text);
    if (assignment && isSecretName(assignment[1]) && !isPlaceholder(assignment[2])) {
        return `env ${assignment[1]}`;
    }
    return undefined;
}

/** Properties a provider always treats as secret, whatever their name. */
const SECRET_PROPERTIES: Record<string, string[]> = {
    "random:index/randomPassword:RandomPassword": ["result", "bcryptHash"],
    "random:index/randomString:RandomString": [],
    "tls:index/privateKey:PrivateKey": ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"],
    [K8S_SECRET]: ["data", "stringData"],
};

interface Exposed {
    where: string;
    what: string;
}

/** Every plaintext secret under `value`, by path. */
function exposedSecrets(value: unknown, at: string, out: Exposed[]): void {
    if (typeof value === "string") {
        const what = secretInText(value);
        if (what) {
            out.push({ where: at, what });
        }
    } else if (Array.isArray(value)) {
        value.forEach((v, i) => {
            // Command lines as lists: `["redis-server", "--requirepass", "x"]`, `["app", "--password=x"]`.
            const next = value[i + 1];
            const found =
                typeof v === "string" ? flagSecret(v, typeof next === "string" ? next : undefined) : undefined;
            if (found) {
                out.push({ where: `${at}[${v.includes("=") ? i : i + 1}]`, what: found });
            } else {
                exposedSecrets(v, `${at}[${i}]`, out);
            }
        });
    } else if (isRecord(value)) {
        // `{name: X, value: V}`: Kubernetes env entries and the like.
        if (
            typeof value.name === "string" &&
            typeof value.value === "string" &&
            isSecretName(value.name) &&
            !isPlaceholder(value.value)
        ) {
            out.push({ where: `${at}.value`, what: `env ${value.name}` });
        }
        for (const [key, v] of Object.entries(value)) {
            if (typeof v === "string" && key !== "value" && isSecretName(key) && !isPlaceholder(v)) {
                out.push({ where: propertyPath(at, key), what: `property ${key}` });
            } else {
                exposedSecrets(v, propertyPath(at, key), out);
            }
        }
    }
}

function hasContent(value: unknown): boolean {
    if (value === undefined || value === null || value === HIDDEN_SECRET) {
        return false;
    }
    if (typeof value === "string") {
        return !isPlaceholder(value);
    }
    if (Array.isArray(value)) {
        return value.some(hasContent);
    }
    if (isRecord(value)) {
        return Object.values(value).some(hasContent);
    }
    return true;
}

/**
 * no-plaintext-secrets. Where secrets are marked (the audit), any secret-looking value left unmarked in inputs or
 * outputs is one. Where they are not (the policy pack sees every value unwrapped), the rule asks for what can
 * be seen: a secret-looking value must sit in a Kubernetes Secret or in a property the resource declares secret
 * (additionalSecretOutputs, which generated SDKs set for their schema's secret properties and the program sets
 * where it passes secrets). So Kubernetes env must take secrets from a Secret (valueFrom), and a ConfigMap
 * holds none.
 */
export function plaintextSecretFindings(view: ResourceView): Finding[] {
    const findings: Finding[] = [];
    const report = (where: string, what: string) =>
        findings.push(
            finding(
                view,
                "no-plaintext-secrets",
                `${what} is stored in plaintext; make it a Pulumi secret (and on Kubernetes, take it from a Secret)`,
                where,
            ),
        );
    if (view.secretsMarked) {
        for (const [section, values] of [
            ["inputs", view.props],
            ["outputs", view.outputs ?? {}],
        ] as const) {
            for (const property of SECRET_PROPERTIES[view.type] ?? []) {
                if (hasContent(values[property])) {
                    report(`${section}.${property}`, `${view.type.split(":").pop()} ${property}`);
                }
            }
            const exposed: Exposed[] = [];
            for (const [key, value] of Object.entries(values)) {
                if (!(SECRET_PROPERTIES[view.type] ?? []).includes(key)) {
                    exposedSecrets({ [key]: value }, section, exposed);
                }
            }
            for (const e of exposed) {
                report(e.where, e.what);
            }
        }
        return findings;
    }
    if (view.type === K8S_SECRET) {
        return findings;
    }
    const exposed: Exposed[] = [];
    for (const [key, value] of Object.entries(view.props)) {
        // Declared secret by the resource (by its SDK's schema or by the program): the state holds it encrypted.
        if (!view.additionalSecretOutputs.includes(key)) {
            exposedSecrets({ [key]: value }, "inputs", exposed);
        }
    }
    for (const e of exposed) {
        report(e.where, e.what);
    }
    return findings;
}
