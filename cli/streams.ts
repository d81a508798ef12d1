import { natsEndpointFromEnv } from "../src/seed/connection";
import { withForwards } from "../src/runtimes/kubernetes/portForward";
import { applyStreams } from "../src/nats/streams";
import { parseStreamsSpec } from "../src/nats/streamSettings";
import { CommandHandler } from "./commands";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

/** `bklite streams apply`: the spec's JetStream streams made to exist. Progress on stderr, the summary on stdout. */
export const streamsApply: CommandHandler = async ({ values, out, err }) => {
    const namespace = values["kube-namespace"] as string | undefined;
    if (namespace === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const streams = parseStreamsSpec(readJsonOption("spec", values.spec as string));
    const endpoint = natsEndpointFromEnv(process.env);
    const log = (line: string) => err.write(`${line}\n`);
    // On a cluster, NATS is reached through a port-forward to the Service named in the URL.
    const summary =
        namespace === undefined
            ? await applyStreams(streams, endpoint, log)
            : await withForwards(
                  { namespace, context: values["kube-context"] as string | undefined },
                  [endpoint.url],
                  ([url]) => applyStreams(streams, { ...endpoint, url }, log),
              );
    out.write(`${JSON.stringify(summary)}\n`);
    return 0;
};
