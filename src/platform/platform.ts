import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_IMAGES } from "../services/catalog";
import { NATS_USER, agentNatsHosts } from "../services/regions";
import {
    ADMIN_USER,
    DATABASE,
    NATS_NAMESPACE,
    VALUE_REFS,
    natsAgentEndpoint,
    stackWorkloads,
    stackDatabases,
    stackSecrets,
    stackStreams,
    publicUrl,
} from "../services/stack";
import { Workload } from "../services/workload";
import { postgresInitScript } from "../services/catalog/postgres";
import { StackConfig } from "../config/types";
import { endpointsOf } from "../runtimes";
import { PostgresDatabase } from "../runtimes/docker/postgresDatabase";
import { HostFacts, inspectHost, plannedHostFacts } from "./hostFacts";
import { checkCluster, readClusterFacts } from "../runtimes/kubernetes/preflight";
import { ImageSupply } from "../runtimes/docker/imageSupply";
import { DEFAULT_BUNDLE_DIR, resolveImageRef } from "../supply/imageRefs";
import { TraefikIngress, WEB_PORT } from "../runtimes/kubernetes/traefik";
import { NatsStreams } from "../nats/natsStreams";
import { NatsTls } from "../nats/natsTls";
import { DockerRuntime } from "../runtimes/docker/containers";
import { KubernetesRuntime, REGISTRY_PULL_SECRET } from "../runtimes/kubernetes/workloads";
import { claimName } from "../runtimes/kubernetes/naming";
import { PlatformSecrets } from "./platformSecrets";
import { seedSpecOf } from "../seed/stackSpec";
import { PreUpgradeBackup } from "../backup/preUpgradeBackup";
import { SeedData } from "../seed/seedData";
import { Verification } from "../verify/verification";
import { verifySpecOf } from "../verify/stackSpec";
import { NetworkPolicies } from "../runtimes/kubernetes/networkPolicies";
import { ResolvedSecurity, firewallRules, resolveSecurity } from "../security/resolve";
import { PROJECT_ROOT, bkliteCommand } from "../util/shell";

export interface BkLitePlatformArgs {
    /** Stack name: Docker objects are named `bklite-<stack>-*`, so two stacks can share a host. */
    stack: string;
    /** Validated config; it holds no secret values. */
    config: StackConfig;
    /**
     * Read the deploy host before registering anything (images, bundle, probe packages; see hostFacts.ts).
     * Default true; off only when rendering a plan, which must depend on the commit alone.
     */
    inspectHost?: boolean;
}

/**
 * Makes the JetStream streams exist once NATS (`nats`) is up, reaching it at `natsHostPort` (with `args`, e.g. through a
 * port-forward); returns what the streams' consumers wait for (nothing when no running service consumes a stream).
 */
type StreamsAfterNats = (
    nats: pulumi.Resource,
    natsHostPort: string,
    extra: { args: string[]; rerunWhen?: pulumi.Input<string>[] },
) => pulumi.Resource[];

/** What a runtime hands back to the platform: the data volumes and what the seeding must wait for. */
interface Deployed {
    dataVolumes: pulumi.Output<string[]>;
    serverReady: pulumi.Resource;
    /** Where `bklite seed apply` reaches PostgreSQL and NATS, and the extra arguments it needs to get there. */
    seedConnection: { pgHostPort: string; natsHostPort: string; args: string[] };
    /** What verification waits for besides seeding (the host firewall). */
    verifyAfter: pulumi.Resource[];
    /** Values that change when a running service is replaced or restarted with new settings: verification runs again. */
    verifyWhen: pulumi.Input<string>[];
}

/**
 * A whole bk-lite platform: secrets, the NATS CA, the workloads of its services and the runtime that runs them (Docker on
 * one host, or Kubernetes), the application database, and the seed data every region and package needs.
 */
