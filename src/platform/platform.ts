/**
 * BkLitePlatform: a whole bk-lite platform on the runtime `bklite:runtime` names. The platform makes what every
 * runtime needs (secrets, the NATS CA, the streams, the backup before an upgrade, the seed data, the verification);
 * the runtime deploys the workloads and reaches them (src/runtimes). Nothing here asks which runtime it is.
 */
import * as pulumi from "@pulumi/pulumi";
import { secretEnv } from "../backup/env";
import { PreUpgradeBackup } from "../backup/preUpgradeBackup";
import type { StackFileValues } from "../config/stackFiles";
import { SecretName, StackConfig } from "../config/types";
import { NatsStreams } from "../nats/natsStreams";
import { NatsTls } from "../nats/natsTls";
import { endpointsOf, runtimeOf } from "../runtimes";
import { Deployment, Runtime, Started } from "../runtimes/runtime";
import { firewallRules } from "../security/resolve";
import { resolveSecurity } from "../security/stackRules";
import { SEED_ENV } from "../seed/connection";
import { SeedData } from "../seed/seedData";
import { packageDigests, plannedPackageDigests, seedSpecOf } from "../seed/stackSpec";
import { agentNatsHosts, agentPasswordRef } from "../services/regions";
import { derivedSecretStandIn, renderingPlan } from "../plan/mode";
import { NATS_SERVER_USER, agentPassword } from "../services/natsAccounts";
import { ADMIN_USER, DATABASE, NATS_NAMESPACE, VALUE_REFS, natsAgentEndpoint, publicUrl } from "../services/shared";
import { stackDataOf, stackDatabases, stackSecrets, stackStreams, stackWorkloads } from "../services/stack";
import { Workload } from "../services/workload";
import { PROJECT_ROOT } from "../util/shell";
import { Verification } from "../verify/verification";
import { verifySpecOf } from "../verify/stackSpec";
import { PlatformSecrets } from "./platformSecrets";

export interface BkLitePlatformArgs {
    /** Stack name: Docker objects are named `bklite-<stack>-*`, so two stacks can share a host. */
    stack: string;
    /** Validated config; it holds no secret values. */
    config: StackConfig;
    /** The config as the program was given it, secrets only named: what the CLI commands it runs parse again. */
    configValues: StackFileValues;
    /**
     * Read the deploy host (or cluster) before registering anything: images, bundle, probe packages, claims.
     * Default true; off only when rendering a plan, which must depend on the commit alone.
     */
    inspectHost?: boolean;
}

