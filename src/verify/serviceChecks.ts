/**
 * Each installed app's backing services, probed the way the app uses them: FalkorDB with its password, the
 * Victoria stores' and MinIO's health endpoints, the nats-executor through NATS. A service's probe is declared in
 * its own file (src/services); this file only knows how to run each kind.
 */
import * as net from "net";
import { Check, CheckContext, fail, ok, reason } from "./check";
import { probeExecutor } from "./natsChecks";
import type { ServiceProbe } from "../services/definition";
import { ServiceCheck } from "./spec";

/** Sends RESP commands and reads one reply line per command. */
function redisReplies(context: CheckContext, address: string, commands: string[][]): Promise<string[]> {
    const [host, port] = splitAddress(address);
    return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port });
        context.defer(() => socket.destroy());
        let buffer = "";
        socket.on("error", reject);
        socket.on("close", () => reject(new Error(`the connection closed after ${JSON.stringify(buffer.trim())}`)));
        socket.on("data", (chunk) => {
            buffer += chunk.toString("utf8");
            const lines = buffer.split("\r\n").filter((l) => l !== "");
            if (lines.length >= commands.length) {
                socket.removeAllListeners("close");
                socket.destroy();
                resolve(lines.slice(0, commands.length));
            }
        });
        socket.write(
            commands
                .map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`)
                .join(""),
        );
    });
}

/** `host:port` (or `[v6]:port`) as host and port. */
export function splitAddress(address: string): [string, number] {
    const at = address.lastIndexOf(":");
    return [address.slice(0, at).replace(/^\[|\]$/g, ""), Number(address.slice(at + 1))];
}

const describeProbe = (probe: ServiceProbe): string =>
    probe.kind === "http"
        ? `GET ${probe.path} answers ${probe.status}`
        : probe.kind === "redis"
          ? "AUTH with its password, then PING answers PONG"
          : `local.execute.${probe.instance} runs echo and replies`;

export function serviceChecks(services: ReadonlyArray<ServiceCheck>): Check[] {
    return services.map((service) => ({
        name: `service ${service.service}`,
        async run(context) {
            const { probe } = service;
            const expected = `${describeProbe(probe)} (${service.app})`;
            const fix = `${service.service} does not answer as ${service.app} needs: check its container or pod and its log (docker logs bklite-${context.spec.stack}-${service.service})`;
            try {
                if (probe.kind === "nats-executor") {
                    const result = await probeExecutor(context, probe.instance);
                    return result.ok ? ok(expected, result.found) : fail(expected, result.found, fix);
                }
                const address = await context.addressOf(service.service);
                if (probe.kind === "http") {
                    const response = await fetch(`http://${address}${probe.path}`, {
                        signal: context.signal,
                        redirect: "manual",
                    });
                    await response.arrayBuffer();
                    const found = `HTTP ${response.status} from ${address}`;
                    return response.status === probe.status ? ok(expected, found) : fail(expected, found, fix);
                }
                const password = context.secrets.falkordbPassword;
                if (password === undefined) {
                    return fail(
                        expected,
                        "no password to try",
                        "set BKLITE_FALKORDB_PASSWORD (the stack's falkordbPassword)",
                    );
                }
                const [auth, ping] = await redisReplies(context, address, [["AUTH", password], ["PING"]]);
                const found = `AUTH ${auth}, PING ${ping} from ${address}`;
                return auth === "+OK" && ping === "+PONG"
                    ? ok(expected, found)
                    : fail(
                          expected,
                          found,
                          auth !== "+OK"
                              ? "FalkorDB refuses the stack's password: its config file holds requirepass (bklite:falkordbPassword)"
                              : fix,
                      );
            } catch (err) {
                return fail(expected, reason(err), fix);
            }
        },
    }));
}