export class BkLitePlatform extends pulumi.ComponentResource {
    /** URL of the web console. */
    public readonly consoleUrl: pulumi.Output<string>;
    /** NATS endpoint agents connect to (TLS). */
    public readonly natsEndpoint: pulumi.Output<string>;
    /** PEM of the CA agents use to verify NATS. */
    public readonly natsCaCert: pulumi.Output<string>;
    /** Console admin user. */
    public readonly adminUser: pulumi.Output<string>;
    /** Console admin password (secret). */
    public readonly adminPassword: pulumi.Output<string>;
    /** Image ref of each service: exactly what has to be on the host, in the bundle or in the registry. */
    public readonly images: pulumi.Output<Record<string, string>>;
    /** Data volumes (Docker) or claims (Kubernetes), kept when the stack is destroyed. */
    public readonly dataVolumes: pulumi.Output<string[]>;
    /** What the last seeding did (JSON: created, updated, unchanged per kind; bytes sent). */
    public readonly seedSummary: pulumi.Output<string>;
    /** Which ports to open, from where, in a cloud security group or upstream firewall. */
    public readonly securityRules: pulumi.Output<
        Array<{ port: number; protocol: string; sources: string[]; purpose: string; description: string }>
    >;

    constructor(name: string, args: BkLitePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before anything is registered: a missing image or package file stops the run with nothing changed.
        const bundleDir = args.config.images.bundleDir ?? DEFAULT_BUNDLE_DIR;
        const onDocker = args.config.runtime === "docker";
        const host =
            args.inspectHost === false
                ? plannedHostFacts(args.config, bundleDir)
                : inspectHost(args.config, args.stack, bundleDir);
        // The cluster's IngressClasses and claims, where a kubeconfig reaches it: stop now rather than half-way.
        const cluster =
            !onDocker && args.inspectHost !== false
                ? readClusterFacts({
                      namespace: args.config.kubernetes.namespace,
                      context: args.config.kubernetes.context,
                  })
                : undefined;
        if (cluster?.reachable) {
            checkCluster(args.config, stackWorkloads(args.config), cluster);
        }
        super("bklite:index:Platform", name, args, opts);
        if (cluster !== undefined && !cluster.reachable) {
            void pulumi.log.warn(
                `the cluster was not checked before deploying (${cluster.why}): an IngressClass or claim it refuses will stop \`pulumi up\` half-way instead`,
                this,
            );
        }
        const { config } = args;
        const services = stackWorkloads(config);
        const security = resolveSecurity(config);
        for (const warning of security.warnings) {
            void pulumi.log.warn(warning, this);
        }

        const secrets = new PlatformSecrets(
            `${name}-secrets`,
            { secrets: stackSecrets(config), providedSecrets: config.providedSecrets },
            { parent: this },
        );
        // On a cluster the server also reaches NATS by its namespaced names; agents by every address a region gives.
        const natsNames = onDocker
            ? ["nats"]
            : [
                  "nats",
                  `nats.${config.kubernetes.namespace}.svc`,
                  `nats.${config.kubernetes.namespace}.svc.cluster.local`,
              ];
        const natsTls = new NatsTls(
            `${name}-nats-tls`,
            { hostAddress: config.hostAddress, serviceNames: natsNames, agentHosts: agentNatsHosts(config.regions) },
            { parent: this },
        );
        const values: Record<string, pulumi.Input<string>> = {
            ...(secrets.values as Record<string, pulumi.Output<string>>),
            [VALUE_REFS.natsCaCert]: natsTls.caCertPem,
            [VALUE_REFS.natsServerCert]: natsTls.serverCertPem,
            [VALUE_REFS.natsServerKey]: natsTls.serverKeyPem,
        };

        // The JetStream streams the running services consume, applied once NATS is up (see onDocker/onKubernetes).
        const streamSpecs = stackStreams(config).map((s) => s.stream);
        const natsClient = {
            natsUser: NATS_USER,
            natsPassword: secrets.value("natsPassword"),
            natsCa: natsTls.caCertPem,
        };
        const streams: StreamsAfterNats = (nats, natsHostPort, extra) =>
            streamSpecs.length === 0
                ? []
                : [
                      new NatsStreams(
                          `${name}-streams`,
                          { streams: streamSpecs, args: extra.args },
                          {
                              connection: { natsUrl: `tls://${natsHostPort}`, ...natsClient },
                              after: [nats],
                              rerunWhen: extra.rerunWhen,
                          },
                          { parent: this },
                      ).ready,
                  ];

        // Before an upgrade replaces anything: a backup of the data as the old images left it.
        const images = Object.fromEntries(services.map((s) => [s.name, s.image])) as Record<string, string>;
        const rotating = config.providedSecrets.includes("previousSecretKey");
        const beforeUpgrade: pulumi.Resource[] = [];
        if (config.backup.beforeUpgrade) {
            const backup = new PreUpgradeBackup(
                `${name}-backup`,
                { stack: args.stack, config, images },
                {
                    connection: {
                        natsPassword: secrets.value("natsPassword"),
                        natsCa: natsTls.caCertPem,
                        secretKey: secrets.value("secretKey"),
                        ...(rotating ? { previousSecretKey: secrets.value("previousSecretKey") } : {}),
                        ...(secrets.values.falkordbPassword
                            ? { falkordbPassword: secrets.value("falkordbPassword") }
                            : {}),
                    },
                },
                { parent: this },
            );
            beforeUpgrade.push(backup.ran);
        } else {
            void pulumi.log.warn(
                "bklite:backup.beforeUpgrade is false: an image change replaces containers without a backup first; take one with `bklite backup --stack <stack> --dir DIR`",
                this,
            );
        }

        const deployed = onDocker
            ? this.onDocker(
                  name,
                  args.stack,
                  config,
                  services,
                  values,
                  secrets,
                  bundleDir,
                  host,
                  security,
                  streams,
                  beforeUpgrade,
              )
            : this.onKubernetes(name, config, services, values, secrets, security, streams, beforeUpgrade);

        // Seeding and verification reach bk-lite's database as the server does, through the runtime's way in.
        const pgUrl = pulumi.interpolate`postgres://${DATABASE.owner}:${secrets.value("postgresPassword")}@${deployed.seedConnection.pgHostPort}/${DATABASE.name}`;
        const seed = new SeedData(
            `${name}-seed`,
            {
                packageDigests: host.packageDigests,
                // Rotating SECRET_KEY: the stored secret values are re-encrypted from the previous key, not refused.
                args: [...deployed.seedConnection.args, ...(rotating ? ["--reencrypt"] : [])],
            },
            {
                spec: pulumi
                    .all([secrets.value("natsPassword"), secrets.value("adminPassword")])
                    .apply(([natsPassword, adminPassword]) =>
                        JSON.stringify(seedSpecOf(config, { natsPassword, adminPassword })),
                    ),
                connection: {
                    pgUrl,
                    natsUrl: `tls://${deployed.seedConnection.natsHostPort}`,
                    natsUser: NATS_USER,
                    natsPassword: secrets.value("natsPassword"),
                    natsCa: natsTls.caCertPem,
                    bucket: NATS_NAMESPACE,
                    secretKey: secrets.value("secretKey"),
                    ...(rotating ? { previousSecretKey: secrets.value("previousSecretKey") } : {}),
                },
                after: [deployed.serverReady],
                digestKey: secrets.value("secretKey"),
            },
            { parent: this },
        );

        // Last: prove the platform works, or fail the deployment with the table of what does not.
        if (config.verify) {
            new Verification(
                `${name}-verify`,
                { spec: verifySpecOf(config, args.stack), args: deployed.seedConnection.args },
                {
                    connection: {
                        pgUrl,
                        natsUser: NATS_USER,
                        natsPassword: secrets.value("natsPassword"),
                        natsCa: natsTls.caCertPem,
                        bucket: NATS_NAMESPACE,
                        secretKey: secrets.value("secretKey"),
                        ...(secrets.values.adminPassword ? { adminPassword: secrets.value("adminPassword") } : {}),
                        ...(secrets.values.falkordbPassword
                            ? { falkordbPassword: secrets.value("falkordbPassword") }
                            : {}),
                    },
                    after: [seed.ran, ...deployed.verifyAfter],
                    rerunWhen: [seed.ran.id, ...deployed.verifyWhen],
                },
                { parent: this },
            );
        } else {
            void pulumi.log.warn(
                "bklite:verify is false: nothing proves this platform works after `pulumi up`; run `bklite verify --stack <stack>` by hand",
                this,
            );
        }

        this.consoleUrl = pulumi.output(publicUrl(config, endpointsOf(config)));
        this.natsEndpoint = pulumi.output(natsAgentEndpoint(endpointsOf(config)));
        this.natsCaCert = natsTls.caCertPem;
        this.adminUser = pulumi.output(ADMIN_USER);
        this.adminPassword = secrets.value("adminPassword");
        this.images = pulumi.output(images);
        this.dataVolumes = deployed.dataVolumes;
        this.seedSummary = seed.summary;
        this.securityRules = pulumi.output(firewallRules(security.rules));
        this.registerOutputs({
            securityRules: this.securityRules,
            consoleUrl: this.consoleUrl,
            natsEndpoint: this.natsEndpoint,
            natsCaCert: this.natsCaCert,
            images: this.images,
            dataVolumes: this.dataVolumes,
        });
    }

