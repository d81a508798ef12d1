/**
 * `bklite:kubernetes`, checked as Kubernetes checks names and quantities, and what the rest of the config must be for
 * a cluster to honour it: source rules node ports cannot keep, a NATS address behind load balancers, pull secrets in
 * a namespace nothing could have filled, a registry without its password.
 */
import { checkHostAddress } from "../../config/sections/general";
import { CONFIG_NAMESPACE } from "../../config/keys";
import { AddProblem } from "../../config/problems";
import { KubernetesConfig, SecretName, StackConfig } from "../../config/types";
import { isWorldOpen } from "../../security/rules";
import { SERVICE_NAMES } from "../../services/catalog";
import { AgentEndpoints } from "../../services/regions";
import { checkRegistryPrefix } from "../../supply/imageRefs";
import { isRecord } from "../../util/json";
import { EndpointConfig } from "../runtime";

/** Default node ports: Traefik on 30080, NATS on 30422. */
export const DEFAULT_NODE_PORTS = { http: 30080, nats: 30422 } as const;

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** StorageClass and node names: DNS subdomains (lowercase letters, digits, - and ., at most 253). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes resource quantity (`500m`, `2`, `1.5`, `512Mi`, `10Gi`, `1e3`), as the API server parses them. */
function isQuantity(text: string): boolean {
    return /^[0-9]+(\.[0-9]+)?([eE][0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/.test(text);
}

const isName = (v: unknown) => typeof v === "string" && K8S_NAME.test(v);
const isSubdomain = (v: unknown) => typeof v === "string" && v.length <= 253 && DNS_SUBDOMAIN.test(v);

/** A setting that is one value: valid when `valid` holds, refused with `message` otherwise. */
interface PlainSetting {
    valid(value: unknown): boolean;
    message: string;
    /** Not quoted back when refused: it may hold credentials. */
    unquoted?: true;
}

/** The settings checked alone, in the order their problems are said. */
const PLAIN_SETTINGS: Partial<Record<keyof KubernetesConfig, PlainSetting>> = {
    context: {
        valid: (v) => typeof v === "string" && v.trim() !== "",
        message: "must be the name of a kubeconfig context",
    },
    kubeconfig: {
        // A path: a kubeconfig's contents (with its credentials) do not belong in a stack file.
        valid: (v) => typeof v === "string" && v.trim() !== "" && !/[\n\r]/.test(v) && !/^\s*apiVersion\s*:/.test(v),
        message:
            "must be the path of a kubeconfig file (relative to the project directory, or absolute), not its contents",
        unquoted: true,
    },
    preflight: {
        valid: (v) => v === "check" || v === "skip",
        message:
            "must be check (read the cluster before deploying, and stop when it cannot be read) or skip (deploy without reading it)",
    },
    storageClass: {
        valid: isSubdomain,
        message: "must be a StorageClass name (lowercase letters, digits, - and .), e.g. local-path",
    },
    ingressClass: { valid: isName, message: "must be a Kubernetes name, e.g. traefik" },
    ingress: {
        valid: (v) => v === "own" || v === "cluster",
        message:
            "must be own (the stack runs its Traefik) or cluster (the cluster's Traefik, as k3s ships it, serves the stack's Ingresses)",
    },
    ingressNamespace: {
        valid: isName,
        message: "must be the namespace of the cluster's Traefik pods, e.g. kube-system",
    },
};

/** The settings after natsAddress and registryAuth, checked alone. */
const LATER_SETTINGS: Partial<Record<keyof KubernetesConfig, PlainSetting>> = {
    edgeNode: { valid: isSubdomain, message: "must be a node's name as `kubectl get nodes` shows it, e.g. node-1" },
    createNamespace: { valid: (v) => typeof v === "boolean", message: "must be true or false" },
    volumeSize: {
        valid: (v) => typeof v === "string" && isQuantity(v) && !/^0+(\.0+)?[A-Za-z]*$/.test(v),
        message: "must be a storage size as Kubernetes writes quantities, e.g. 10Gi or 500Mi",
    },
    imagePullSecrets: {
        valid: (v) => Array.isArray(v) && v.every(isName),
        message: "must be a list of Secret names",
    },
    serviceType: {
        valid: (v) => v === "NodePort" || v === "LoadBalancer",
        message: "must be NodePort or LoadBalancer",
    },
};

const KNOWN_SETTINGS = [
    "namespace",
    "context",
    "kubeconfig",
    "preflight",
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

function defaults(): KubernetesConfig {
    return {
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
        preflight: "check",
    };
}

/** The section as written; parsed whatever the runtime, so a stack can keep it ready for a move to a cluster. */
export function parseKubernetesSection(value: unknown, add: AddProblem): KubernetesConfig {
    const config = defaults();
    if (!isRecord(value)) {
        add(
            "kubernetes",
            "must be an object {namespace, context, storageClass, volumeSize, imagePullSecrets, serviceType, nodePorts, resources}",
            value,
        );
        return config;
    }
    for (const key of Object.keys(value).filter((k) => !KNOWN_SETTINGS.includes(k))) {
        add(`kubernetes.${key}`, `is not a kubernetes setting (${KNOWN_SETTINGS.join(", ")})`);
    }
    parseNamespace(value.namespace, config, add);
    applyPlain(PLAIN_SETTINGS, value, config, add);
    parseNatsAddress(value.natsAddress, config, add);
    parseRegistryAuth(value.registryAuth, config, add);
    applyPlain(LATER_SETTINGS, value, config, add);
    parseNodePorts(value.nodePorts, config, add);
    parseResources(value.resources, config, add);
    return config;
}

function applyPlain(
    settings: Partial<Record<keyof KubernetesConfig, PlainSetting>>,
    value: Record<string, unknown>,
    config: KubernetesConfig,
    add: AddProblem,
): void {
    for (const [key, setting] of Object.entries(settings) as Array<[keyof KubernetesConfig, PlainSetting]>) {
        const given = value[key];
        if (given === undefined) {
            continue;
        }
        if (setting.valid(given)) {
            (config as unknown as Record<string, unknown>)[key] = given;
        } else {
            add(`kubernetes.${key}`, setting.message, setting.unquoted ? undefined : given);
        }
    }
}

function parseNamespace(value: unknown, config: KubernetesConfig, add: AddProblem): void {
    if (value === undefined) {
        return;
    }
    if (!isName(value) || (value as string).length > 63) {
        add("kubernetes.namespace", "must be a Kubernetes name (lowercase letters, digits, -; at most 63)", value);
    } else if ((value as string).startsWith("kube-")) {
        add(
            "kubernetes.namespace",
            "is reserved for Kubernetes itself (kube-*); use one of the platform's own, e.g. bklite",
            value,
        );
    } else {
        config.namespace = value as string;
    }
}

function parseNatsAddress(value: unknown, config: KubernetesConfig, add: AddProblem): void {
    if (value === undefined) {
        return;
    }
    const problem = typeof value === "string" ? checkHostAddress(value) : "must be an address";
    if (problem) {
        add("kubernetes.natsAddress", `${problem}: the address the nats-external load balancer gets`, value);
    } else {
        config.natsAddress = value as string;
    }
}

function parseRegistryAuth(auth: unknown, config: KubernetesConfig, add: AddProblem): void {
    if (auth === undefined) {
        return;
    }
    const fine =
        isRecord(auth) &&
        typeof auth.server === "string" &&
        checkRegistryPrefix(auth.server) === undefined &&
        typeof auth.username === "string" &&
        auth.username !== "" &&
        Object.keys(auth).every((k) => k === "server" || k === "username");
    if (!fine) {
        add(
            "kubernetes.registryAuth",
            "must be {server, username}: the registry host the images come from (e.g. harbor.local) and its user; the password goes in `pulumi config set --secret bklite:registryPassword`",
            JSON.stringify(auth),
        );
        return;
    }
    config.registryAuth = { server: auth.server as string, username: auth.username as string };
}

function parseNodePorts(nodePorts: unknown, config: KubernetesConfig, add: AddProblem): void {
    if (nodePorts === undefined) {
        return;
    }
    if (!isRecord(nodePorts)) {
        add("kubernetes.nodePorts", "must map http and nats to node ports, e.g. {http: 30080, nats: 30422}", nodePorts);
        return;
    }
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
        const port = config.nodePorts.nats;
        add("kubernetes.nodePorts.nats", `uses node port ${port}, as http does; give each its own`, port);
    }
}

function parseResources(resources: unknown, config: KubernetesConfig, add: AddProblem): void {
    if (resources === undefined) {
        return;
    }
    const fine =
        isRecord(resources) &&
        Object.values(resources).every(
            (r) =>
                isRecord(r) &&
                Object.entries(r).every(
                    ([k, v]) => (k === "cpu" || k === "memory") && typeof v === "string" && isQuantity(v),
                ),
        );
    if (!fine) {
        add("kubernetes.resources", 'must map services to requests, e.g. {server: {cpu: "1", memory: 2Gi}}', resources);
        return;
    }
    const sized = SERVICE_NAMES.filter((s) => s !== "traefik");
    for (const service of Object.keys(resources).filter((s) => !sized.includes(s))) {
        add(`kubernetes.resources.${service}`, `names no workload the stack sizes; use one of ${sized.join(", ")}`);
    }
    config.resources = resources as KubernetesConfig["resources"];
}

/** The registry's password and its server and user come together, whatever the runtime. */
export function checkRegistryPairing(
    kubernetes: KubernetesConfig,
    providedSecrets: ReadonlyArray<SecretName>,
    add: AddProblem,
): void {
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
}

/** What the rest of the config must be for a cluster to honour it; `refused` says whether a key has a problem. */
export function checkForCluster(config: StackConfig, add: AddProblem, refused: (key: string) => boolean): void {
    const k = config.kubernetes;
    const rules = config.security.rules;
    // Node ports without an edge node answer on every node and hide clients' addresses: source rules would not hold.
    if (k.serviceType === "NodePort" && k.edgeNode === undefined) {
        for (const rule of rules) {
            const ownHttp = k.ingress === "own" && (rule.port === "http" || rule.port === k.nodePorts.http);
            const published = ownHttp || rule.port === "nats" || rule.port === k.nodePorts.nats;
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
    if (k.ingress === "cluster") {
        for (const rule of rules.filter((r) => r.port === "http" && !r.sources.some(isWorldOpen))) {
            add(
                `security.rules[${rule.at ?? 0}].sources`,
                "limits who reaches http, but with kubernetes.ingress cluster the cluster's Traefik takes those connections, outside the stack: limit them there (or in the site's firewall) and drop this rule, or use kubernetes.ingress own",
                JSON.stringify(rule.sources),
            );
        }
    }
    checkNatsAddress(k, add, refused);
    checkPullSecrets(k, add);
}

/** Two load balancers get two addresses: agents must be told the NATS one, and only then. */
function checkNatsAddress(k: KubernetesConfig, add: AddProblem, refused: (key: string) => boolean): void {
    if (k.serviceType === "LoadBalancer" && k.natsAddress === undefined && !refused("kubernetes.natsAddress")) {
        add(
            "kubernetes.natsAddress",
            "is missing: behind load balancers Traefik and NATS each get an address, and agents must be told NATS's: set it to the nats-external load balancer's address " +
                "(the same as hostAddress when your load balancer shares one address between Services, e.g. MetalLB's allow-shared-ip)",
        );
    }
    if (k.serviceType !== "LoadBalancer" && k.natsAddress !== undefined) {
        add(
            "kubernetes.natsAddress",
            "applies only behind load balancers (serviceType LoadBalancer); with node ports agents reach NATS at hostAddress",
            k.natsAddress,
        );
    }
}

/** A pull secret must exist before the pods that name it, in their namespace. */
function checkPullSecrets(k: KubernetesConfig, add: AddProblem): void {
    if (k.createNamespace && k.imagePullSecrets.length > 0) {
        add(
            "kubernetes.imagePullSecrets",
            "names pull secrets in a namespace the stack creates, where nothing can have made them (pods would sit in ImagePullBackOff): " +
                "give the registry's credentials instead (bklite:kubernetes.registryAuth {server, username} and `pulumi config set --secret bklite:registryPassword`), " +
                "or create the namespace and its pull secret by hand and set bklite:kubernetes.createNamespace false",
            JSON.stringify(k.imagePullSecrets),
        );
    }
}

/** Settings a cluster does not use: said as warnings, so nothing is ignored silently. */
export function unusedOnCluster(config: StackConfig, keysSet: ReadonlyArray<string>): string[] {
    const unused = ["httpPort", "natsPort", "postgresPort"]
        .filter((k) => keysSet.includes(k))
        .map(
            (key) =>
                `${CONFIG_NAMESPACE}:${key} is set, but on a cluster ports come from ${CONFIG_NAMESPACE}:kubernetes.nodePorts (or the load balancer): it is not used`,
        );
    if (config.security.hostFirewall) {
        unused.push(
            `${CONFIG_NAMESPACE}:security.hostFirewall is on, but on a cluster the rules become NetworkPolicies and load balancer source ranges: no host firewall is made`,
        );
    }
    return unused;
}

/**
 * Where agents and browsers reach a cluster: node ports on hostAddress, or each load balancer's own port (NATS's at
 * its own address); the cluster's Traefik, as k3s runs it, listens on port 80.
 */
export function kubernetesEndpoints(config: EndpointConfig): AgentEndpoints {
    const k = config.kubernetes;
    const loadBalanced = k.serviceType === "LoadBalancer";
    return {
        hostAddress: config.hostAddress,
        httpPort: k.ingress === "cluster" || loadBalanced ? 80 : k.nodePorts.http,
        natsHost: loadBalanced && k.natsAddress ? k.natsAddress : config.hostAddress,
        natsPort: loadBalanced ? 4222 : k.nodePorts.nats,
    };
}
