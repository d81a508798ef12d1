import { applySeed } from "../src/seed/apply";
import { SEED_ENV, connectionFromEnv } from "../src/seed/connection";
import { withForwards } from "../src/runtimes/kubernetes/portForward";
import { parseSeedSpec } from "../src/seed/spec";
import { CommandHandler } from "./commands";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

/** `bklite seed apply`. Progress on stderr; the JSON summary on stdout. */
export const seedApply: CommandHandler = async ({ values, out, err }) => {
    const waitSeconds = values["wait-seconds"] === undefined ? 900 : Number(values["wait-seconds"]);
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
        throw new UsageError("--wait-seconds must be a number of seconds");
    }
    const namespace = values["kube-namespace"] as string | undefined;
    if (namespace === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const spec = parseSeedSpec(readJsonOption("spec", values.spec as string));
    const connection = connectionFromEnv(process.env, spec.packages.length > 0);
    const reencrypt = values.reencrypt === true;
    if (connection.previousSecretKey !== undefined && !reencrypt) {
        throw new UsageError(
            `${SEED_ENV.previousSecretKey} is set but --reencrypt is not: pass --reencrypt to re-encrypt the stored secrets under ${SEED_ENV.secretKey}, or unset it`,
        );
    }
    const apply = (conn: typeof connection) =>
        applySeed(spec, conn, {
            force: values.force === true,
            reencrypt,
            migrationTimeoutMs: waitSeconds * 1000,
            log: (line) => err.write(`${line}\n`),
        });
    // On a cluster, PostgreSQL and NATS are reached through port-forwards to the Services named in the URLs.
    const summary =
        namespace === undefined
            ? await apply(connection)
            : await withForwards(
                  { namespace, context: values["kube-context"] as string | undefined },
                  [connection.pgUrl, spec.packages.length > 0 ? connection.natsUrl : ""],
                  ([pgUrl, natsUrl]) => apply({ ...connection, pgUrl, natsUrl: natsUrl || connection.natsUrl }),
              );
    out.write(`${JSON.stringify(summary)}\n`);
    return 0;
};
