import { accessFromOptions } from "../src/runtimes";
import { natsEndpointFromEnv } from "../src/seed/connection";
import { applyStreams } from "../src/nats/streams";
import { parseStreamsSpec } from "../src/nats/streamSettings";
import { CommandHandler } from "./types";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";
import { stackStreams } from "../src/services/stack";
import { stackOrSpec, stackTarget } from "./stackTarget";

/** `bklite streams apply`: the spec's JetStream streams made to exist. Progress on stderr, the summary on stdout. */
export const streamsApply: CommandHandler = async ({ values, out, err }) => {
    if (values["kube-namespace"] === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const given = stackOrSpec(values, "apply the streams of");
    const target = given.stack === undefined ? undefined : stackTarget(values, given.stack);
    const streams = target
        ? stackStreams(target.config).map((s) => s.stream)
        : parseStreamsSpec(readJsonOption("spec", given.spec!));
    const endpoint = natsEndpointFromEnv(process.env);
    // NATS where the URL says, reached through the stack's access (a cluster's port-forward).
    const access = target?.access ?? accessFromOptions(values);
    try {
        const url = await access.reach(endpoint.url);
        const summary = await applyStreams(streams, { ...endpoint, url }, (line) => err.write(`${line}\n`));
        out.write(`${JSON.stringify(summary)}\n`);
        return 0;
    } finally {
        await access.close();
    }
};
