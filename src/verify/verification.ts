import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SEED_ENV } from "../seed/connection";
import { PROJECT_ROOT, bkliteCommand } from "../util/shell";
import { VERIFY_SECRETS } from "./env";
import { VerifySpec } from "./spec";

export interface VerificationArgs {
    /** What is checked: no secret in it, so previews and plans show it. */
    spec: VerifySpec;
    /** Extra `verify` arguments, e.g. `--kube-namespace bklite` to reach a cluster's Services through port-forwards. */
    args?: string[];
}

/** Kept out of the component's inputs: component args are stored in state, and these are secrets and wiring. */
export interface VerificationInputs {
    /** Connection and secrets, by the field of SEED_ENV or VERIFY_SECRETS that names each variable. */
    connection: { [K in keyof typeof SEED_ENV | keyof typeof VERIFY_SECRETS]?: pulumi.Input<string> };
    /** The last steps of a deployment: seeding, and the firewall when there is one. */
    after: pulumi.Input<pulumi.Resource>[];
    /** Values that change when something verified changes (seeding re-ran, a container was replaced). */
    rerunWhen: pulumi.Input<string>[];
}

/** How long the checks may keep failing right after a deployment before `pulumi up` fails (services settling). */
const SETTLE_SECONDS = 90;

/**
 * The last step of `pulumi up`: `bklite verify` proves the platform works (console, login, NATS, regions,
 * packages, services, firewall). A failing check fails the deployment with the table in its output. Runs again
 * whenever the spec or anything it depends on changed; a `pulumi up` that changed nothing runs nothing.
 */
export class Verification extends pulumi.ComponentResource {
    /** The table of the last run. */
    public readonly report: pulumi.Output<string>;

    constructor(
        name: string,
        args: VerificationArgs,
        inputs: VerificationInputs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("bklite:index:Verification", name, args, opts);
        const names: Record<string, string> = { ...SEED_ENV, ...VERIFY_SECRETS };
        const environment = Object.fromEntries(
            Object.entries(inputs.connection)
                .filter(([, value]) => value !== undefined)
                .map(([key, value]) => [names[key], pulumi.secret(value!)]),
        );
        const spec = JSON.stringify(args.spec);
        const run = new command.local.Command(
            `${name}-run`,
            {
                create: bkliteCommand([
                    "verify",
                    "--spec",
                    "-",
                    "--retry-seconds",
                    String(SETTLE_SECONDS),
                    ...(args.args ?? []),
                ]),
                stdin: spec,
                environment,
                dir: PROJECT_ROOT,
                triggers: [spec, ...inputs.rerunWhen],
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: inputs.after, additionalSecretOutputs: ["environment"] },
        );
        this.report = run.stdout;
        this.registerOutputs({ report: this.report });
    }
}