/** What the platform's parts share once secrets and certificates exist. */
interface Made {
    name: string;
    args: BkLitePlatformArgs;
    runtime: Runtime;
    secrets: PlatformSecrets;
    natsTls: NatsTls;
}

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
    /**
     * Every BKLITE_* variable the operator's commands connect with (`bklite verify|backup|restore|seed apply|streams
     * apply --stack`), as the program's own commands get them: one secret, which the CLI reads through `pulumi stack
     * output` when the variables are not set.
     */
    public readonly operatorEnvironment: pulumi.Output<Record<string, string>>;
    public readonly securityRules: pulumi.Output<
        Array<{ port: number; protocol: string; sources: string[]; purpose: string; description: string }>
    >;

    constructor(name: string, args: BkLitePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        const { config, stack } = args;
        const runtime = runtimeOf(config.runtime);
        const workloads = stackWorkloads(config);
        // Before anything is registered: what the host or cluster cannot do stops the run with nothing changed.
        const planning = args.inspectHost === false;
        const prepared = runtime.prepare({ stack, config, workloads, planning });
        const packages = planning ? plannedPackageDigests(config) : packageDigests(config, PROJECT_ROOT);
        super("bklite:index:Platform", name, args, opts);
        const security = resolveSecurity(config);
        for (const warning of [...prepared.warnings, ...security.warnings]) {
            void pulumi.log.warn(warning, this);
        }
        const made = this.secretsAndCertificates(name, args, runtime);
        const deployment = prepared.deploy({
            parent: this,
            name,
            stack,
            config,
            workloads,
            security,
            databases: stackDatabases(config),
            values: boundValues(made),
            secret: (key) => made.secrets.value(key),
            before: this.backupBeforeUpgrade(made, workloads),
            afterStart: { nats: (started) => this.streams(made, started) },
        });
        const seed = this.seed(made, deployment, packages);
        this.verification(made, deployment, seed);

        const endpoints = endpointsOf(config);
        this.consoleUrl = pulumi.output(publicUrl(config, endpoints));
        this.natsEndpoint = pulumi.output(natsAgentEndpoint(endpoints));
        this.natsCaCert = made.natsTls.caCertPem;
        this.adminUser = pulumi.output(ADMIN_USER);
        this.adminPassword = made.secrets.value("adminPassword");
        this.images = pulumi.output(imagesOf(workloads));
        this.dataVolumes = deployment.dataVolumes;
        this.seedSummary = seed.summary;
        this.securityRules = pulumi.output(firewallRules(security.rules));
        this.operatorEnvironment = pulumi.secret(operatorEnvironment(made));
        this.registerOutputs({
            securityRules: this.securityRules,
            consoleUrl: this.consoleUrl,
            natsEndpoint: this.natsEndpoint,
            natsCaCert: this.natsCaCert,
            images: this.images,
            dataVolumes: this.dataVolumes,
        });
    }

    /** The stack's secrets (given or generated), and the CA and certificate NATS serves TLS with. */
    private secretsAndCertificates(name: string, args: BkLitePlatformArgs, runtime: Runtime): Made {
        const { config } = args;
        const secrets = new PlatformSecrets(
            `${name}-secrets`,
            { secrets: stackSecrets(config), providedSecrets: config.providedSecrets },
            { parent: this },
        );
        // Every name the stack's clients reach NATS by, and every address a region tells agents.
        const natsTls = new NatsTls(
            `${name}-nats-tls`,
            {
                hostAddress: config.hostAddress,
                serviceNames: runtime.serviceNames(config, "nats"),
                agentHosts: agentNatsHosts(config.regions, runtime.endpoints(config)),
            },
            { parent: this },
        );
        return { name, args, runtime, secrets, natsTls };
    }

    /**
     * The JetStream streams the running services consume, applied once NATS is up (again when it is replaced);
     * consumers of a stream wait for them.
     */
    private streams({ name, args, runtime, secrets, natsTls }: Made, nats: Started): pulumi.Resource[] {
        const streams = stackStreams(args.config).map((s) => s.stream);
        if (streams.length === 0) {
            return [];
        }
        const natsUrl = `tls://${runtime.commandAddress(args.config, "nats")}`;
        return [
            new NatsStreams(
                `${name}-streams`,
                { streams, args: runtime.commandArgs(args.config, args.stack) },
                {
                    connection: {
                        natsUrl,
                        natsUser: NATS_SERVER_USER,
                        natsPassword: secrets.value("natsServerPassword"),
                        natsCa: natsTls.caCertPem,
                    },
                    after: [nats.resource],
                    rerunWhen: nats.rerunWhen,
                },
                { parent: this },
            ).ready,
        ];
    }

    /** Before an upgrade replaces anything: a backup of the data as the old images left it. */
    private backupBeforeUpgrade({ name, args, secrets, natsTls }: Made, workloads: Workload[]): pulumi.Resource[] {
        const { config } = args;
        if (!config.backup.beforeUpgrade) {
            void pulumi.log.warn(
                "bklite:backup.beforeUpgrade is false: an image change replaces containers without a backup first; take one with `bklite backup --stack <stack> --dir DIR`",
                this,
            );
            return [];
        }
        const backup = new PreUpgradeBackup(
            `${name}-backup`,
            { stack: args.stack, config, configValues: args.configValues, images: imagesOf(workloads) },
            {
                connection: {
                    natsPassword: secrets.value("natsServerPassword"),
                    natsPreviousPassword: secrets.value("natsPassword"),
                    natsCa: natsTls.caCertPem,
                    secretKey: secrets.value("secretKey"),
                    ...rotation(config, secrets),
                    storePasswords: storePasswords(config, secrets),
                },
            },
            { parent: this },
        );
        return [backup.ran];
    }

    /** Every region's SidecarEnv and the probe packages, once the server is healthy (its migrations make the tables). */
    private seed(
        { name, args, runtime, secrets, natsTls }: Made,
        deployment: Deployment,
        packages: string[],
    ): SeedData {
        const { config } = args;
        const rotating = config.providedSecrets.includes("previousSecretKey");
        return new SeedData(
            `${name}-seed`,
            {
                packageDigests: packages,
                // Rotating SECRET_KEY: the stored secret values are re-encrypted from the previous key, not refused.
                args: [...runtime.commandArgs(config, args.stack), ...(rotating ? ["--reencrypt"] : [])],
            },
            {
                spec: pulumi
                    .all([secrets.value("natsAgentKey"), secrets.value("adminPassword")])
                    .apply(([agentKey, adminPassword]) =>
                        JSON.stringify(
                            seedSpecOf(config, {
                                agentPassword: (r) => regionAgentPassword(agentKey, r),
                                adminPassword,
                            }),
                        ),
                    ),
                connection: {
                    pgUrl: databaseUrl(runtime, config, secrets),
                    natsUrl: `tls://${runtime.commandAddress(config, "nats")}`,
                    natsUser: NATS_SERVER_USER,
                    natsPassword: secrets.value("natsServerPassword"),
                    natsCa: natsTls.caCertPem,
                    bucket: NATS_NAMESPACE,
                    secretKey: secrets.value("secretKey"),
                    ...rotation(config, secrets),
                },
                after: [deployment.serverReady],
                digestKey: secrets.value("secretKey"),
            },
            { parent: this },
        );
    }

    /** Last: prove the platform works, or fail the deployment with the table of what does not. */
    private verification({ name, args, runtime, secrets, natsTls }: Made, deployment: Deployment, seed: SeedData) {
        const { config } = args;
        if (!config.verify) {
            void pulumi.log.warn(
                "bklite:verify is false: nothing proves this platform works after `pulumi up`; run `bklite verify --stack <stack>` by hand",
                this,
            );
            return;
        }
        new Verification(
            `${name}-verify`,
            { spec: verifySpecOf(config, args.stack), args: runtime.commandArgs(config, args.stack) },
            {
                connection: {
                    pgUrl: databaseUrl(runtime, config, secrets),
                    natsUser: NATS_SERVER_USER,
                    natsPassword: secrets.value("natsServerPassword"),
                    natsCa: natsTls.caCertPem,
                    bucket: NATS_NAMESPACE,
                    secretKey: secrets.value("secretKey"),
                    ...optional(secrets, "adminPassword"),
                    ...optional(secrets, "falkordbPassword"),
                },
                after: [seed.ran, ...deployment.verifyAfter],
                rerunWhen: [seed.ran.id, ...deployment.verifyWhen],
            },
            { parent: this },
        );
    }
}

