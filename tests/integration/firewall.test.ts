/**
 * `bklite firewall apply|remove` for real: iptables inside network namespaces joined by a veth pair, and the
 * DOCKER-USER path with a container's published port on a real Docker engine.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CliResult, bkliteArgv, bkliteProcess } from "../support/cli";
import { docker, makeImage, removeImages, requireDockerEngine } from "../support/docker";
import { firewallChains } from "../../src/security/firewall";
import { canConnect, inNs, ip, listen, uniqueName, uniqueSubnet } from "../support/netns";
import { freePort, tempDir, waitFor } from "../support/processes";
import { PROJECT_ROOT } from "../support/stackFiles";

/** Runs the real CLI, inside a namespace when `ns` is given. */
function bklite(ns: string | undefined, args: string[], input?: string): CliResult {
    if (!ns) {
        return bkliteProcess(args, { cwd: PROJECT_ROOT, input });
    }
    const result = spawnSync("ip", ["netns", "exec", ns, ...bkliteArgv(args)], {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
        input,
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function rulesFile(dir: string, rules: unknown[]): string {
    const file = path.join(dir, "rules.json");
    fs.writeFileSync(file, JSON.stringify({ rules }));
    return file;
}

describe("bklite firewall (iptables in network namespaces)", function () {
    this.timeout(120000);
    const STACK = "site";
    const server = uniqueName("bks");
    const client = uniqueName("bkc");
    const dir = tempDir("firewall");
    let stopListeners: () => void;
    const save = () => inNs(server, "iptables", ["-S"]);

    before(async () => {
        ip("netns", "add", server);
        ip("netns", "add", client);
        const [a, b] = [uniqueName("vs"), uniqueName("vc")];
        ip("link", "add", a, "type", "veth", "peer", "name", b);
        ip("link", "set", a, "netns", server);
        ip("link", "set", b, "netns", client);
        inNs(server, "ip", ["addr", "add", "10.231.0.1/24", "dev", a]);
        inNs(client, "ip", ["addr", "add", "10.231.0.2/24", "dev", b]);
        inNs(client, "ip", ["addr", "add", "10.231.0.3/24", "dev", b]);
        for (const [ns, dev] of [
            [server, a],
            [client, b],
        ]) {
            inNs(ns, "ip", ["link", "set", "lo", "up"]);
            inNs(ns, "ip", ["link", "set", dev, "up"]);
        }
        stopListeners = listen(server, [8080, 9999]);
        await waitFor(
            async () => canConnect(client, "10.231.0.2", "10.231.0.1", 9999),
            10000,
            () => "listeners did not start",
        );
    });

    after(() => {
        stopListeners?.();
        for (const ns of [server, client]) {
            spawnSync("ip", ["netns", "del", ns]);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("lets only the listed sources reach a listed port, and leaves other ports alone; replaces the chains of earlier versions", () => {
        // What versions before per-stack chains left behind: BKLITE-INPUT, here dropping port 9999.
        inNs(server, "iptables", ["-N", "BKLITE-INPUT"]);
        inNs(server, "iptables", ["-A", "BKLITE-INPUT", "-p", "tcp", "--dport", "9999", "-j", "DROP"]);
        inNs(server, "iptables", ["-I", "INPUT", "1", "-j", "BKLITE-INPUT"]);
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 9999), false, "the old chain holds");
        const file = rulesFile(dir, [{ port: 8080, protocol: "tcp", sources: ["10.231.0.2"], description: "console" }]);
        const run = bklite(server, ["firewall", "apply", "--stack", STACK, "--rules", file]);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.match(run.stderr, /IPv4: applied/);
        assert.strictEqual(
            canConnect(client, "10.231.0.2", "10.231.0.1", 8080),
            true,
            "the listed source gets through",
        );
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 8080), false, "another source does not");
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 9999), true, "an unlisted port stays open");
        assert.match(save(), /-A INPUT -j BKLITE-IN-site/);
        assert.match(save(), /-A DOCKER-USER -j BKLITE-FWD-site/, "DOCKER-USER made, though Docker has not");
        assert.doesNotMatch(save(), /BKLITE-INPUT/, "the old chain is gone");
    });

    it("changes nothing when the same rules are applied again", () => {
        const before = save();
        const run = bklite(
            server,
            ["firewall", "apply", "--stack", STACK, "--rules", "-"],
            JSON.stringify({
                rules: [{ port: 8080, protocol: "tcp", sources: ["10.231.0.2/32"], description: "console" }],
            }),
        );
        assert.strictEqual(run.code, 0, run.stderr);
        assert.match(run.stderr, /IPv4: unchanged/);
        assert.strictEqual(save(), before);
    });

    it("never filters the host itself, and compares world-open rules as iptables prints them", () => {
        assert.strictEqual(
            canConnect(server, "127.0.0.1", "127.0.0.1", 8080),
            true,
            "loopback gets through a restricted port",
        );
        const world = JSON.stringify({
            rules: [
                { port: 8080, protocol: "tcp", sources: ["10.231.0.2"], description: "console" },
                { port: 9999, protocol: "tcp", sources: ["0.0.0.0/0", "::/0"], description: "anyone" },
            ],
        });
        assert.match(
            bklite(server, ["firewall", "apply", "--stack", STACK, "--rules", "-"], world).stderr,
            /IPv4: applied/,
        );
        const before = save();
        const again = bklite(server, ["firewall", "apply", "--stack", STACK, "--rules", "-"], world);
        assert.match(again.stderr, /IPv4: unchanged/);
        assert.match(again.stderr, /IPv6: unchanged/);
        assert.strictEqual(save(), before);
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 9999), true);
    });

    it("refuses bad rules before changing anything", () => {
        const before = save();
        const run = bklite(
            server,
            ["firewall", "apply", "--stack", STACK, "--rules", "-"],
            JSON.stringify({
                rules: [
                    { port: 5432, sources: ["0.0.0.0/33"], description: "x" },
                    { port: "ssh", sources: ["10.0.0.0/8"], description: "y" },
                ],
            }),
        );
        assert.strictEqual(run.code, 2);
        assert.match(
            run.stderr,
            /rules\[0\]\.sources\[0\] = 0\.0\.0\.0\/33: '0\.0\.0\.0\/33' has a prefix length outside 0-32/,
        );
        assert.match(run.stderr, /rules\[1\]\.port = "ssh"/);
        assert.strictEqual(save(), before);
        // What the stack config refuses, the CLI refuses too: data stores open to the world, however it is written.
        const exposed = bklite(
            server,
            ["firewall", "apply", "--stack", STACK, "--rules", "-"],
            JSON.stringify({
                rules: [
                    { port: 5432, sources: ["0.0.0.0/1", "128.0.0.0/1"], description: "db in two halves" },
                    { port: 6379, sources: ["::0/0"], description: "cache" },
                    { port: 35432, sources: ["0.0.0.0/0"], description: "the stack's db", purpose: "postgres" },
                    { port: 8080, sources: ["0.0.0.0/0"], description: "console", colour: "red" },
                ],
            }),
        );
        assert.strictEqual(exposed.code, 2);
        assert.match(
            exposed.stderr,
            /rules\[0\]\.sources = 0\.0\.0\.0\/1, 128\.0\.0\.0\/1: opens postgres \(port 5432\) to the whole world; .*together these ranges cover every IPv4 address/,
        );
        assert.match(exposed.stderr, /rules\[1\]\.sources\[0\] = ::0\/0: opens redis \(port 6379\) to the whole world/);
        assert.match(exposed.stderr, /rules\[2\]\.sources\[0\] = 0\.0\.0\.0\/0: opens postgres \(port 35432\)/);
        assert.match(exposed.stderr, /rules\[3\]\.colour: is not a rule setting/);
        assert.strictEqual(save(), before, "nothing was changed");
    });

    it("keeps each stack's rules apart: another stack's apply and remove leave these alone", () => {
        const other = bklite(
            server,
            ["firewall", "apply", "--stack", "other", "--rules", "-"],
            JSON.stringify({
                rules: [{ port: 9999, protocol: "tcp", sources: ["10.231.0.2"], description: "other stack" }],
            }),
        );
        assert.strictEqual(other.code, 0, other.stderr);
        assert.match(other.stderr, /IPv4: applied \(1 port rule in BKLITE-IN-other, BKLITE-FWD-other\)/);
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 9999), false, "the other stack's rule holds");
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 8080), false, "and so does this stack's");
        assert.strictEqual(bklite(server, ["firewall", "remove", "--stack", "other"]).code, 0);
        assert.strictEqual(
            canConnect(client, "10.231.0.3", "10.231.0.1", 9999),
            true,
            "the other stack's rule is gone",
        );
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 8080), false, "this stack's stays");
        assert.doesNotMatch(save(), /BKLITE-(IN|FWD)-other/);
        const badStack = bklite(server, ["firewall", "remove", "--stack", "a b"]);
        assert.strictEqual(badStack.code, 2);
        assert.match(badStack.stderr, /--stack "a b": not a stack name/);
    });

    it("is what bklite verify checks: the chains match the rules and are hooked, or the row says what differs", () => {
        const world = [
            { port: 8080, protocol: "tcp", sources: ["10.231.0.2"], description: "console" },
            { port: 9999, protocol: "tcp", sources: ["0.0.0.0/0", "::/0"], description: "anyone" },
        ];
        // Only the firewall row matters here: nothing else of a platform runs in this namespace.
        const firewallRow = (rules: unknown[]) => {
            const spec = {
                stack: STACK,
                runtime: "docker",
                consoleUrl: "http://127.0.0.1:1",
                natsEndpoint: "tls://127.0.0.1:1",
                regions: [],
                packages: [],
                streams: [],
                services: [],
                firewall: { stack: STACK, rules },
            };
            const env = {
                PATH: process.env.PATH,
                BKLITE_PG_URL: "postgres://bklite:x@127.0.0.1:1/bklite",
                BKLITE_SECRET_KEY: "k",
                BKLITE_NATS_USER: "admin",
                BKLITE_NATS_PASSWORD: "p",
                BKLITE_NATS_CA: "-----BEGIN CERTIFICATE-----",
            };
            const result = spawnSync(
                "ip",
                [
                    "netns",
                    "exec",
                    server,
                    ...bkliteArgv(["verify", "--spec", "-", "--format", "json", "--check-timeout-seconds", "5"]),
                ],
                { cwd: PROJECT_ROOT, encoding: "utf8", input: JSON.stringify(spec), env },
            );
            const checks = JSON.parse(result.stdout).checks as Array<{
                check: string;
                status: string;
                found: string;
                fix?: string;
            }>;
            return checks.find((c) => c.check === "firewall")!;
        };
        assert.deepStrictEqual([firewallRow(world).status, firewallRow(world).found], ["ok", "in place and matching"]);
        const narrower = firewallRow(world.slice(0, 1));
        assert.strictEqual(narrower.status, "fail");
        assert.match(narrower.found, /IPv4: chain BKLITE-IN-site holds \d+ rules, not the \d+ the rules make/);
        assert.match(narrower.fix!, /sudo bklite firewall apply --stack site --rules -/);
        inNs(server, "iptables", ["-D", "INPUT", "-j", "BKLITE-IN-site"]);
        assert.match(firewallRow(world).found, /IPv4: INPUT does not jump to BKLITE-IN-site/);
        assert.strictEqual(
            bklite(server, ["firewall", "apply", "--stack", STACK, "--rules", "-"], JSON.stringify({ rules: world }))
                .code,
            0,
        );
        assert.strictEqual(firewallRow(world).status, "ok");
    });

    it("takes it all away on remove", () => {
        const run = bklite(server, ["firewall", "remove", "--stack", STACK]);
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(canConnect(client, "10.231.0.3", "10.231.0.1", 8080), true);
        assert.doesNotMatch(save(), /BKLITE/);
    });
});

