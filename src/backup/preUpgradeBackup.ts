import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_ROOT, bkliteCommand } from "../util/shell";
import { SEED_ENV } from "../seed/connection";
import { SecretName } from "../config/types";
import { NATS_PREVIOUS_PASSWORD, secretEnv } from "./env";
import { StackConfig } from "../config/types";
import type { StackFileValues } from "../config/stackFiles";

export interface PreUpgradeBackupArgs {
    stack: string;
    /** The stack's validated config (it holds no secret): `backup.dir` and `backup.keep` say where and how many. */
    config: StackConfig;
    /** The same config as the program was given it: what the CLI's one parser reads (`--stack-config -`). */
    configValues: StackFileValues;
    /** Every service's image ref: a change of any is an upgrade, and runs the backup first. */
    images: Record<string, string>;
}

/** Kept out of the component's inputs: component args are stored in state, and these are secrets. */
export interface PreUpgradeBackupInputs {
    /** For the object store, the streams and the SECRET_KEY fingerprint, by BKLITE_* variable (secret). */
    connection: {
        natsPassword: pulumi.Input<string>;
        /** The shared password of the release before, for a NATS that still runs that release's config. */
        natsPreviousPassword: pulumi.Input<string>;
        natsCa: pulumi.Input<string>;
        secretKey: pulumi.Input<string>;
        previousSecretKey?: pulumi.Input<string>;
        /** The password of every store the services declare (FalkorDB's, MinIO's), by secret name. */
        storePasswords: Partial<Record<SecretName, pulumi.Input<string>>>;
    };
}

/** `image=ref` per service, sorted: the trigger, stable from run to run. */
export function upgradeTriggers(images: Record<string, string>): string[] {
    return Object.keys(images)
        .sort()
        .map((service) => `${service}=${images[service]}`);
}

/**
 * `bklite backup` before an upgrade: runs when any image ref changes (a replacement, by its triggers), and on a
 * stack's first `pulumi up`, when it finds nothing deployed and says so. The containers or workloads depend on it, so the old ones are still serving
 * while it runs and none is replaced before the backup is complete; a failed backup stops the upgrade.
 */
export class PreUpgradeBackup extends pulumi.ComponentResource {
    /** The backup command: what the runtime's containers or workloads wait for. */
    public readonly ran: command.local.Command;
    /** Its JSON summary: the backup's directory and sizes, or `{"skipped": ...}`. */
    public readonly summary: pulumi.Output<string>;

    constructor(
        name: string,
        args: PreUpgradeBackupArgs,
        inputs: PreUpgradeBackupInputs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("bklite:index:PreUpgradeBackup", name, args, opts);
        const c = inputs.connection;
        const environment: Record<string, pulumi.Input<string>> = {
            [SEED_ENV.natsPassword]: pulumi.secret(c.natsPassword),
            [NATS_PREVIOUS_PASSWORD]: pulumi.secret(c.natsPreviousPassword),
            [SEED_ENV.natsCa]: c.natsCa,
            [SEED_ENV.secretKey]: pulumi.secret(c.secretKey),
            ...(c.previousSecretKey ? { [SEED_ENV.previousSecretKey]: pulumi.secret(c.previousSecretKey) } : {}),
            ...Object.fromEntries(
                Object.entries(c.storePasswords).map(([name, value]) => [secretEnv(name), pulumi.secret(value!)]),
            ),
        };
        this.ran = new command.local.Command(
            `${name}-run`,
            {
                create: bkliteCommand([
                    "backup",
                    "--stack",
                    args.stack,
                    "--stack-config",
                    "-",
                    "--dir",
                    args.config.backup.dir,
                    "--keep",
                    String(args.config.backup.keep),
                    "--if-deployed",
                ]),
                // Other changes (a new region, a rotated password) are no upgrade: they take no backup.
                update: "echo 'no image changed: no backup needed'",
                stdin: JSON.stringify(args.configValues),
                environment,
                dir: PROJECT_ROOT,
                triggers: upgradeTriggers(args.images),
                logging: "stdoutAndStderr",
            },
            { parent: this, additionalSecretOutputs: ["environment"] },
        );
        this.summary = this.ran.stdout;
        this.registerOutputs({ summary: this.summary });
    }
}
