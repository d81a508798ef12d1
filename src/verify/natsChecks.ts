/**
 * NATS as agents and the server's executor use it: a TLS connection verified with the stack's CA at the address
 * agents are given (with the server side's credentials; the agents' own are the agent rights checks'); a plaintext
 * client refused; the streams the services consume; and the
 * server-side nats-executor answering a request the way the Go executor does.
 */
import * as net from "net";
import * as crypto from "crypto";
import { NatsConnection } from "nats";
import { connectNats, natsFailureKind } from "../nats/client";
import { Check, CheckContext, fail, ok, reason } from "./check";

/** The server side's connection, at the address agents are given. */
async function agentConnection(context: CheckContext, name: string): Promise<NatsConnection> {
    const { natsUser, natsPassword, natsCa } = context.secrets;
    const nc = await connectNats(
        { url: context.spec.natsEndpoint, user: natsUser, password: natsPassword, ca: natsCa },
        name,
    );
    context.defer(() => nc.close());
    return nc;
}

/** host and port of `tls://host:port`. */
function hostPort(endpoint: string): { host: string; port: number } {
    const url = new URL(endpoint);
    return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) };
}

/**
 * What NATS says to a client that does not start TLS: its INFO, then its answer to a CONNECT without credentials
 * and a PING (none are sent in the clear).
 */
function plaintextAttempt(context: CheckContext): Promise<{ tlsRequired: boolean; answer: string }> {
    const { host, port } = hostPort(context.spec.natsEndpoint);
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port });
        context.defer(() => socket.destroy());
        let buffer = "";
        let info: { tls_required?: boolean } | undefined;
        const finish = () => {
            socket.destroy();
            resolve({
                tlsRequired: info?.tls_required === true,
                answer: buffer.split("\r\n").slice(1).join(" ").trim() || "connection closed",
            });
        };
        socket.on("error", (err) => (info ? finish() : reject(err)));
        socket.on("close", () => (info ? finish() : reject(new Error("NATS closed the connection before its INFO"))));
        socket.on("data", (chunk) => {
            buffer += chunk.toString("utf8");
            if (info === undefined && buffer.includes("\r\n")) {
                const first = buffer.slice(0, buffer.indexOf("\r\n"));
                info = first.startsWith("INFO ") ? JSON.parse(first.slice(5)) : {};
                socket.write(
                    'CONNECT {"verbose":false,"pedantic":false,"tls_required":false,"name":"bklite-verify-plaintext"}\r\nPING\r\n',
                );
            }
            if (/\r\n(PONG|-ERR[^\r]*)\r\n/.test(buffer)) {
                finish();
            }
        });
    });
}

export function natsChecks(): Check[] {
    return [
        {
            name: "nats tls",
            async run(context) {
                const expected = `the server side's credentials accepted over TLS at the agents' endpoint ${context.spec.natsEndpoint}, verified with the stack's CA`;
                try {
                    const nc = await agentConnection(context, "bklite-verify");
                    await nc.flush();
                    return ok(expected, `connected to ${nc.getServer()}`);
                } catch (err) {
                    return fail(expected, reason(err), connectionFix(err));
                }
            },
        },
        {
            name: "nats plaintext",
            async run(context) {
                const expected = "a client without TLS refused (tls_required, no PONG)";
                try {
                    const { tlsRequired, answer } = await plaintextAttempt(context);
                    const found = `tls_required ${tlsRequired}; answered: ${answer}`;
                    const accepted = /PONG|Authorization Violation/i.test(answer);
                    return tlsRequired && !accepted
                        ? ok(expected, found)
                        : fail(
                              expected,
                              found,
                              "NATS must require TLS: its config must keep a tls block and no allow_non_tls (src/services/natsConfig.ts)",
                          );
                } catch (err) {
                    return fail(
                        expected,
                        reason(err),
                        "NATS does not answer at the agents' endpoint: check bklite:natsPort and the nats container",
                    );
                }
            },
        },
        ...streamChecks(),
    ];
}

