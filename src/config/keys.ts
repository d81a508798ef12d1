/**
 * Every `bklite:*` config key, with its type, default and description: the one table the validator, the
 * configuration reference (docs/reference/config.md, made by `npm run docs`) and Pulumi.yaml follow (tests keep both
 * in step with it).
 */

/** Namespace of the project's config keys. */
export const CONFIG_NAMESPACE = "bklite";

export const RUNTIMES = ["docker", "kubernetes"] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** bk-lite's apps (the server's `apps/` in the huangpu fork and upstream). Which the program can back: app/catalog.ts. */
export const KNOWN_APPS = [
    "system_mgmt",
    "cmdb",
    "console_mgmt",
    "monitor",
    "node_mgmt",
    "alerts",
    "operation_analysis",
    "opspilot",
    "log",
    "playground",
    "mlops",
    "patch_mgmt",
] as const;

/**
 * The huangpu deployment's apps, less `mlops`: it brings MinIO and MLflow, so it is opt-in. (The huangpu server has
 * the mlops app; only its startup script has no init block for it.)
 */
export const DEFAULT_INSTALL_APPS = [
    "system_mgmt",
    "cmdb",
    "monitor",
    "node_mgmt",
    "console_mgmt",
    "alerts",
    "log",
    "operation_analysis",
];

/**
 * Secrets: generated (@pulumi/random) unless given with `pulumi config set --secret bklite:<key>`. They are not
 * declared in Pulumi.yaml (a declared secret with an empty default makes the CLI refuse every stack that does not
 * set it); the validator refuses a value stored in plaintext instead.
 */
export const SECRET_KEYS = {
    postgresAdminPassword:
        "Password of PostgreSQL's superuser `postgres`; used only by the program's PostgreSQL provider.",
    postgresPassword: "Password of the `bklite` database role the server connects as.",
    redisPassword: "Redis password (Celery broker, result backend and cache).",
    natsPassword:
        "Retired: the password of the NATS user `admin` that the server and the agents of every region shared before agents got users of their own. NATS accepts it only from agents, with an agent's rights, until seeding has moved every region to its own user; kept because stacks made before hold it.",
    natsServerPassword:
        "Password of the server side's NATS user `bklite` (server, nats-executor `default`, Telegraf, Vector and the program's own commands); never handed to agents.",
    natsAgentKey:
        "Key each region's agent password is derived from (HMAC-SHA256 of the region's name): changing it gives every region new agent credentials, which seeding hands out.",
    secretKey:
        "Django SECRET_KEY of the server; also the AES key of secret SidecarEnv values. Changing it makes them unreadable.",
    nextauthSecret: "NEXTAUTH_SECRET of the web console.",
    adminPassword: "Password of the console's `admin` user; seeding makes the console's login use it.",
    falkordbPassword: "Password of FalkorDB (CMDB's graph database); only when cmdb is installed.",
    minioPassword: "Password of MinIO's root user `minio` (MLflow's artifact store); only when mlops is installed.",
    mlflowDatabasePassword: "Password of the `mlflow` database role MLflow connects as; only when mlops is installed.",
    registryPassword:
        "Only on a cluster with bklite:kubernetes.registryAuth: the password (or token) of the registry the cluster pulls the stack's images from; the program makes the namespace's pull secret of it.",
    previousSecretKey:
        "Only while rotating secretKey: the SECRET_KEY before it. Seeding then re-encrypts the stored secret SidecarEnv values under the new key; remove it once `pulumi up` has succeeded.",
} as const;
export type SecretName = keyof typeof SECRET_KEYS;

/** Secrets that exist only when given: never generated. */
export const GIVEN_ONLY_SECRETS: ReadonlyArray<SecretName> = ["previousSecretKey", "registryPassword"];

/**
 * Secrets that retained data depends on: the database's passwords (PostgreSQL keeps the ones it was initialised
 * with), SECRET_KEY (AES key of secret SidecarEnv values) and the NATS password agents in the field hold.
 * Generated ones are protected, so `pulumi destroy` cannot drop them while the data stays.
 */
export const DATA_BOUND_SECRETS: ReadonlyArray<SecretName> = [
    "postgresAdminPassword",
    "postgresPassword",
    "secretKey",
    "natsPassword",
    "minioPassword",
    "mlflowDatabasePassword",
];

/** Why `value` is not a number of backups to keep (1 to 1000), or undefined: `bklite:backup.keep` and `--keep` alike. */
export function backupKeepProblem(value: unknown): string | undefined {
    return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 1000
        ? undefined
        : "must be how many backups to keep, from 1 to 1000";
}

/** `bklite:backup` when not set: a backup into `backups/` of the project before every upgrade, the newest 5 kept. */
export const DEFAULT_BACKUP = { dir: "backups", keep: 5, beforeUpgrade: true } as const;

export type ConfigType = "string" | "integer" | "boolean" | "array" | "object";

