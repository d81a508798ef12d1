/**
 * A throwaway NATS server with JetStream and TLS for integration tests, configured by the program's own
 * renderer (so these tests run the stack's real nats.conf), with certificates made by openssl.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { AgentAccountUser, renderAgentUsers, renderNatsConfig } from "../../src/services/natsConfig";
import { NATS_AGENTS_ADMIN, NATS_SERVER_USER } from "../../src/services/natsAccounts";
import { NatsFiles, RunBesideNats, runHere } from "../../src/seed/agentUsers";
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
    /** Its config, the agents' users file it includes, its pid file and monitor, as seeding's script takes them. */
    files: NatsFiles;
    /** Runs a program beside this server (as the CLI runs one inside NATS's container). */
    runBeside: RunBesideNats;
    /** Kills the server (SIGKILL: no clean shutdown) and starts it again on the same ports and store. */
    restart(options?: { kill?: boolean }): Promise<void>;
    stop(): Promise<void>;
    output(): string;
}

/**
 * A NATS server as the stack runs it: its two accounts, the server side's user, and the agents' users file beside
 * the config (the users given, and the server side's `bklite-agents`).
 */
export async function startNats(options: { agents?: AgentAccountUser[] } = {}): Promise<TestNats> {
    const binary = requireBinary("nats-server");
    const dir = tempDir("nats");
    const certs = makeCertificates(dir);
    const clientPort = await freePort();
    const monitorPort = await freePort();
    const password = "nats-test-password-0123456789";
    const files: NatsFiles = {
        configFile: path.join(dir, "nats-server.conf"),
        usersFile: path.join(dir, "agents", "users.conf"),
        pidFile: path.join(dir, "agents", "nats-server.pid"),
        monitorUrl: `http://127.0.0.1:${monitorPort}`,
    };
    fs.mkdirSync(path.dirname(files.usersFile), { recursive: true });
    fs.writeFileSync(
        files.usersFile,
        renderText(renderAgentUsers([{ user: NATS_AGENTS_ADMIN, password }, ...(options.agents ?? [])]), {}),
        { mode: 0o600 },
    );
    const conf = renderNatsConfig({
        clientPort,
        monitorPort,
        storeDir: dir,
        caFile: certs.ca,
        certFile: certs.cert,
        keyFile: certs.key,
        user: NATS_SERVER_USER,
        password: ref(VALUE_REFS.natsServerPassword),
        agentUsersInclude: "agents/users.conf",
        pidFile: files.pidFile,
        bucket: "bklite",
    });
    const confPath = files.configFile;
    fs.writeFileSync(confPath, renderText(conf, { [VALUE_REFS.natsServerPassword]: password }));
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
        user: NATS_SERVER_USER,
        password,
        files,
        runBeside: runHere,
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