function streamChecks(): Check[] {
    return [
        {
            name: "streams",
            async run(context) {
                const wanted = context.spec.streams;
                const expected =
                    wanted.length === 0
                        ? "none needed"
                        : wanted.map((s) => `${s.name} (${s.subjects.join(", ")})`).join("; ");
                if (wanted.length === 0) {
                    return ok(expected, "none needed");
                }
                try {
                    const jsm = await (await agentConnection(context, "bklite-verify-streams")).jetstreamManager();
                    const found: string[] = [];
                    const wrong: string[] = [];
                    for (const stream of wanted) {
                        const info = await jsm.streams.info(stream.name).catch((err: unknown) => {
                            if (streamNotFound(err)) {
                                return undefined;
                            }
                            throw err;
                        });
                        const subjects = info?.config.subjects ?? [];
                        found.push(info ? `${stream.name} (${subjects.join(", ")})` : `${stream.name} missing`);
                        if (
                            !info ||
                            JSON.stringify([...subjects].sort()) !== JSON.stringify([...stream.subjects].sort())
                        ) {
                            wrong.push(stream.name);
                        }
                    }
                    return wrong.length === 0
                        ? ok(expected, found.join("; "))
                        : fail(
                              expected,
                              found.join("; "),
                              `make them with \`bklite streams apply\` (pulumi up runs it once NATS is up): ${wrong.join(", ")}`,
                          );
                } catch (err) {
                    return fail(expected, reason(err), jetStreamFix(err));
                }
            },
        },
    ];
}

/** The fix for a failed connection, by what failed: the credentials, the CA, or the way to NATS. */
export function connectionFix(err: unknown): string {
    const kind = natsFailureKind(((err as Error).cause ?? err) as Error);
    if (kind === "authentication") {
        return "verify connects with the server side's NATS user: set BKLITE_NATS_USER=bklite and BKLITE_NATS_PASSWORD to the stack's bklite:natsServerPassword";
    }
    if (kind === "certificate" || kind === "certificate name") {
        return "set BKLITE_NATS_CA to the stack's CA; agents dial the names in their region's NATS_SERVERS, which the certificate must hold";
    }
    return "agents get this address from their region's NATS_SERVERS: check bklite:hostAddress, bklite:natsPort and the security rules for nats";
}

/** JetStream's answer for a stream it does not have (API error 10059), as opposed to no answer or a refusal. */
function streamNotFound(err: unknown): boolean {
    const apiError = (err as { api_error?: { err_code?: number } }).api_error;
    return apiError?.err_code === 10059;
}

/** What to do when JetStream's API cannot say whether the streams exist: refused, silent, or unreachable. */
function jetStreamFix(err: unknown): string {
    const code = String((err as { code?: unknown }).code ?? "");
    if (code === "PERMISSIONS_VIOLATION" || /authorization|permission/i.test(reason(err))) {
        return "NATS refuses these credentials JetStream's API ($JS.API.>): verify needs the server's NATS user (BKLITE_NATS_USER and BKLITE_NATS_PASSWORD), not an agent's";
    }
    if (code === "TIMEOUT" || code === "503" || /no responders|timeout/i.test(reason(err))) {
        return "JetStream does not answer: check that NATS runs with its jetstream block and its store volume (look at the nats log)";
    }
    return "see the nats tls check";
}

/**
 * The executor `instance` runs `echo` with a fresh word and replies as the Go executor does: ExecuteResponse
 * `{result, instance_id, success, error?}` (the fork's agents/nats-executor/local/entity.go), to a request
 * `{args: [{command, execute_timeout}], kwargs}` as the server sends it (server/apps/rpc/executor.py).
 */
export async function probeExecutor(context: CheckContext, instance: string): Promise<{ ok: boolean; found: string }> {
    const word = `bklite-verify-${crypto.randomBytes(4).toString("hex")}`;
    const nc = await agentConnection(context, "bklite-verify-executor");
    const request = { args: [{ command: `echo ${word}`, execute_timeout: 10 }], kwargs: {} };
    try {
        const reply = await nc.request(`local.execute.${instance}`, new TextEncoder().encode(JSON.stringify(request)), {
            timeout: 10000,
        });
        const answer = JSON.parse(new TextDecoder().decode(reply.data)) as {
            result?: unknown;
            instance_id?: unknown;
            success?: unknown;
            error?: unknown;
        };
        const good =
            answer.success === true &&
            answer.instance_id === instance &&
            typeof answer.result === "string" &&
            answer.result.trim() === word;
        return {
            ok: good,
            found:
                `replied success ${String(answer.success)}, instance ${String(answer.instance_id)}, output ${JSON.stringify(answer.result)}` +
                (answer.error === undefined ? "" : `, error ${JSON.stringify(answer.error)}`),
        };
    } catch (err) {
        const message = reason(err);
        return {
            ok: false,
            found: /503|no responders/i.test(message) ? `nothing answers on local.execute.${instance}` : message,
        };
    }
}
