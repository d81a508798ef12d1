/**
 * What an agent's NATS credentials may do, with the credentials agents of each region really get: the region's
 * NATS_USERNAME and NATS_PASSWORD as the database holds them (decrypted with SECRET_KEY). A metric published with
 * them reaches the server side; a command subject and a delete-class JetStream call are refused by NATS.
 */
import * as crypto from "crypto";
import { NatsConnection } from "nats";
import { connectNats, natsFailureKind } from "../nats/client";
import { regionCredentials } from "../seed/agentUsers";
import { objectStream } from "../services/natsAccounts";
import { Check, CheckContext, fail, ok, reason } from "./check";
import { connectionFix } from "./natsChecks";
import { database } from "./databaseChecks";

/** The region's credential as agents are handed it, or why there is none. */
async function handedOut(context: CheckContext, region: string): Promise<{ user: string; password: string } | string> {
    const found = (await regionCredentials(await database(context), [region], context.secrets.secretKey)).get(region);
    if (found === "undecryptable") {
        return "the region's NATS_PASSWORD does not decrypt with SECRET_KEY";
    }
    return found === undefined || found === "missing"
        ? "the region's SidecarEnv has no NATS_USERNAME and NATS_PASSWORD"
        : found;
}

/** Whether NATS refuses a request on `subject` for this connection (a permissions violation, not a timeout). */
async function refused(nc: NatsConnection, subject: string, body: string): Promise<string | undefined> {
    try {
        await nc.request(subject, new TextEncoder().encode(body), { timeout: 5000 });
        return `${subject} was answered`;
    } catch (err) {
        const code = String((err as { code?: unknown }).code ?? "");
        return code === "PERMISSIONS_VIOLATION" ? undefined : `${subject}: ${reason(err)}, not refused`;
    }
}

/** Whether a metric published with the agent's credential arrives on the server side. */
async function metricArrives(
    context: CheckContext,
    agent: NatsConnection,
    region: string,
): Promise<string | undefined> {
    const { natsUser, natsPassword, natsCa } = context.secrets;
    const server = await connectNats(
        { url: context.spec.natsEndpoint, user: natsUser, password: natsPassword, ca: natsCa },
        "bklite-verify-server-side",
    );
    context.defer(() => server.close());
    const subject = "metrics.bklite-verify";
    const line = `bklite_verify,region=${region.replace(/[ ,=]/g, "_")} probe="${crypto.randomBytes(4).toString("hex")}"`;
    const arrived = new Promise<boolean>((resolve) => {
        const sub = server.subscribe(subject, {
            max: 1,
            callback: (_e, m) => resolve(new TextDecoder().decode(m.data) === line),
        });
        setTimeout(() => (sub.unsubscribe(), resolve(false)), 5000);
    });
    await server.flush();
    agent.publish(subject, new TextEncoder().encode(line));
    await agent.flush();
    return (await arrived) ? undefined : `a metric published on ${subject} did not reach the server side`;
}

/** One row per region: its agents' credential holds to what agents do. */
export function agentChecks(regions: ReadonlyArray<{ name: string }>): Check[] {
    return regions.map((region) => ({
        name: `agent rights ${region.name}`,
        async run(context) {
            const expected =
                "the region's agent credential: a metric publish reaches the server side; a command subject and a delete refused";
            try {
                const credential = await handedOut(context, region.name);
                if (typeof credential === "string") {
                    return fail(expected, credential, "seeding writes it: run `pulumi up` (or `bklite seed apply`)");
                }
                const agent = await connectNats(
                    { url: context.spec.natsEndpoint, ...credential, ca: context.secrets.natsCa },
                    "bklite-verify-agent",
                );
                context.defer(() => agent.close());
                const node = crypto.randomBytes(16).toString("hex");
                const stream = objectStream(context.secrets.bucket);
                const problems = [
                    await metricArrives(context, agent, region.name),
                    await refused(agent, `local.execute.${node}`, '{"args":[{"command":"true"}],"kwargs":{}}'),
                    await refused(agent, `$JS.API.STREAM.PURGE.${stream}`, `{"filter":"$O.bklite-verify.C.none"}`),
                ].filter((p): p is string => p !== undefined);
                const found = `${credential.user}: metric arrived; local.execute and STREAM.PURGE refused`;
                return problems.length === 0
                    ? ok(expected, found)
                    : fail(
                          expected,
                          problems.join("; "),
                          "NATS must hold agents to their rights: its config comes from src/services/natsConfig.ts, the agents' users from `bklite seed apply`",
                      );
            } catch (err) {
                const refusedCredential = natsFailureKind(((err as Error).cause ?? err) as Error) === "authentication";
                return fail(
                    expected,
                    reason(err),
                    refusedCredential
                        ? "NATS does not accept the credential the region hands out (or the server side's): run `bklite seed apply` (pulumi up does), which writes both the region's SidecarEnv and NATS's agents' users"
                        : connectionFix(err),
                );
            }
        },
    }));
}