    /** One Docker host: images from the bundle, the database through the loopback port, seeding on loopback. */
    private onDocker(
        name: string,
        stack: string,
        config: StackConfig,
        services: Workload[],
        values: Record<string, pulumi.Input<string>>,
        secrets: PlatformSecrets,
        bundleDir: string,
        host: HostFacts,
        security: ResolvedSecurity,
        streams: StreamsAfterNats,
        beforeUpgrade: pulumi.Resource[],
    ): Deployed {
        let firewall: command.local.Command | undefined;
        if (config.security.hostFirewall) {
            // As root on the Docker host: only the listed sources reach the listed ports; removed with the stack.
            const rules = JSON.stringify({ rules: firewallRules(security.rules) });
            firewall = new command.local.Command(
                `${name}-firewall`,
                {
                    create: bkliteCommand(["firewall", "apply", "--stack", stack, "--rules", "-"]),
                    // Changed rules are applied in place: a replacement would run the old one's delete after
                    // the new one's create and leave no firewall. The update runs only when the rules (stdin) change.
                    update: bkliteCommand(["firewall", "apply", "--stack", stack, "--rules", "-"]),
                    delete: bkliteCommand(["firewall", "remove", "--stack", stack]),
                    stdin: rules,
                    dir: PROJECT_ROOT,
                    logging: "stdoutAndStderr",
                },
                { parent: this },
            );
        }
        const images = new ImageSupply(
            `${name}-images`,
            { stack, bundleDir, missingOnHost: host.missingOnHost, bundleDigest: host.bundleDigest },
            { parent: this },
        );
        const runtime = new DockerRuntime(
            `${name}-docker`,
            { namePrefix: `bklite-${stack}`, services },
            {
                values,
                // An image changes only after the backup of the data the old one wrote.
                imagesAfter: [...images.ready, ...beforeUpgrade],
                afterStart: {
                    // Each database and its owner role, through the loopback port (the server's keeps its old name).
                    postgres: (container) =>
                        stackDatabases(config).map(
                            (db) =>
                                new PostgresDatabase(
                                    db.name === DATABASE.name ? `${name}-db` : `${name}-db-${db.name}`,
                                    {
                                        host: "127.0.0.1",
                                        port: config.ports.postgres,
                                        superuser: DATABASE.superuser,
                                        database: db.name,
                                        owner: db.owner,
                                    },
                                    {
                                        superuserPassword: secrets.value("postgresAdminPassword"),
                                        ownerPassword: values[db.passwordRef],
                                        after: [container],
                                    },
                                    { parent: this },
                                ),
                        ),
                    // Streams again when the container is replaced: a new NATS image keeps the volume, but say so.
                    nats: (container) =>
                        streams(container, `127.0.0.1:${config.ports.nats}`, { args: [], rerunWhen: [container.id] }),
                },
            },
            { parent: this },
        );
        return {
            dataVolumes: runtime.volumeNames,
            serverReady: runtime.containers.server,
            seedConnection: {
                pgHostPort: `127.0.0.1:${config.ports.postgres}`,
                natsHostPort: `127.0.0.1:${config.ports.nats}`,
                args: [],
            },
            verifyAfter: firewall ? [firewall] : [],
            // A replaced container is a new id.
            verifyWhen: Object.keys(runtime.containers)
                .sort()
                .map((service) => runtime.containers[service].id),
        };
    }