export interface ConfigKeyDecl {
    type: ConfigType;
    description: string;
    /** Default applied by the program when the key is absent (`undefined`: required or derived). */
    default?: unknown;
    secret?: boolean;
    /** Item type of an `array` key. */
    items?: "string" | "object";
    /** More than the one-line description, for the configuration reference (docs/reference/config.md). */
    details?: string;
    /** How it is set: a `pulumi config set` line, or the stack file's YAML for objects and lists. */
    example: string;
}

/**
 * Keys whose values are objects or lists of objects. Pulumi.yaml cannot declare them: a project config type
 * is one of string, integer, boolean or an array of those. They are documented in the configuration reference.
 */
export const STRUCTURED_KEYS = ["images", "regions", "probePackages", "security", "kubernetes", "backup"] as const;

/** Keys Pulumi.yaml does not declare: the structured ones, and the secrets (see SECRET_KEYS). */
export function isDeclaredInProjectFile(key: string): boolean {
    return !(STRUCTURED_KEYS as ReadonlyArray<string>).includes(key) && !(key in SECRET_KEYS);
}

export const CONFIG_KEYS: Record<string, ConfigKeyDecl> = {
    runtime: {
        type: "string",
        default: "docker",
        description: "Where the platform runs: docker (one host) or kubernetes.",
        details:
            "`kubernetes` deploys the same services as workloads in one namespace (see [Kubernetes](../kubernetes.md)); switching an existing stack is refused while its data is protected.",
        example: "pulumi config set bklite:runtime docker",
    },
    hostAddress: {
        type: "string",
        default: "",
        description:
            "Address browsers and agents use to reach this site (HOST_IP in bk-lite's own deployment scripts): an IP address or DNS name. Required.",
        details:
            "Not `0.0.0.0` nor a partial address. Every region's derived NODE_SERVER_URL and NATS_SERVERS come from it, and the NATS certificate names it.",
        example: "pulumi config set bklite:hostAddress 192.168.31.10",
    },
    offline: {
        type: "boolean",
        default: true,
        description:
            "The site has no internet: images must be pinned (never latest) and are never pulled from public registries.",
        details:
            "An image that resolves to `latest` (written or implied) is refused, and every image must be on the host or in the bundle before anything is deployed ([Offline sites](../offline-site.md)).",
        example: "pulumi config set bklite:offline true",
    },
    verify: {
        type: "boolean",
        default: true,
        description:
            "Run `bklite verify` as the last step of `pulumi up`: a platform that does not work fails the deployment. false turns it off (with a warning).",
        details: "See [Day two](../day-two.md) for what it checks and how to read its table.",
        example: "pulumi config set bklite:verify true",
    },
    httpPort: {
        type: "integer",
        default: 8080,
        description: "Host port of the ingress (console and agent API).",
        example: "pulumi config set bklite:httpPort 8080",
    },
    natsPort: {
        type: "integer",
        default: 24222,
        description: "Host port of NATS (TLS) for agents.",
        example: "pulumi config set bklite:natsPort 24222",
    },
    postgresPort: {
        type: "integer",
        default: 25432,
        description: "Loopback-only host port of PostgreSQL, used by the program's PostgreSQL provider and by seeding.",
        details: "Bound to `127.0.0.1` only; a security rule that would open it beyond loopback is refused.",
        example: "pulumi config set bklite:postgresPort 25432",
    },
    publicUrl: {
        type: "string",
        default: "",
        description: "Public URL of the console (NEXTAUTH_URL); empty means http://<hostAddress>:<httpPort>.",
        details: "Set it when browsers reach the console through a proxy or a DNS name other than hostAddress.",
        example: "pulumi config set bklite:publicUrl https://ops.customs.local",
    },
    installApps: {
        type: "array",
        items: "string",
        default: DEFAULT_INSTALL_APPS,
        description:
            "bk-lite apps the server initialises at start (INSTALL_APPS); they decide which services run. Must include node_mgmt; add mlops for MinIO and MLflow.",
        details:
            "They also decide which services run ([What gets deployed](../what-gets-deployed.md)). `opspilot` and `patch_mgmt` are refused: the program does not run their services. An app that needs another is refused without it (`playground` needs `mlops`), and `cmdb` runs VictoriaMetrics and Telegraf for its collection (`src/services/appNeeds.ts` says why for each).",
        example:
            "bklite:installApps: [system_mgmt, cmdb, monitor, node_mgmt, console_mgmt, alerts, log, operation_analysis]",
    },
    images: {
        type: "object",
        default: {},
        description:
            "Image supply: {registry, tag, overrides: {<service>: <ref>}, bundleDir}; with a registry, every image comes from it.",
        details:
            "`registry`: every image is rewritten under it; `tag`: one release tag for bk-lite's own images (`bklite/*`: server, web, nats-executor, mlflow), while third-party images (PostgreSQL, Redis, NATS, Traefik, FalkorDB, ...) keep their pinned tags unless overridden; `overrides`: `{<service>: <ref>}`; `bundleDir`: where `bklite images load` finds the archives (default assets/images).",
        example: "bklite:images:\n  registry: harbor.local/bklite\n  tag: huangpu-v1.0",
    },
    regions: {
        type: "array",
        items: "object",
        default: [{ name: "default" }],
        description:
            "Cloud regions [{name, nodeServerUrl?, env?}]; `default` always exists and is added when not listed.",
        details:
            "Names are unique. Each region's NODE_SERVER_URL (given or derived from hostAddress and httpPort) must be an absolute `http(s)://host[:port]`; `env` may set the other SidecarEnv keys but never `NATS_PASSWORD` ([Seed data](../seed-data.md)).",
        example:
            'bklite:regions:\n  - name: default\n  - name: \u7ba1\u7406\u7f51\n    nodeServerUrl: http://10.1.0.5:8080\n    env: {NATS_SERVERS: "10.1.0.5:24222"}',
    },
    probePackages: {
        type: "array",
        items: "object",
        default: [],
        description: "Probe packages [{file, version, os?, type?, object?}] uploaded to the NATS object store.",
        details:
            "The controller zip gets the stack's CA patched in; each collector is its own file (`type: collector`, `object: Telegraf`). `file` is relative to the project (usually assets/packages/); a missing file stops `pulumi up` before anything changes ([Seed data](../seed-data.md)).",
        example:
            "bklite:probePackages:\n  - {file: assets/packages/fusion-collectors-linux-amd64.zip, version: 1.0.0}\n  - {file: assets/packages/telegraf, type: collector, object: Telegraf, version: 1.0.0}",
    },
    security: {
        type: "object",
        default: { rules: [], hostFirewall: false },
        description:
            "Security rules {rules: [{port, protocol, sources, description}], hostFirewall}: which ports are reachable from where.",
        details:
            "No rules means http and nats open to anyone (with a warning). `hostFirewall` enforces the rules with iptables on the Docker host; on a cluster they become NetworkPolicies ([Security rules](../security.md)).",
        example:
            "bklite:security:\n  hostFirewall: true\n  rules:\n    - {port: http, sources: [10.0.0.0/8], description: console}\n    - {port: nats, sources: [10.0.0.0/8], description: agents}",
    },
    kubernetes: {
        type: "object",
        default: {},
        description: "Kubernetes runtime settings {namespace, storageClass, imagePullSecrets, nodePorts}.",
        details:
            "`namespace` (bklite), `createNamespace` (true), `context` (current), `kubeconfig` (the file the provider, the preflight and the CLI's kubectl read, relative to the project directory; default $KUBECONFIG, else ~/.kube/config), `preflight` (check: read the cluster before deploying and stop when it cannot be read; skip: deploy unchecked), `storageClass` (cluster default), `volumeSize` (10Gi), `imagePullSecrets` ([]), `serviceType` (NodePort or LoadBalancer), `nodePorts` ({http: 30080, nats: 30422}), `ingressClass` (traefik: with `ingress: cluster`, the class of the cluster's Traefik the Ingresses name), `resources` ({<service>: {cpu, memory}} requests; not traefik), `edgeNode` (the node at hostAddress: Traefik and NATS run there and keep clients' addresses; needed for source rules with NodePort), `ingress` (own: the stack runs its Traefik, routing from a file with no Kubernetes API access; cluster: the cluster's Traefik, as on stock k3s, serves the stack's Ingresses on port 80), `ingressNamespace` (kube-system: where that Traefik's pods run), `natsAddress` (behind load balancers: the NATS one's address; required there), `registryAuth` ({server, username}, with the secret `registryPassword`: the program makes the pull secret; `imagePullSecrets` in a namespace the stack creates are refused, since nothing could have made them). Only with `runtime: kubernetes` ([Kubernetes](../kubernetes.md)).",
        example:
            "bklite:kubernetes:\n  namespace: bklite\n  storageClass: local-path\n  nodePorts: {http: 30080, nats: 30422}",
    },
    backup: {
        type: "object",
        default: DEFAULT_BACKUP,
        description:
            "Backups before upgrades {dir, keep, beforeUpgrade}: when `pulumi up` changes an image, `bklite backup` runs into dir (relative to the project) first and keeps the newest keep; beforeUpgrade false turns it off (with a warning).",
        details:
            "`dir` is relative to the project or absolute; `keep` is 1 to 1000. See [Day two](../day-two.md) for restores and rollbacks.",
        example: "bklite:backup:\n  dir: /srv/bklite-backups\n  keep: 7",
    },
    ...Object.fromEntries(
        Object.entries(SECRET_KEYS).map(([key, description]) => [
            key,
            {
                type: "string",
                default: "",
                secret: true,
                description: GIVEN_ONLY_SECRETS.includes(key as SecretName)
                    ? description
                    : `${description} Generated when empty.`,
                // On standard input: a value on the command line would show in `ps`. A given-only secret is the
                // operator's (the registry's password, the SECRET_KEY being replaced), so no random value is suggested.
                example: GIVEN_ONLY_SECRETS.includes(key as SecretName)
                    ? `pulumi config set --secret ${CONFIG_NAMESPACE}:${key} < ${key === "registryPassword" ? "registry-password.txt" : "previous-secret-key.txt"}`
                    : `openssl rand -hex 24 | pulumi config set --secret ${CONFIG_NAMESPACE}:${key}`,
            } as ConfigKeyDecl,
        ]),
    ),
};
