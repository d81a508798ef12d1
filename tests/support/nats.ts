/**
 * A throwaway NATS server with JetStream and TLS for integration tests, configured by the program's own
 * renderer (so these tests run the stack's real nats.conf), with certificates made by openssl.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { NatsLimitedUser, renderNatsConfig } from "../../src/services/natsConfig";
import { VALUE_REFS } from "../../src/services/stack";
import { ref, renderText } from "../../src/services/template";
import { Started, freePort, httpGet, requireBinary, start, tempDir, waitFor } from "./processes";

/** A CA and a server certificate for nats/localhost/127.0.0.1. */
export function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
    requireBinary("openssl");
    const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
    );
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=nats");
    fs.writeFileSync(
        path.join(dir, "san.ext"),
        "subjectAltName=DNS:nats,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    );
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    );
    return { ca: path.join(dir, "ca.crt"), cert: path.join(dir, "server.crt"), key: path.join(dir, "server.key") };
}

export interface TestNats {
    url: string;
    user: string;
    password: string;
    /** CA certificate path and PEM. */
    caFile: string;
    caPem: string;
    clientPort: number;
    monitorPort: number;
    storeDir: string;
    dir: string;
    /** Kills the server (SIGKILL: no clean shutdown) and starts it again on the same ports and store. */
    restart(options?: { kill?: boolean }): Promise<void>;
    stop(): Promise<void>;
    output(): string;
}

/** A user besides the server's, with its password in the clear (the config gets it through a reference). */
export type TestNatsUser = Omit<NatsLimitedUser, "password"> & { password: string };

export async function startNats(options: { limitedUsers?: TestNatsUser[] } = {}): Promise<TestNats> {
    const binary = requireBinary("nats-server");
    const dir = tempDir("nats");
    const certs = makeCertificates(dir);
    const clientPort = await freePort();
    const monitorPort = await freePort();
    const password = "nats-test-password-0123456789";
    const conf = renderNatsConfig({
        clientPort,
        monitorPort,
        storeDir: dir,
        caFile: certs.ca,
        certFile: certs.cert,
        keyFile: certs.key,
        user: "admin",
        password: ref(VALUE_REFS.natsPassword),
        limitedUsers: (options.limitedUsers ?? []).map((u, i) => ({ ...u, password: ref(`limitedUser${i}`) })),
    });
    const limitedPasswords = Object.fromEntries(
        (options.limitedUsers ?? []).map((u, i) => [`limitedUser${i}`, u.password]),
    );
    const confPath = path.join(dir, "nats-server.conf");
    fs.writeFileSync(confPath, renderText(conf, { [VALUE_REFS.natsPassword]: password, ...limitedPasswords }));
    execFileSync(binary, ["-c", confPath, "-t"], { stdio: "pipe" });
    let server: Started;
    const launch = async () => {
        server = start(binary, ["-c", confPath]);
        await waitFor(
            async () => (await httpGet(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`)).status === 200,
            20000,
            () => server.output(),
        );
    };
    await launch();
    return {
        url: `tls://127.0.0.1:${clientPort}`,
        user: "admin",
        password,
        caFile: certs.ca,
        caPem: fs.readFileSync(certs.ca, "utf8"),
        clientPort,
        monitorPort,
        storeDir: path.join(dir, "jetstream"),
        dir,
        restart: async (options = {}) => {
            await server.stop(options.kill === false ? "SIGTERM" : "SIGKILL");
            await launch();
        },
        stop: async () => {
            await server.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
        output: () => server.output(),
    };
}
