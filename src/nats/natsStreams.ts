import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SEED_ENV } from "../seed/connection";
import { PROJECT_ROOT, bkliteCommand } from "../util/shell";
import { StreamSettings } from "./streamSettings";

export interface NatsStreamsArgs {
    /** The streams, as `bklite streams apply` takes them. */
    streams: StreamSettings[];
    /** Extra arguments, e.g. `--kube-namespace bklite` to reach a cluster through a port-forward. */
    args?: string[];
}

/** Kept out of the component's inputs: component args are stored in state, and these are secrets and wiring. */
export interface NatsStreamsInputs {
    connection: { natsUrl: string; natsUser: string; natsPassword: pulumi.Input<string>; natsCa: pulumi.Input<string> };
    /** NATS, up and healthy. */
    after: pulumi.Resource[];
    /** Values that change when NATS is replaced (its container's id): the streams are applied again then. */
    rerunWhen?: pulumi.Input<string>[];
}

/**
 * The JetStream streams the platform's services consume, made to exist through `bklite streams apply` once NATS is
 * healthy. Services that consume them wait for `ready`. Runs again when the streams' settings change or NATS is
 * replaced.
 */
export class NatsStreams extends pulumi.ComponentResource {
    /** Done applying: what consumers of the streams wait for. */
    public readonly ready: pulumi.Resource;

    constructor(
        name: string,
        args: NatsStreamsArgs,
        inputs: NatsStreamsInputs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("bklite:index:NatsStreams", name, args, opts);
        const spec = JSON.stringify({ streams: args.streams });
        const { natsUrl, natsUser, natsPassword, natsCa } = inputs.connection;
        this.ready = new command.local.Command(
            `${name}-apply`,
            {
                create: bkliteCommand(["streams", "apply", "--spec", "-", ...(args.args ?? [])]),
                stdin: spec,
                environment: {
                    [SEED_ENV.natsUrl]: natsUrl,
                    [SEED_ENV.natsUser]: natsUser,
                    [SEED_ENV.natsPassword]: pulumi.secret(natsPassword),
                    [SEED_ENV.natsCa]: natsCa,
                },
                dir: PROJECT_ROOT,
                triggers: [spec, ...(inputs.rerunWhen ?? [])],
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: inputs.after, additionalSecretOutputs: ["environment"] },
        );
        this.registerOutputs({});
    }
}