describe("bklite firewall on Docker's published ports (DOCKER-USER)", function () {
    this.timeout(120000);
    // This host's own iptables and Docker: every name, port, chain and subnet is this run's own.
    const client = uniqueName("bkd");
    const hostSide = uniqueName("vh");
    const image = `${uniqueName("bklite-itest-")}/web:fw`;
    const name = uniqueName("bkfw-");
    const stack = uniqueName("fw");
    let hostPort: number;
    let net: (host: number) => string;

    before(async () => {
        requireDockerEngine();
        hostPort = await freePort();
        net = uniqueSubnet();
        makeImage(image, "firewall test\n");
        docker(
            "run",
            "-d",
            "--name",
            name,
            "-p",
            `${hostPort}:8080`,
            image,
            "/bin/httpd",
            "-f",
            "-p",
            "8080",
            "-h",
            "/",
        );
        ip("netns", "add", client);
        const clientSide = uniqueName("vd");
        ip("link", "add", hostSide, "type", "veth", "peer", "name", clientSide);
        ip("link", "set", clientSide, "netns", client);
        ip("addr", "add", `${net(1)}/24`, "dev", hostSide);
        ip("link", "set", hostSide, "up");
        inNs(client, "ip", ["addr", "add", `${net(2)}/24`, "dev", clientSide]);
        inNs(client, "ip", ["addr", "add", `${net(3)}/24`, "dev", clientSide]);
        inNs(client, "ip", ["link", "set", clientSide, "up"]);
        inNs(client, "ip", ["route", "add", "default", "via", net(1)]);
        await waitFor(
            async () => canConnect(client, net(3), net(1), hostPort),
            15000,
            () => "the published port did not answer",
        );
    });

    after(() => {
        bklite(undefined, ["firewall", "remove", "--stack", stack]);
        spawnSync("docker", ["rm", "--force", name]);
        removeImages([image]);
        spawnSync("ip", ["link", "del", hostSide]);
        spawnSync("ip", ["netns", "del", client]);
    });

    it("filters a published port by its original port, after Docker's rewrite", () => {
        const run = bklite(
            undefined,
            ["firewall", "apply", "--stack", stack, "--rules", "-"],
            JSON.stringify({ rules: [{ port: hostPort, protocol: "tcp", sources: [net(2)], description: "console" }] }),
        );
        assert.strictEqual(run.code, 0, run.stderr);
        assert.strictEqual(
            canConnect(client, net(2), net(1), hostPort),
            true,
            "the listed source reaches the container",
        );
        assert.strictEqual(canConnect(client, net(3), net(1), hostPort), false, "another source does not");
        // Dropped on the forwarding path (DOCKER-USER), not by a host process's INPUT.
        const dropLine = inNs(undefined, "iptables", ["-S", firewallChains(stack).forward, "-v"])
            .split("\n")
            .find((l) => l.includes("-j DROP"))!;
        assert.ok(Number(/-c (\d+)/.exec(dropLine)![1]) > 0, dropLine);
        const removed = bklite(undefined, ["firewall", "remove", "--stack", stack]);
        assert.strictEqual(removed.code, 0, removed.stderr);
        assert.strictEqual(canConnect(client, net(3), net(1), hostPort), true, "remove restores it");
    });
});