    /**
     * A cluster: the same specs as workloads, Traefik owned by the stack, the database created by PostgreSQL's own
     * init script (the program cannot reach a ClusterIP), seeding through `kubectl port-forward`.
     */
    private onKubernetes(
        name: string,
        config: StackConfig,
        services: Workload[],
        values: Record<string, pulumi.Input<string>>,
        secrets: PlatformSecrets,
        security: ResolvedSecurity,
        streams: StreamsAfterNats,
        beforeUpgrade: pulumi.Resource[],
    ): Deployed {
        const sourcesOf = (purpose: string) => security.rules.find((r) => r.purpose === purpose)?.sources ?? [];
        const k = config.kubernetes;
        const provider = new k8s.Provider(
            `${name}-k8s-provider`,
            { context: k.context, enableServerSideApply: true },
            { parent: this },
        );
        // The program's commands reach the cluster's PostgreSQL and NATS through kubectl port-forwards.
        const kubectlArgs = ["--kube-namespace", k.namespace, ...(k.context ? ["--kube-context", k.context] : [])];
        const workloads = services
            .filter((s) => s.name !== "traefik")
            .map((s) =>
                s.name === "postgres" ? { ...s, files: [...s.files, postgresInitScript(stackDatabases(config))] } : s,
            );
        const runtime = new KubernetesRuntime(
            `${name}-k8s`,
            {
                namespace: k.namespace,
                createNamespace: k.createNamespace,
                services: workloads,
                // Bash for the start-order waits, from an image the stack has anyway.
                waitImage: workloads.find((s) => s.name === "postgres")!.image,
                storageClass: k.storageClass,
                volumeSize: k.volumeSize,
                imagePullSecrets: k.imagePullSecrets,
                exposure: {
                    type: k.serviceType,
                    nodePorts: { nats: k.nodePorts.nats },
                    sourceRanges: { nats: sourcesOf("nats") },
                    edgeNode: k.edgeNode,
                },
                resources: k.resources,
            },
            {
                values,
                hashKey: secrets.value("secretKey"),
                afterStart: { nats: (workload) => streams(workload, "nats:4222", { args: kubectlArgs }) },
                before: beforeUpgrade,
                ...(k.registryAuth
                    ? { registry: { ...k.registryAuth, password: secrets.value("registryPassword") } }
                    : {}),
            },
            { parent: this, providers: [provider] },
        );
        new TraefikIngress(
            `${name}-traefik`,
            {
                namespace: runtime.namespace,
                namespaceName: k.namespace,
                image: resolveImageRef("traefik", DEFAULT_IMAGES.traefik, config.images),
                imagePullSecrets: [...k.imagePullSecrets, ...(k.registryAuth ? [REGISTRY_PULL_SECRET] : [])],
                serviceType: k.serviceType,
                httpNodePort: k.nodePorts.http,
                routed: workloads.filter((s) => s.routes.length > 0),
                ingressClass: k.ingressClass,
                hostAddress: config.hostAddress,
                sources: sourcesOf("http"),
                edgeNode: k.edgeNode,
                mode: k.ingress,
            },
            { parent: this, providers: [provider], dependsOn: [runtime.workloads.server] },
        );
        new NetworkPolicies(
            `${name}-network-policies`,
            {
                namespace: runtime.namespace,
                services: workloads,
                rules: security.rules,
                ingress:
                    k.ingress === "own"
                        ? { service: "traefik", port: WEB_PORT }
                        : { namespace: k.ingressNamespace, pods: "traefik" },
            },
            { parent: this, providers: [provider] },
        );
        const claims = workloads.flatMap((s) => s.volumes.map((v) => claimName(s, v.name)));
        return {
            dataVolumes: pulumi.output(claims.sort()),
            serverReady: runtime.workloads.server,
            seedConnection: { pgHostPort: "postgres:5432", natsHostPort: "nats:4222", args: kubectlArgs },
            verifyAfter: [],
            // A changed pod template rolls the workload out again.
            verifyWhen: [runtime.templatesDigest],
        };
    }
}
