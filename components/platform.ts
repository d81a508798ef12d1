import * as pulumi from "@pulumi/pulumi";
import { ServiceName } from "./app/catalog";
import { ADMIN_USER, DATABASE, NATS_NAMESPACE, VALUE_REFS, natsAgentEndpoint, planServices, publicUrl, serviceImages } from "./app/services";
import { NATS_USER } from "./config/validate";
import { packageDigests, renderSeedSpec } from "./seed/render";
import { SeedData } from "./seed/seedData";
import { PROJECT_ROOT } from "./shell";
import { StackConfig } from "./config/validate";
import { PostgresDatabase } from "./database/postgresDatabase";
import { ImageSupply, checkImageSupply } from "./images/imageSupply";
import { DEFAULT_BUNDLE_DIR } from "./images/refs";
import { NatsTls } from "./nats/natsTls";
import { DockerRuntime } from "./runtime/docker/dockerRuntime";
import { PlatformSecrets } from "./secrets/platformSecrets";

export interface BkLitePlatformArgs {
    /** Stack name: Docker objects are named `bklite-<stack>-*`, so two stacks can share a host. */
    stack: string;
    /** Validated config; it holds no secret values. */
    config: StackConfig;
    /**
     * Check, before registering anything, that every image is on the Docker host or in the bundle (offline
     * stacks). Default true; off only where no Docker host is involved (rendering a plan).
     */
    checkImages?: boolean;
}

/**
 * A whole bk-lite platform: secrets, the NATS CA, the service specs and the runtime that runs them, plus the
 * application database inside PostgreSQL.
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
    /** Image ref of each service: exactly what has to be on the host or in the bundle. */
    public readonly images: pulumi.Output<Record<string, string>>;
    /** Data volumes, kept when the stack is destroyed. */
    public readonly dataVolumes: pulumi.Output<string[]>;
    /** What the last seeding did (JSON: created, updated, unchanged per kind; bytes sent). */
    public readonly seedSummary: pulumi.Output<string>;

    constructor(name: string, args: BkLitePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before anything is registered: a missing image stops the run with nothing changed.
        const bundleDir = args.config.images.bundleDir ?? DEFAULT_BUNDLE_DIR;
        const missingOnHost = args.config.offline && args.checkImages !== false ? checkImageSupply(serviceImages(args.config), args.stack, bundleDir) : [];
        const digests = packageDigests(args.config, PROJECT_ROOT);
        super("bklite:index:Platform", name, args, opts);
        const { config } = args;
        const services = planServices(config);

        const secrets = new PlatformSecrets(`${name}-secrets`, { providedSecrets: config.providedSecrets }, { parent: this });
        const natsTls = new NatsTls(`${name}-nats-tls`, { hostAddress: config.hostAddress, serviceNames: ["nats"] }, { parent: this });
        const values: Record<string, pulumi.Input<string>> = {
            ...secrets.values,
            [VALUE_REFS.natsCaCert]: natsTls.caCertPem,
            [VALUE_REFS.natsServerCert]: natsTls.serverCertPem,
            [VALUE_REFS.natsServerKey]: natsTls.serverKeyPem,
        };

        const images = new ImageSupply(`${name}-images`, { stack: args.stack, bundleDir, missingOnHost }, { parent: this });
        const runtime = new DockerRuntime(
            `${name}-docker`,
            { namePrefix: `bklite-${args.stack}`, services },
            {
                values,
                imagesAfter: images.ready,
                afterStart: {
                    postgres: (container) => [
                        new PostgresDatabase(
                            `${name}-db`,
                            {
                                host: "127.0.0.1",
                                port: config.ports.postgres,
                                superuser: DATABASE.superuser,
                                database: DATABASE.name,
                                owner: DATABASE.owner,
                            },
                            {
                                superuserPassword: secrets.values.postgresAdminPassword,
                                ownerPassword: secrets.values.postgresPassword,
                                after: [container],
                            },
                            { parent: this },
                        ),
                    ],
                },
            },
            { parent: this },
        );

        const seed = new SeedData(
            `${name}-seed`,
            { packageDigests: digests },
            {
                spec: secrets.values.natsPassword.apply((natsPassword) => JSON.stringify(renderSeedSpec(config, natsPassword, PROJECT_ROOT))),
                connection: {
                    pgUrl: pulumi.interpolate`postgres://${DATABASE.owner}:${secrets.values.postgresPassword}@127.0.0.1:${config.ports.postgres}/${DATABASE.name}`,
                    natsUrl: `tls://127.0.0.1:${config.ports.nats}`,
                    natsUser: NATS_USER,
                    natsPassword: secrets.values.natsPassword,
                    natsCa: natsTls.caCertPem,
                    bucket: NATS_NAMESPACE,
                    secretKey: secrets.values.secretKey,
                },
                after: [runtime.containers.server],
            },
            { parent: this },
        );

        this.consoleUrl = pulumi.output(publicUrl(config));
        this.natsEndpoint = pulumi.output(natsAgentEndpoint(config));
        this.natsCaCert = natsTls.caCertPem;
        this.adminUser = pulumi.output(ADMIN_USER);
        this.adminPassword = secrets.values.adminPassword;
        this.images = pulumi.output(
            Object.fromEntries(services.map((s) => [s.name as ServiceName, s.image])) as Record<string, string>,
        );
        this.dataVolumes = runtime.volumeNames;
        this.seedSummary = seed.summary;
        this.registerOutputs({
            consoleUrl: this.consoleUrl,
            natsEndpoint: this.natsEndpoint,
            natsCaCert: this.natsCaCert,
            images: this.images,
            dataVolumes: this.dataVolumes,
        });
    }
}
