/**
 * Reads every `bklite:*` key from a config source, applies defaults and checks everything at once. Nothing
 * here touches Pulumi resources: the program calls it before registering any, and `bklite plan` and the tests
 * call it directly.
 */
import * as net from "net";
import { DEFAULT_IMAGES, SERVICES, SERVICE_NAMES, UNSUPPORTED_APPS } from "../services/catalog";
import { isRecord } from "../util/json";
import {
    AgentEndpoints,
    DEFAULT_REGION,
    RegionConfig,
    agentEndpoints,
    checkNodeServerUrl,
    checkRegions,
} from "../services/regions";
import {
    ImagesConfig,
    checkRegistryPrefix,
    isFloatingLatest,
    parseImageRef,
    resolveImageRef,
} from "../supply/imageRefs";
import {
    SecurityConfig,
    checkDataStoreExposure,
    dataStorePorts,
    isWorldOpen,
    parseSecurityConfig,
} from "../security/rules";
import {
    CONFIG_KEYS,
    DEFAULT_BACKUP,
    backupKeepProblem,
    CONFIG_NAMESPACE,
    KNOWN_APPS,
    RUNTIMES,
    RuntimeName,
    SECRET_KEYS,
    SecretName,
    STRUCTURED_KEYS,
} from "./keys";
import { InputError } from "../util/inputError";
import { checkPackage, packageRowKey } from "../seed/packageRules";

/** One thing wrong with the config: which key, what value (never a secret's), and what to do. */
export interface ConfigProblem {
    /** Key path under the namespace, e.g. `hostAddress` or `regions[1].nodeServerUrl`. */
    key: string;
    /** The offending value as written, or undefined when it is missing or secret. */
    value?: string;
    /** What is wrong and how to fix it. */
    message: string;
}

/** Raw config: key (without namespace) to the string Pulumi stores (JSON for objects and lists). */
export interface ConfigSource {
    get(key: string): string | undefined;
    /** Every key set in the namespace, to catch typos. */
    keys(): string[];
    /** Keys set but encrypted, whose values this reader cannot see (stack files read without the passphrase). */
    encrypted?(): string[];
    /** Whether a key's value is held as a secret; a secret key given in plaintext is refused. */
    isSecret(key: string): boolean;
    /** Every key set outside the namespace, full (`bklit:hostAddress`), to catch a misspelt namespace. */
    otherKeys?(): string[];
}

export interface ProbePackageConfig {
    /** Path of the package file, relative to the project directory or absolute. */
    file: string;
    version: string;
    os: "linux" | "windows";
    /** A controller zip gets the stack's CA; a collector package is that collector's own file. */
    type: "controller" | "collector";
    object: string;
}

export interface KubernetesConfig {
    namespace: string;
    /** kubeconfig context to deploy to (default: the current context). */
    context?: string;
    storageClass?: string;
    /** Size of each data volume claim, e.g. 10Gi. */
    volumeSize: string;
    imagePullSecrets: string[];
    /** How Traefik and NATS are exposed to browsers and agents outside the cluster. */
    serviceType: "NodePort" | "LoadBalancer";
    /** Fixed node ports by port name (NodePort): http (Traefik) and nats. */
    nodePorts: { http: number; nats: number };
    /** Resource requests per service, e.g. {server: {cpu: "1", memory: 2Gi}}. */
    resources: Record<string, { cpu?: string; memory?: string }>;
    /** The IngressClass the stack owns (k3s ships its own `traefik` class: disable k3s's Traefik, or pick another). */
    ingressClass: string;
    /** Create the namespace (default), or use an existing one (e.g. one holding a pull secret made by hand). */
    createNamespace: boolean;
    /**
     * The node at hostAddress (NodePort): Traefik and NATS run there and their node ports keep clients' addresses
     * (Local), so NetworkPolicies enforce the security rules' sources. Unset, node ports answer on every node (Cluster).
     */
    edgeNode?: string;
    /** The registry the cluster pulls from and its user: with the secret registryPassword, the program makes the pull secret. */
    registryAuth?: { server: string; username: string };
    /**
     * `own`: the stack runs its own Traefik, IngressClass and RBAC. `cluster`: the cluster's Traefik (k3s's) serves the
     * stack's Ingresses, which are all the stack creates for it, on port 80.
     */
    ingress: "own" | "cluster";
    /** With `ingress: cluster`: the namespace of the cluster's Traefik pods, which NetworkPolicies let through. */
    ingressNamespace: string;
    /** Behind load balancers: the address the NATS load balancer gets (the http one is hostAddress). */
    natsAddress?: string;
}

/** Backups before an upgrade (`bklite:backup`). */
export interface BackupConfig {
    /** Where `pulumi up` writes the backup it takes before images change; relative to the project directory. */
    dir: string;
    /** How many of the stack's backups to keep there (older ones are removed). */
    keep: number;
    /** Take a backup when `pulumi up` changes an image (default true). */
    beforeUpgrade: boolean;
}

/** Default node ports: Traefik on 30080 (seed 004's advice), NATS on 30422. */
export const DEFAULT_NODE_PORTS = { http: 30080, nats: 30422 } as const;