/** The variables of `operatorEnvironment`: the connection the program's own commands get, and every store password. */
function operatorEnvironment({ args, runtime, secrets, natsTls }: Made): pulumi.Output<Record<string, string>> {
    const { config } = args;
    const values: Record<string, pulumi.Input<string>> = {
        [SEED_ENV.pgUrl]: databaseUrl(runtime, config, secrets),
        [SEED_ENV.natsUrl]: `tls://${runtime.commandAddress(config, "nats")}`,
        [SEED_ENV.natsUser]: NATS_SERVER_USER,
        [SEED_ENV.natsPassword]: secrets.value("natsServerPassword"),
        [SEED_ENV.natsCa]: natsTls.caCertPem,
        [SEED_ENV.bucket]: NATS_NAMESPACE,
        [SEED_ENV.secretKey]: secrets.value("secretKey"),
        [secretEnv("natsAgentKey")]: secrets.value("natsAgentKey"),
        ...Object.fromEntries(
            Object.entries({ ...optional(secrets, "adminPassword"), ...storePasswords(config, secrets) }).map(
                ([secret, value]) => [secretEnv(secret), value!],
            ),
        ),
    };
    return pulumi.all(values).apply((resolved) => resolved as Record<string, string>);
}

/** A region's agent password; in a plan, where the key is a stand-in, a stand-in too. */
function regionAgentPassword(agentKey: string, region: string): string {
    return renderingPlan()
        ? derivedSecretStandIn(`agent password of region ${region}`)
        : agentPassword(agentKey, region);
}

/** The values workloads refer to by name: the secrets, each region's agent password, NATS's CA, certificate and key. */
function boundValues({ args, secrets, natsTls }: Made): Record<string, pulumi.Input<string>> {
    const agentKey = secrets.value("natsAgentKey");
    return {
        ...(secrets.values as Record<string, pulumi.Output<string>>),
        ...Object.fromEntries(
            args.config.regions.map((r) => [
                agentPasswordRef(r.name),
                pulumi.secret(agentKey.apply((key) => regionAgentPassword(key, r.name))),
            ]),
        ),
        [VALUE_REFS.natsCaCert]: natsTls.caCertPem,
        [VALUE_REFS.natsServerCert]: natsTls.serverCertPem,
        [VALUE_REFS.natsServerKey]: natsTls.serverKeyPem,
    };
}

/** bk-lite's database as seeding and verification reach it, as the server does, through the runtime's way in. */
function databaseUrl(runtime: Runtime, config: StackConfig, secrets: PlatformSecrets): pulumi.Output<string> {
    const address = runtime.commandAddress(config, "postgres");
    return pulumi.interpolate`postgres://${DATABASE.owner}:${secrets.value("postgresPassword")}@${address}/${DATABASE.name}`;
}

/** The previous SECRET_KEY, while rotating it. */
function rotation(config: StackConfig, secrets: PlatformSecrets): { previousSecretKey?: pulumi.Output<string> } {
    return config.providedSecrets.includes("previousSecretKey")
        ? { previousSecretKey: secrets.value("previousSecretKey") }
        : {};
}

/** A secret the stack has only with some apps (falkordbPassword with cmdb), when it has it. */
function optional<K extends "adminPassword" | "falkordbPassword">(
    secrets: PlatformSecrets,
    key: K,
): Partial<Record<K, pulumi.Output<string>>> {
    return (secrets.values[key] ? { [key]: secrets.value(key) } : {}) as Partial<Record<K, pulumi.Output<string>>>;
}

/** The password of every store the running services declare, which backups need: by secret name. */
function storePasswords(
    config: StackConfig,
    secrets: PlatformSecrets,
): Partial<Record<SecretName, pulumi.Output<string>>> {
    const stores = [...stackDataOf(config, "keyspace"), ...stackDataOf(config, "s3")];
    return Object.fromEntries(stores.map(({ data }) => [data.password, secrets.value(data.password)]));
}

/** Each service's image ref. */
function imagesOf(workloads: ReadonlyArray<Workload>): Record<string, string> {
    return Object.fromEntries(workloads.map((s) => [s.name, s.image]));
}
