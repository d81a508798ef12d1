/**
 * The shapes of a stack's config: what the parser (parse.ts) returns and everything else takes. Types only, so the
 * service model, the runtimes and the CLI can depend on them without depending on the parser.
 */
import type { SecurityConfig } from "../security/rules";
import type { ImagesConfig } from "../supply/imageRefs";
import type { RuntimeName, SecretName } from "./keys";

export type { ImagesConfig, RuntimeName, SecretName, SecurityConfig };

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

/** A cloud region (`bklite:regions`). */
export interface RegionConfig {
    name: string;
    /** Absolute http(s) URL agents in this region use to reach the server; default `http://<host>:<http port>`. */
    nodeServerUrl?: string;
    /** Extra or overriding SidecarEnv keys (never NATS_PASSWORD: that is a generated secret). */
    env?: Record<string, string>;
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

/** `bklite:kubernetes`: parsed by the Kubernetes runtime (src/runtimes/kubernetes/config.ts). */
export interface KubernetesConfig {
    namespace: string;
    /** kubeconfig context to deploy to (default: the current context). */
    context?: string;
    /**
     * The kubeconfig file the provider, the preflight and the CLI's kubectl all read (relative to the project
     * directory); unset, each reads $KUBECONFIG, else ~/.kube/config.
     */
    kubeconfig?: string;
    /** `check` (default): read the cluster before deploying and stop when it cannot be read; `skip`: deploy unchecked. */
    preflight: "check" | "skip";
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
    /** With `ingress: cluster`: the cluster Traefik's IngressClass the stack's Ingresses name (k3s's is `traefik`). */
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
     * `own`: the stack runs its own Traefik, routing from a file (no Ingresses, no Kubernetes API access). `cluster`:
     * the cluster's Traefik (k3s's) serves the stack's Ingresses, which are all the stack creates for it, on port 80.
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

/** Host ports of the stack (published on a Docker host; on a cluster they mark what is exposed). */
export interface HostPorts {
    http: number;
    nats: number;
    postgres: number;
}

/**
 * The validated config of one stack. It never holds a secret value, so it may be passed anywhere. Its fields keep
 * this order: the program hands it to commands as JSON, and a reordered copy would re-run them.
 */
export interface StackConfig {
    runtime: RuntimeName;
    hostAddress: string;
    offline: boolean;
    /** `bklite verify` runs as the last step of `pulumi up`. */
    verify: boolean;
    ports: HostPorts;
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
