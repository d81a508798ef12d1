import { accessFromOptions } from "../src/runtimes";
import { natsEndpointFromEnv } from "../src/seed/connection";
import { applyStreams } from "../src/nats/streams";
import { parseStreamsSpec } from "../src/nats/streamSettings";
import { CommandHandler } from "./types";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

/** `bklite streams apply`: the spec's JetStream streams made to exist. Progress on stderr, the summary on stdout. */
export const streamsApply: CommandHandler = async ({ values, out, err }) => {
    if (values["kube-namespace"] === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const streams = parseStreamsSpec(readJsonOption("spec", values.spec as string));
    const endpoint = natsEndpointFromEnv(process.env);
    // NATS where the URL says, reached through the stack's access (a cluster's port-forward).
    const access = accessFromOptions(values);
    try {
        const url = await access.reach(endpoint.url);
        const summary = await applyStreams(streams, { ...endpoint, url }, (line) => err.write(`${line}\n`));
        out.write(`${JSON.stringify(summary)}\n`);
        return 0;
    } finally {
        await access.close();
    }
};