/** The validated config of one stack. It never holds a secret value, so it may be passed anywhere. */
export interface StackConfig {
    runtime: RuntimeName;
    hostAddress: string;
    offline: boolean;
    /** `bklite verify` runs as the last step of `pulumi up`. */
    verify: boolean;
    ports: { http: number; nats: number; postgres: number };
    publicUrl: string;
    installApps: string[];
    images: ImagesConfig;
    /** Every region, `default` first. */
    regions: RegionConfig[];
    probePackages: ProbePackageConfig[];
    security: SecurityConfig;
    kubernetes: KubernetesConfig;
    backup: BackupConfig;
    /** Secrets given in config; the others are generated. */
    providedSecrets: SecretName[];
}

/** Thrown when the config has problems; its message lists every one. */
export class ConfigError extends InputError {
    constructor(public readonly problems: ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

/** One line per problem: `bklite:key = value: message`. */
export function formatProblems(problems: ReadonlyArray<ConfigProblem>): string {
    const lines = problems.map(
        (p) =>
            `  - ${p.key.includes(":") ? p.key : `${CONFIG_NAMESPACE}:${p.key}`}${p.value !== undefined ? ` = ${p.value}` : ""}: ${p.message}`,
    );
    return `the stack config has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was deployed:\n${lines.join("\n")}`;
}

const HOSTNAME =
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Characters a given secret may use: they go into URLs and config files unescaped. */
const SECRET_CHARS = /^[A-Za-z0-9._~-]+$/;
const SECRET_MIN_LENGTH = 16;
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** StorageClass and node names: DNS subdomains (lowercase letters, digits, - and ., at most 253). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes resource quantity (`500m`, `2`, `1.5`, `512Mi`, `10Gi`, `1e3`), as the API server parses them. */
function isQuantity(text: string): boolean {
    return /^[0-9]+(\.[0-9]+)?([eE][0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/.test(text);
}

/** Checks a host address: an IP address clients can reach, or a DNS name. */
export function checkHostAddress(address: string): string | undefined {
    if (address === "") {
        return "is empty";
    }
    const family = net.isIP(address);
    if (family !== 0) {
        if (address === "0.0.0.0" || address === "::") {
            return "is the unspecified address, which no browser or agent can connect to";
        }
        return undefined;
    }
    if (/^[0-9.]+$/.test(address)) {
        return "is not a valid IPv4 address";
    }
    if (!HOSTNAME.test(address)) {
        return "is not an IP address or DNS name";
    }
    return undefined;
}

/** The longest config value read: the largest real one (a list of probe packages) is a few KiB. */
export const MAX_CONFIG_VALUE_CHARS = 64 * 1024;
/** How much of a bad value a problem quotes. */
const QUOTED_VALUE_CHARS = 200;

/** A value as a problem quotes it: JSON, cut short. */
function quoted(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > QUOTED_VALUE_CHARS
        ? `${text.slice(0, QUOTED_VALUE_CHARS)}… (${text.length} characters)`
        : text;
}

/** Validates the whole config; returns the typed config, or every problem found. */
export function parseStackConfig(
    given: ConfigSource,
): { config: StackConfig; problems: [] } | { config?: undefined; problems: ConfigProblem[] } {
    const problems: ConfigProblem[] = [];
    // Sizes first, before any value is parsed or matched: an oversized value is refused, and nothing else is said of it.
    const oversized = new Set(given.keys().filter((key) => (given.get(key)?.length ?? 0) > MAX_CONFIG_VALUE_CHARS));
    for (const key of oversized) {
        problems.push({
            key,
            message: `is ${given.get(key)!.length} characters long; a value holds at most ${MAX_CONFIG_VALUE_CHARS}: check what was set (a file's contents pasted in?)`,
        });
    }
    const add = (key: string, message: string, value?: unknown) => {
        if (!oversized.has(/^[^.[]*/.exec(key)![0])) {
            problems.push({ key, message, value: value === undefined ? undefined : quoted(value) });
        }
    };
    const source: ConfigSource = {
        get: (key) => (oversized.has(key) ? undefined : given.get(key)),
        keys: () => given.keys(),
        encrypted: given.encrypted && (() => given.encrypted!()),
        isSecret: (key) => given.isSecret(key),
        otherKeys: given.otherKeys && (() => given.otherKeys!()),
    };

    for (const key of source.keys()) {
        if (!(key in CONFIG_KEYS)) {
            const known = Object.keys(CONFIG_KEYS).find((k) => k.toLowerCase() === key.toLowerCase());
            add(
                key,
                `is not a config key of this project${known ? `; did you mean ${CONFIG_NAMESPACE}:${known}?` : ` (known keys: ${Object.keys(CONFIG_KEYS).join(", ")})`}`,
            );
        }
    }

    // A key in another namespace is another program's (docker:host, kubernetes:context), unless the namespace is a
    // slip of `bklite` or missing: then the program would never see it.
    for (const full of source.otherKeys?.() ?? []) {
        const colon = full.indexOf(":");
        const namespace = colon < 0 ? "" : full.slice(0, colon);
        const key = full.slice(colon + 1);
        if (
            colon < 0 ||
            (namespace !== CONFIG_NAMESPACE && editDistance(namespace.toLowerCase(), CONFIG_NAMESPACE) <= 2)
        ) {
            add(
                full,
                `is not in the ${CONFIG_NAMESPACE} namespace, so the program never reads it; did you mean ${CONFIG_NAMESPACE}:${key}?`,
            );
        }
    }

    const structured = new Set<string>(STRUCTURED_KEYS);
    const raw = (key: string): unknown => {
        const text = source.get(key);
        const decl = CONFIG_KEYS[key];
        if (text === undefined) {
            return decl.default;
        }
        if (decl.type === "string") {
            return text;
        }
        try {
            return JSON.parse(text);
        } catch {
            const example =
                structured.has(key) || decl.type === "array"
                    ? "a YAML object or list in the stack file"
                    : `a ${decl.type}`;
            add(key, `is not valid ${decl.type}; write ${example}`, decl.secret ? undefined : text);
            return decl.default;
        }
    };

    // runtime
    const runtime = raw("runtime");
    if (!(RUNTIMES as ReadonlyArray<unknown>).includes(runtime)) {
        add("runtime", `must be one of ${RUNTIMES.join(", ")}`, runtime);
    }

    // hostAddress
    const hostAddressRaw = source.get("hostAddress");
    let hostAddress = "";
    if (hostAddressRaw === undefined || hostAddressRaw.trim() === "") {
        add(
            "hostAddress",
            "is missing; set the address browsers and agents use, e.g. `pulumi config set bklite:hostAddress 192.168.31.10`",
        );
    } else {
        const problem = checkHostAddress(hostAddressRaw);
        if (problem) {
            add(
                "hostAddress",
                `${problem}; set the IP address or DNS name browsers and agents use, e.g. 192.168.31.10`,
                hostAddressRaw,
            );
        } else {
            hostAddress = hostAddressRaw;
        }
    }

    // offline
    const offlineRaw = raw("offline");
    let offline = true;
    if (typeof offlineRaw !== "boolean") {
        add("offline", "must be true or false", offlineRaw);
    } else {
        offline = offlineRaw;
    }

    // verify
    const verifyRaw = raw("verify");
    if (typeof verifyRaw !== "boolean") {
        add("verify", "must be true or false", verifyRaw);
    }
    const verify = verifyRaw !== false;

    // ports
    const ports = { http: 8080, nats: 24222, postgres: 25432 };
    const portKeys = { http: "httpPort", nats: "natsPort", postgres: "postgresPort" } as const;
    for (const [name, key] of Object.entries(portKeys) as Array<[keyof typeof ports, string]>) {
        const value = raw(key);
        if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
            add(key, "must be a port number from 1 to 65535", value);
        } else {
            ports[name] = value;
        }
    }
    const byPort = new Map<number, string[]>();
    for (const [name, key] of Object.entries(portKeys) as Array<[keyof typeof ports, string]>) {
        byPort.set(ports[name], [...(byPort.get(ports[name]) ?? []), key]);
    }
    for (const [port, keys] of byPort) {
        if (keys.length > 1) {
            add(
                keys[1],
                `uses host port ${port}, which ${keys
                    .slice(0, -1)
                    .map((k) => `${CONFIG_NAMESPACE}:${k}`)
                    .join(", ")} also uses; give each service its own port`,
                port,
            );
        }
    }

    // publicUrl
    const publicUrlRaw = raw("publicUrl");
    let publicUrl = "";
    if (typeof publicUrlRaw === "string" && publicUrlRaw !== "") {
        const problem = checkNodeServerUrl(publicUrlRaw);
        if (problem) {
            add("publicUrl", `${problem}; leave it empty to use http://<hostAddress>:<httpPort>`, publicUrlRaw);
        } else {
            publicUrl = publicUrlRaw.replace(/\/$/, "");
        }
    }

    // installApps
    const appsRaw = raw("installApps");
    let installApps = [...(CONFIG_KEYS.installApps.default as string[])];
    if (!Array.isArray(appsRaw) || !appsRaw.every((a) => typeof a === "string")) {
        add("installApps", "must be a list of app names", appsRaw);
    } else {
        const unknown = appsRaw.filter((a) => !(KNOWN_APPS as ReadonlyArray<string>).includes(a));
        const unsupported = appsRaw.filter((a) => a in UNSUPPORTED_APPS);
        const supported = KNOWN_APPS.filter((a) => !(a in UNSUPPORTED_APPS));
        if (unknown.length > 0) {
            add("installApps", `has unknown apps ${unknown.join(", ")}; known apps: ${supported.join(", ")}`, appsRaw);
        } else if (unsupported.length > 0) {
            add(
                "installApps",
                `${unsupported.map((a) => `${a} ${UNSUPPORTED_APPS[a]}`).join("; ")}; remove it (apps this program runs: ${supported.join(", ")})`,
                appsRaw,
            );
        } else if (new Set(appsRaw).size !== appsRaw.length) {
            add("installApps", "lists an app twice", appsRaw);
        } else if (!appsRaw.includes("node_mgmt")) {
            add(
                "installApps",
                "must include node_mgmt: it creates the default cloud region and the collector definitions agents need",
                appsRaw,
            );
        } else {
            installApps = appsRaw;
        }
    }

    // images
    const images = parseImages(raw("images"), offline, add);

    // regions
    // kubernetes: parsed before the regions, whose derived URLs use its node ports
    const kubernetes = parseKubernetes(raw("kubernetes"), add);

    // Checked as written, so every path points at the stack file's own list.
    const regions = parseRegions(raw("regions"), add);
    const endpoints: AgentEndpoints | undefined =
        hostAddress === ""
            ? undefined
            : agentEndpoints({
                  runtime: runtime === "kubernetes" ? "kubernetes" : "docker",
                  hostAddress,
                  ports,
                  kubernetes,
              });
    for (const p of checkRegions(regions, endpoints)) {
        problems.push({
            key: p.path,
            value: p.value === undefined ? undefined : JSON.stringify(p.value),
            message: p.message,
        });
    }

    // backup
    const backup = parseBackup(raw("backup"), add);

    // probePackages
    const probePackages = parseProbePackages(raw("probePackages"), add);

    // security
    const security = parseSecurityConfig(raw("security"));
    security.problems.push(...checkDataStoreExposure(security.security.rules, dataStorePorts([ports.postgres])));
    for (const p of security.problems) {
        problems.push({ key: p.path, value: p.value, message: p.message });
    }

    // Node ports without an edge node answer on every node and hide clients' addresses: source rules would not hold.
    if (runtime === "kubernetes" && kubernetes.serviceType === "NodePort" && kubernetes.edgeNode === undefined) {
        for (const rule of security.security.rules) {
            const ownHttp =
                kubernetes.ingress === "own" && (rule.port === "http" || rule.port === kubernetes.nodePorts.http);
            const published = ownHttp || rule.port === "nats" || rule.port === kubernetes.nodePorts.nats;
            if (published && !rule.sources.some(isWorldOpen)) {
                add(
                    `security.rules[${rule.at ?? 0}].sources`,
                    `limits who reaches ${rule.port}, but node ports answer on every node of the cluster and NetworkPolicies then see that node's address, not the client's: ` +
                        "set bklite:kubernetes.edgeNode to the node at hostAddress (`kubectl get nodes -o wide`), which runs Traefik and NATS and keeps clients' addresses, or use kubernetes.serviceType LoadBalancer",
                    JSON.stringify(rule.sources),
                );
            }
        }
    }

    // The cluster's Traefik takes the console's connections: the stack cannot limit who makes them.
    if (runtime === "kubernetes" && kubernetes.ingress === "cluster") {
        for (const rule of security.security.rules.filter((r) => r.port === "http" && !r.sources.some(isWorldOpen))) {
            add(
                `security.rules[${rule.at ?? 0}].sources`,
                "limits who reaches http, but with kubernetes.ingress cluster the cluster's Traefik takes those connections, outside the stack: limit them there (or in the site's firewall) and drop this rule, or use kubernetes.ingress own",
                JSON.stringify(rule.sources),
            );
        }
    }

    // Two load balancers get two addresses: agents must be told the NATS one.
    const natsAddressRefused = problems.some((p) => p.key === "kubernetes.natsAddress");
    if (
        runtime === "kubernetes" &&
        kubernetes.serviceType === "LoadBalancer" &&
        kubernetes.natsAddress === undefined &&
        !natsAddressRefused
    ) {
        add(
            "kubernetes.natsAddress",
            "is missing: behind load balancers Traefik and NATS each get an address, and agents must be told NATS's: set it to the nats-external load balancer's address " +
                "(the same as hostAddress when your load balancer shares one address between Services, e.g. MetalLB's allow-shared-ip)",
        );
    }
    if (runtime === "kubernetes" && kubernetes.serviceType !== "LoadBalancer" && kubernetes.natsAddress !== undefined) {
        add(
            "kubernetes.natsAddress",
            "applies only behind load balancers (serviceType LoadBalancer); with node ports agents reach NATS at hostAddress",
            kubernetes.natsAddress,
        );
    }

    // A pull secret must exist before the pods that name it, in their namespace.
    if (runtime === "kubernetes" && kubernetes.createNamespace && kubernetes.imagePullSecrets.length > 0) {
        add(
            "kubernetes.imagePullSecrets",
            "names pull secrets in a namespace the stack creates, where nothing can have made them (pods would sit in ImagePullBackOff): " +
                "give the registry's credentials instead (bklite:kubernetes.registryAuth {server, username} and `pulumi config set --secret bklite:registryPassword`), " +
                "or create the namespace and its pull secret by hand and set bklite:kubernetes.createNamespace false",
            JSON.stringify(kubernetes.imagePullSecrets),
        );
    }

    // secrets
    const providedSecrets: SecretName[] = [];
    const encrypted = new Set(source.encrypted?.() ?? []);
    for (const key of Object.keys(SECRET_KEYS) as SecretName[]) {
        if (encrypted.has(key)) {
            providedSecrets.push(key);
            continue;
        }
        const value = source.get(key);
        if (value === undefined || value === "") {
            continue;
        }
        if (!source.isSecret(key)) {
            add(
                key,
                `(not shown) is stored in plaintext in the stack file; remove it and set it with \`pulumi config set --secret ${CONFIG_NAMESPACE}:${key} <value>\`, or remove it to have one generated`,
            );
        } else if (value.length < SECRET_MIN_LENGTH || !SECRET_CHARS.test(value)) {
            add(
                key,
                `(secret, not shown) must be at least ${SECRET_MIN_LENGTH} characters of A-Z a-z 0-9 . _ ~ - (it is used unescaped in URLs and config files); ` +
                    `set a new one with \`pulumi config set --secret ${CONFIG_NAMESPACE}:${key}\`, or remove it to have one generated`,
            );
        } else {
            providedSecrets.push(key);
        }
    }

    // The registry's password and its server and user come together.
    if (kubernetes.registryAuth !== undefined && !providedSecrets.includes("registryPassword")) {
        add(
            "kubernetes.registryAuth",
            "is set but bklite:registryPassword is not: set it with `pulumi config set --secret bklite:registryPassword <password>`",
        );
    }
    if (providedSecrets.includes("registryPassword") && kubernetes.registryAuth === undefined) {
        add(
            "registryPassword",
            "(secret, not shown) is set but bklite:kubernetes.registryAuth is not: give the registry as {server, username}, or remove the password",
        );
    }

    // Rotating SECRET_KEY: the new one is given, and differs from the one before (when both can be read).
    if (providedSecrets.includes("previousSecretKey")) {
        if (!providedSecrets.includes("secretKey")) {
            add(
                "previousSecretKey",
                "(secret, not shown) is set but bklite:secretKey is not: a rotation sets the new key with `pulumi config set --secret bklite:secretKey <new>`; remove previousSecretKey if no rotation is meant",
            );
        } else if (
            source.get("previousSecretKey") !== undefined &&
            source.get("previousSecretKey") === source.get("secretKey")
        ) {
            add(
                "previousSecretKey",
                "(secret, not shown) is the same as bklite:secretKey: it must be the key before the rotation; remove it once a rotation is done",
            );
        }
    }

    if (problems.length > 0) {
        return { problems };
    }
    return {
        problems: [],
        config: {
            runtime: runtime as RuntimeName,
            hostAddress,
            offline,
            verify,
            ports,
            publicUrl,
            installApps,
            images,
            regions: withDefaultRegionFirst(regions),
            probePackages,
            security: security.security,
            kubernetes,
            backup,
            providedSecrets,
        },
    };
}

type AddProblem = (key: string, message: string, value?: unknown) => void;

/** Levenshtein distance, for names that are probably misspelt. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
            );
        }
        previous = current;
    }
    return previous[b.length];
}

/**
 * Settings the stack file sets that its runtime does not use: not refused (a stack may keep its Kubernetes settings
 * ready for when it moves), but said, so nothing is ignored silently.
 */
export function unusedSettings(config: StackConfig, keysSet: ReadonlyArray<string>): string[] {
    const unused: string[] = [];
    if (config.runtime === "docker" && keysSet.includes("kubernetes")) {
        unused.push(
            `${CONFIG_NAMESPACE}:kubernetes is set, but ${CONFIG_NAMESPACE}:runtime is docker: it applies only on a cluster`,
        );
    }
    if (config.runtime === "kubernetes") {
        for (const key of ["httpPort", "natsPort", "postgresPort"].filter((k) => keysSet.includes(k))) {
            unused.push(
                `${CONFIG_NAMESPACE}:${key} is set, but on a cluster ports come from ${CONFIG_NAMESPACE}:kubernetes.nodePorts (or the load balancer): it is not used`,
            );
        }
        if (config.security.hostFirewall) {
            unused.push(
                `${CONFIG_NAMESPACE}:security.hostFirewall is on, but on a cluster the rules become NetworkPolicies and load balancer source ranges: no host firewall is made`,
            );
        }
    }
    return unused;
}

function parseImages(value: unknown, offline: boolean, add: AddProblem): ImagesConfig {
    if (!isRecord(value)) {
        add("images", "must be an object {registry?, tag?, overrides?}", value);
        return {};
    }
    const images: ImagesConfig = {};
    for (const key of Object.keys(value)) {
        if (!["registry", "tag", "overrides", "bundleDir"].includes(key)) {
            add(`images.${key}`, "is not a known images setting (registry, tag, overrides, bundleDir)");
        }
    }
    if (value.registry !== undefined) {
        const problem = typeof value.registry === "string" ? checkRegistryPrefix(value.registry) : "must be a string";
        if (problem) {
            add("images.registry", problem, value.registry);
        } else {
            images.registry = value.registry as string;
        }
    }
    if (value.bundleDir !== undefined) {
        if (typeof value.bundleDir !== "string" || value.bundleDir.trim() === "" || /[\n\r\0]/.test(value.bundleDir)) {
            add("images.bundleDir", "must be a directory path, e.g. assets/images", value.bundleDir);
        } else {
            images.bundleDir = value.bundleDir;
        }
    }
    if (value.tag !== undefined) {
        const tag = value.tag;
        if (typeof tag !== "string" || typeof parseImageRef(`x:${tag}`) === "string") {
            add("images.tag", "is not a valid image tag", tag);
        } else {
            images.tag = tag;
        }
    }
    if (value.overrides !== undefined) {
        if (!isRecord(value.overrides)) {
            add("images.overrides", "must map service names to image refs", value.overrides);
        } else {
            const overrides: Record<string, string> = {};
            for (const [service, refValue] of Object.entries(value.overrides)) {
                if (!(SERVICE_NAMES as ReadonlyArray<string>).includes(service)) {
                    add(
                        `images.overrides.${service}`,
                        `names no service of the stack; services are ${SERVICE_NAMES.join(", ")}`,
                        refValue,
                    );
                    continue;
                }
                const parsed = typeof refValue === "string" ? parseImageRef(refValue) : "must be an image ref string";
                const unfit =
                    typeof parsed === "string"
                        ? parsed
                        : SERVICES.find((s) => s.name === service)!.checkImage?.(parsed);
                if (unfit !== undefined) {
                    add(`images.overrides.${service}`, unfit, refValue);
                } else {
                    overrides[service] = refValue as string;
                }
            }
            images.overrides = overrides;
        }
    }
    if (offline) {
        // One problem per key to change, naming every service it pins to latest.
        const latest = new Map<string, string[]>();
        for (const service of SERVICE_NAMES) {
            let resolved: string;
            try {
                resolved = resolveImageRef(service, DEFAULT_IMAGES[service], images);
            } catch {
                continue; // a malformed override, reported above
            }
            if (isFloatingLatest(resolved)) {
                const where = images.overrides?.[service] !== undefined ? `images.overrides.${service}` : "images.tag";
                latest.set(where, [...(latest.get(where) ?? []), `${service} -> ${resolved}`]);
            }
        }
        for (const [where, resolved] of latest) {
            const given =
                where === "images.tag" ? images.tag : images.overrides?.[where.slice("images.overrides.".length)];
            add(
                where,
                `resolves to latest (${resolved.join(", ")}); an offline site needs the pinned tag that was bundled, e.g. v0.3.5`,
                given,
            );
        }
    }
    return images;
}

function parseRegions(value: unknown, add: AddProblem): RegionConfig[] {
    if (!Array.isArray(value)) {
        add("regions", "must be a list of regions [{name, nodeServerUrl?, env?}]", value);
        return [{ name: DEFAULT_REGION }];
    }
    const regions: RegionConfig[] = [];
    value.forEach((r: unknown, i: number) => {
        if (!isRecord(r) || typeof r.name !== "string") {
            add(`regions[${i}]`, "must be an object with a `name`", r);
            return;
        }
        for (const key of Object.keys(r)) {
            if (!["name", "nodeServerUrl", "env"].includes(key)) {
                add(`regions[${i}].${key}`, "is not a region setting (name, nodeServerUrl, env)");
            }
        }
        const region: RegionConfig = { name: r.name };
        if (r.nodeServerUrl !== undefined) {
            if (typeof r.nodeServerUrl !== "string") {
                add(`regions[${i}].nodeServerUrl`, "must be a URL string like http://10.1.0.5:8080", r.nodeServerUrl);
            } else {
                region.nodeServerUrl = r.nodeServerUrl;
            }
        }
        if (r.env !== undefined) {
            if (!isRecord(r.env)) {
                add(`regions[${i}].env`, "must map SidecarEnv keys to string values", r.env);
            } else {
                region.env = r.env as Record<string, string>;
            }
        }
        regions.push(region);
    });
    return regions;
}

/** The regions of a stack, `default` first (added when not listed), so ids and output order are stable. */
function withDefaultRegionFirst(regions: RegionConfig[]): RegionConfig[] {
    const given = regions.find((r) => r.name === DEFAULT_REGION);
    return [given ?? { name: DEFAULT_REGION }, ...regions.filter((r) => r.name !== DEFAULT_REGION)];
}

function parseProbePackages(value: unknown, add: AddProblem): ProbePackageConfig[] {
    if (!Array.isArray(value)) {
        add("probePackages", "must be a list of packages [{file, version, ...}]", value);
        return [];
    }
    const packages: ProbePackageConfig[] = [];
    const seen = new Map<string, number>();
    value.forEach((p: unknown, i: number) => {
        const path = `probePackages[${i}]`;
        if (!isRecord(p)) {
            add(path, "must be an object {file, version, os?, type?, object?}", p);
            return;
        }
        // Defaults first, then the rules seeding applies too.
        const type = p.type ?? "controller";
        const withDefaults = {
            ...p,
            os: p.os ?? "linux",
            type,
            object: p.object ?? (type === "controller" ? "Controller" : undefined),
        };
        const problems = checkPackage(withDefaults, ["file", "version", "os", "type", "object"]);
        for (const problem of problems) {
            add(`${path}.${problem.field}`, problem.message, p[problem.field]);
        }
        if (problems.length === 0) {
            const pkg = withDefaults as unknown as ProbePackageConfig;
            const key = packageRowKey(pkg);
            const first = seen.get(key);
            if (first !== undefined) {
                add(`${path}`, `is the same os/object/version (${key}) as probePackages[${first}]; bump the version`);
            }
            seen.set(key, i);
            packages.push({ file: pkg.file, version: pkg.version, os: pkg.os, type: pkg.type, object: pkg.object });
        }
    });
    return packages;
}

function parseBackup(value: unknown, add: AddProblem): BackupConfig {
    const backup: BackupConfig = { ...DEFAULT_BACKUP };
    if (value === undefined) {
        return backup;
    }
    if (!isRecord(value)) {
        add("backup", "must be an object {dir, keep, beforeUpgrade}", JSON.stringify(value));
        return backup;
    }
    const v = value;
    const known = Object.keys(DEFAULT_BACKUP);
    for (const key of Object.keys(v).filter((k) => !known.includes(k))) {
        add(`backup.${key}`, `is not a backup setting (${known.join(", ")})`);
    }
    if (v.dir !== undefined) {
        if (typeof v.dir !== "string" || v.dir.trim() === "" || v.dir.includes("\0")) {
            add(
                "backup.dir",
                "must be a directory path, e.g. /srv/bklite-backups (relative paths are from the project directory)",
                JSON.stringify(v.dir),
            );
        } else {
            backup.dir = v.dir;
        }
    }
    if (v.keep !== undefined) {
        const problem = backupKeepProblem(v.keep);
        if (problem) {
            add("backup.keep", problem, JSON.stringify(v.keep));
        } else {
            backup.keep = v.keep as number;
        }
    }
    if (v.beforeUpgrade !== undefined) {
        if (typeof v.beforeUpgrade !== "boolean") {
            add("backup.beforeUpgrade", "must be true or false", JSON.stringify(v.beforeUpgrade));
        } else {
            backup.beforeUpgrade = v.beforeUpgrade;
        }
    }
    return backup;
}

function parseKubernetes(value: unknown, add: AddProblem): KubernetesConfig {
    const config: KubernetesConfig = {
        namespace: "bklite",
        volumeSize: "10Gi",
        imagePullSecrets: [],
        serviceType: "NodePort",
        nodePorts: { ...DEFAULT_NODE_PORTS },
        resources: {},
        ingressClass: "traefik",
        createNamespace: true,
        ingress: "own",
        ingressNamespace: "kube-system",
    };
    if (!isRecord(value)) {
        add(
            "kubernetes",
            "must be an object {namespace, context, storageClass, volumeSize, imagePullSecrets, serviceType, nodePorts, resources}",
            value,
        );
        return config;
    }
    const known = [
        "namespace",
        "context",
        "storageClass",
        "volumeSize",
        "imagePullSecrets",
        "serviceType",
        "nodePorts",
        "resources",
        "ingressClass",
        "createNamespace",
        "edgeNode",
        "registryAuth",
        "ingress",
        "ingressNamespace",
        "natsAddress",
    ];
    for (const key of Object.keys(value)) {
        if (!known.includes(key)) {
            add(`kubernetes.${key}`, `is not a kubernetes setting (${known.join(", ")})`);
        }
    }
    if (value.namespace !== undefined) {
        if (typeof value.namespace !== "string" || !K8S_NAME.test(value.namespace) || value.namespace.length > 63) {
            add(
                "kubernetes.namespace",
                "must be a Kubernetes name (lowercase letters, digits, -; at most 63)",
                value.namespace,
            );
        } else if (value.namespace.startsWith("kube-")) {
            add(
                "kubernetes.namespace",
                "is reserved for Kubernetes itself (kube-*); use one of the platform's own, e.g. bklite",
                value.namespace,
            );
        } else {
            config.namespace = value.namespace;
        }
    }
    if (value.context !== undefined) {
        if (typeof value.context !== "string" || value.context.trim() === "") {
            add("kubernetes.context", "must be the name of a kubeconfig context", value.context);
        } else {
            config.context = value.context;
        }
    }
    if (value.storageClass !== undefined) {
        // A StorageClass name is a DNS subdomain: lowercase letters, digits, - and ., at most 253.
        if (
            typeof value.storageClass !== "string" ||
            value.storageClass.length > 253 ||
            !DNS_SUBDOMAIN.test(value.storageClass)
        ) {
            add(
                "kubernetes.storageClass",
                "must be a StorageClass name (lowercase letters, digits, - and .), e.g. local-path",
                value.storageClass,
            );
        } else {
            config.storageClass = value.storageClass;
        }
    }
    if (value.ingressClass !== undefined) {
        if (typeof value.ingressClass !== "string" || !K8S_NAME.test(value.ingressClass)) {
            add("kubernetes.ingressClass", "must be a Kubernetes name, e.g. traefik", value.ingressClass);
        } else {
            config.ingressClass = value.ingressClass;
        }
    }
    if (value.ingress !== undefined) {
        if (value.ingress !== "own" && value.ingress !== "cluster") {
            add(
                "kubernetes.ingress",
                "must be own (the stack runs its Traefik) or cluster (the cluster's Traefik, as k3s ships it, serves the stack's Ingresses)",
                value.ingress,
            );
        } else {
            config.ingress = value.ingress;
        }
    }
    if (value.ingressNamespace !== undefined) {
        if (typeof value.ingressNamespace !== "string" || !K8S_NAME.test(value.ingressNamespace)) {
            add(
                "kubernetes.ingressNamespace",
                "must be the namespace of the cluster's Traefik pods, e.g. kube-system",
                value.ingressNamespace,
            );
        } else {
            config.ingressNamespace = value.ingressNamespace;
        }
    }
    if (value.natsAddress !== undefined) {
        const problem =
            typeof value.natsAddress === "string" ? checkHostAddress(value.natsAddress) : "must be an address";
        if (problem) {
            add(
                "kubernetes.natsAddress",
                `${problem}: the address the nats-external load balancer gets`,
                value.natsAddress,
            );
        } else {
            config.natsAddress = value.natsAddress as string;
        }
    }
    if (value.registryAuth !== undefined) {
        const auth = value.registryAuth;
        if (
            !isRecord(auth) ||
            typeof auth.server !== "string" ||
            checkRegistryPrefix(auth.server) !== undefined ||
            typeof auth.username !== "string" ||
            auth.username === "" ||
            Object.keys(auth).some((k) => k !== "server" && k !== "username")
        ) {
            add(
                "kubernetes.registryAuth",
                "must be {server, username}: the registry host the images come from (e.g. harbor.local) and its user; the password goes in `pulumi config set --secret bklite:registryPassword`",
                JSON.stringify(auth),
            );
        } else {
            config.registryAuth = { server: auth.server, username: auth.username };
        }
    }
    if (value.edgeNode !== undefined) {
        // A node name is a DNS subdomain.
        if (typeof value.edgeNode !== "string" || value.edgeNode.length > 253 || !DNS_SUBDOMAIN.test(value.edgeNode)) {
            add(
                "kubernetes.edgeNode",
                "must be a node's name as `kubectl get nodes` shows it, e.g. node-1",
                value.edgeNode,
            );
        } else {
            config.edgeNode = value.edgeNode;
        }
    }
    if (value.createNamespace !== undefined) {
        if (typeof value.createNamespace !== "boolean") {
            add("kubernetes.createNamespace", "must be true or false", value.createNamespace);
        } else {
            config.createNamespace = value.createNamespace;
        }
    }
    if (value.volumeSize !== undefined) {
        if (
            typeof value.volumeSize !== "string" ||
            !isQuantity(value.volumeSize) ||
            /^0+(\.0+)?[A-Za-z]*$/.test(value.volumeSize)
        ) {
            add(
                "kubernetes.volumeSize",
                "must be a storage size as Kubernetes writes quantities, e.g. 10Gi or 500Mi",
                value.volumeSize,
            );
        } else {
            config.volumeSize = value.volumeSize;
        }
    }
    if (value.imagePullSecrets !== undefined) {
        const secrets = value.imagePullSecrets;
        if (!Array.isArray(secrets) || !secrets.every((s) => typeof s === "string" && K8S_NAME.test(s))) {
            add("kubernetes.imagePullSecrets", "must be a list of Secret names", secrets);
        } else {
            config.imagePullSecrets = secrets;
        }
    }
    if (value.serviceType !== undefined) {
        if (value.serviceType !== "NodePort" && value.serviceType !== "LoadBalancer") {
            add("kubernetes.serviceType", "must be NodePort or LoadBalancer", value.serviceType);
        } else {
            config.serviceType = value.serviceType;
        }
    }
    if (value.nodePorts !== undefined) {
        const nodePorts = value.nodePorts;
        if (!isRecord(nodePorts)) {
            add(
                "kubernetes.nodePorts",
                "must map http and nats to node ports, e.g. {http: 30080, nats: 30422}",
                nodePorts,
            );
        } else {
            for (const [name, port] of Object.entries(nodePorts)) {
                if (name !== "http" && name !== "nats") {
                    add(`kubernetes.nodePorts.${name}`, "is not an exposed port (http, nats)");
                } else if (typeof port !== "number" || !Number.isInteger(port) || port < 30000 || port > 32767) {
                    add(`kubernetes.nodePorts.${name}`, "must be a node port from 30000 to 32767", port);
                } else {
                    config.nodePorts[name] = port;
                }
            }
            if (config.nodePorts.http === config.nodePorts.nats) {
                add(
                    "kubernetes.nodePorts.nats",
                    `uses node port ${config.nodePorts.nats}, as http does; give each its own`,
                    config.nodePorts.nats,
                );
            }
        }
    }
    if (value.resources !== undefined) {
        const resources = value.resources;
        if (
            !isRecord(resources) ||
            !Object.values(resources).every(
                (r) =>
                    isRecord(r) &&
                    Object.entries(r).every(
                        ([k, v]) => (k === "cpu" || k === "memory") && typeof v === "string" && isQuantity(v),
                    ),
            )
        ) {
            add(
                "kubernetes.resources",
                'must map services to requests, e.g. {server: {cpu: "1", memory: 2Gi}}',
                resources,
            );
        } else {
            for (const service of Object.keys(resources)) {
                if (!(SERVICE_NAMES as ReadonlyArray<string>).includes(service) || service === "traefik") {
                    add(
                        `kubernetes.resources.${service}`,
                        `names no workload the stack sizes; use one of ${SERVICE_NAMES.filter((s) => s !== "traefik").join(", ")}`,
                    );
                }
            }
            config.resources = resources as KubernetesConfig["resources"];
        }
    }
    return config;
}
