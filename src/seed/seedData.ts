import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { visibleDigest } from "../util/visibleDigest";
import { PROJECT_ROOT, bkliteCommand } from "../util/shell";
import { SEED_ENV } from "./connection";

export interface SeedDataArgs {
    /** SHA-256 of each package file: a changed package re-runs the seeding. */
    packageDigests: string[];
    /** Extra `seed apply` arguments, e.g. `--kube-namespace bklite` to reach a cluster through port-forwards. */
    args?: string[];
}

/** Kept out of the component's inputs: component args are stored in state, and these are secrets and wiring. */
export interface SeedDataInputs {
    /** The seed spec as JSON (secret: it holds the NATS password). */
    spec: pulumi.Input<string>;
    /** Connection for `bklite seed apply`, by BKLITE_* variable (secret). */
    connection: { [K in keyof typeof SEED_ENV]?: pulumi.Input<string> };
    /** What must be up first: the healthy server (its migrations create the tables). */
    after: pulumi.Input<pulumi.Resource>[];
    /** A secret that keys the spec's digest (see visibleDigest). */
    digestKey: pulumi.Input<string>;
}

/**
 * Seeds bk-lite through `bklite seed apply`: every region's SidecarEnv and the probe packages. The spec goes on
 * stdin and the connection in the environment, both secret; the command runs again only when the spec or a
 * package's digest changes.
 */
export class SeedData extends pulumi.ComponentResource {
    /** The apply's JSON summary (counts and bytes sent). */
    public readonly summary: pulumi.Output<string>;
    /** The apply itself: a new id each time it runs again. */
    public readonly ran: command.local.Command;

    constructor(name: string, args: SeedDataArgs, inputs: SeedDataInputs, opts?: pulumi.ComponentResourceOptions) {
        super("bklite:index:SeedData", name, args, opts);
        const environment = Object.fromEntries(
            Object.entries(inputs.connection)
                .filter(([, value]) => value !== undefined)
                .map(([key, value]) => [SEED_ENV[key as keyof typeof SEED_ENV], pulumi.secret(value!)]),
        );
        // Visible, so previews and plan diffs show that a change re-runs the seeding; keyed, so it gives nothing away.
        const specDigest = visibleDigest(inputs.digestKey, [inputs.spec]);
        const apply = new command.local.Command(
            `${name}-apply`,
            {
                create: bkliteCommand(["seed", "apply", "--spec", "-", ...(args.args ?? [])]),
                stdin: pulumi.secret(inputs.spec),
                environment,
                dir: PROJECT_ROOT,
                triggers: [specDigest, ...args.packageDigests],
                logging: "stdoutAndStderr",
            },
            // The spec (stdin) holds the NATS password, the environment the connection secrets.
            { parent: this, dependsOn: inputs.after, additionalSecretOutputs: ["stdin", "environment"] },
        );
        this.summary = apply.stdout;
        this.ran = apply;
        this.registerOutputs({ summary: this.summary });
    }
}
