/**
 * The security rules in the program, under mocks: the exported table, the host firewall command, published-port
 * bind addresses, and on Kubernetes the NetworkPolicies and LoadBalancer source ranges.
 */
import * as assert from "assert";
import { ProgramRun, runProgram } from "../support/mocks";
import { PROJECT_ROOT, programConfig } from "../support/stackFiles";

const PROD_SOURCES = ["10.0.0.0/8", "192.168.31.0/24"];

describe("security rules (program)", () => {
    it("exports the prod stack's table of ports, protocols, sources and purposes", async () => {
        const run = await runProgram("prod", programConfig("prod"));
        assert.deepStrictEqual(run.outputs.securityRules, [
            {
                port: 8080,
                protocol: "tcp",
                sources: PROD_SOURCES,
                purpose: "http",
                description: "console and agent API",
            },
            {
                port: 24222,
                protocol: "tcp",
                sources: PROD_SOURCES,
                purpose: "nats",
                description: "agents to NATS (TLS)",
            },
        ]);
        assert.ok(
            !run.recorder.ofType("command:local:Command").some((c) => c.name === "bklite-firewall"),
            "no host firewall unless asked",
        );
    });

    it("opens http and nats to anyone by default, and nothing else", async () => {
        const run = await runProgram("dev", programConfig("dev"));
        assert.deepStrictEqual(
            (run.outputs.securityRules as Array<{ port: number; sources: string[]; purpose: string }>).map((r) => [
                r.port,
                r.purpose,
                r.sources,
            ]),
            [
                [8080, "http", ["0.0.0.0/0", "::/0"]],
                [24222, "nats", ["0.0.0.0/0", "::/0"]],
            ],
        );
    });

    it("runs the host firewall through @pulumi/command when asked: applied in place when the rules change, removed on delete", async () => {
        const config = programConfig("prod", {
            "bklite:security": {
                hostFirewall: true,
                rules: [{ port: "http", sources: ["10.0.0.0/8"], description: "console" }],
            },
        });
        const run = await runProgram("prod", config);
        const firewall = run.recorder.named("bklite-firewall");
        assert.strictEqual(firewall.inputs.create, "node bin/bklite firewall apply --stack prod --rules -");
        // No triggers: a replacement would run the old delete after the new create and leave no firewall.
        assert.strictEqual(firewall.inputs.update, "node bin/bklite firewall apply --stack prod --rules -");
        assert.strictEqual(firewall.inputs.triggers, undefined);
        assert.strictEqual(firewall.inputs.delete, "node bin/bklite firewall remove --stack prod");
        assert.strictEqual(firewall.inputs.dir, PROJECT_ROOT);
        const rules = JSON.parse(firewall.inputs.stdin);
        assert.deepStrictEqual(rules, {
            rules: [{ port: 8080, protocol: "tcp", sources: ["10.0.0.0/8"], description: "console", purpose: "http" }],
        });
        const again = await runProgram("prod", config);
        assert.strictEqual(
            again.recorder.named("bklite-firewall").inputs.stdin,
            firewall.inputs.stdin,
            "same rules, same input: nothing re-runs",
        );
    });

    it("binds a published port to loopback when only the host may reach it", async () => {
        const run = await runProgram(
            "dev",
            programConfig("dev", {
                "bklite:security": {
                    rules: [
                        { port: "http", sources: ["127.0.0.1"], description: "local only" },
                        { port: "nats", sources: ["10.0.0.0/8"], description: "agents" },
                    ],
                },
            }),
        );
        const ports = (service: string) => run.recorder.named(`bklite-docker-${service}`).inputs.ports;
        assert.strictEqual(ports("traefik")[0].ip, "127.0.0.1");
        assert.strictEqual(ports("nats")[0].ip, "0.0.0.0");
        assert.strictEqual(ports("postgres")[0].ip, "127.0.0.1", "never published beyond loopback, whatever the rules");
    });
});

describe("security rules on Kubernetes (program)", () => {
    const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("prod", programConfig("prod", { "bklite:runtime": "kubernetes" }));
    });

    function policy(name: string): any {
        const found = run.recorder.ofType(NETWORK_POLICY).find((p) => p.inputs.metadata.name === name);
        assert.ok(found, name);
        return found.inputs.spec;
    }

    /** A policy's allows as "port <- peers". */
    function allows(name: string): string[] {
        return policy(name).ingress.map(
            (rule: any) =>
                `${rule.ports[0].port} <- ${rule.from.map((f: any) => f.podSelector?.matchLabels["app.kubernetes.io/name"] ?? f.ipBlock.cidr).join(",")}`,
        );
    }

    it("denies all ingress by default, then allows exactly what the platform uses", () => {
        assert.deepStrictEqual(policy("default-deny-ingress"), {
            podSelector: { matchLabels: { "app.kubernetes.io/part-of": "bklite" } },
            policyTypes: ["Ingress"],
        });
        assert.deepStrictEqual(allows("allow-traefik"), [`8000 <- ${PROD_SOURCES.join(",")}`]);
        assert.deepStrictEqual(allows("allow-server"), ["8000 <- web,traefik"]);
        assert.deepStrictEqual(allows("allow-web"), ["3000 <- traefik"]);
        assert.deepStrictEqual(allows("allow-postgres"), ["5432 <- server"]);
        assert.deepStrictEqual(allows("allow-redis"), ["6379 <- server"]);
        assert.deepStrictEqual(allows("allow-nats"), [
            `4222 <- nats-executor,telegraf,vector,server,${PROD_SOURCES.join(",")}`,
        ]);
        // The server reaches the stores it does not wait for at start, too.
        assert.deepStrictEqual(allows("allow-falkordb"), ["6379 <- server"]);
        assert.deepStrictEqual(allows("allow-victoria-metrics"), ["8428 <- telegraf,server"]);
        assert.deepStrictEqual(allows("allow-victoria-logs"), ["9428 <- vector,server"]);
        assert.strictEqual(run.recorder.ofType(NETWORK_POLICY).length, 10, "no policy for what listens on no port");
    });

    it("leaves a port no rule lists open, as on the Docker host", async () => {
        const natsOnly = await runProgram(
            "prod",
            programConfig("prod", {
                "bklite:runtime": "kubernetes",
                "bklite:security": { rules: [{ port: "nats", sources: ["10.0.0.0/8"], description: "agents" }] },
            }),
        );
        const traefik = natsOnly.recorder
            .ofType(NETWORK_POLICY)
            .find((p) => p.inputs.metadata.name === "allow-traefik")!;
        assert.deepStrictEqual(
            traefik.inputs.spec.ingress[0].from.map((f: any) => f.ipBlock.cidr),
            ["0.0.0.0/0", "::/0"],
        );
    });

    it("keeps clients' addresses on exposed Services (prod pins them to its edge node), and limits a LoadBalancer to the rule sources", async () => {
        for (const service of run.recorder
            .ofType("kubernetes:core/v1:Service")
            .filter((s) => s.inputs.spec.type === "NodePort")) {
            assert.strictEqual(service.inputs.spec.externalTrafficPolicy, "Local", service.name);
        }
        const lb = await runProgram(
            "prod",
            programConfig("prod", {
                "bklite:runtime": "kubernetes",
                "bklite:kubernetes": { serviceType: "LoadBalancer", natsAddress: "192.168.31.21" },
            }),
        );
        const services = lb.recorder.ofType("kubernetes:core/v1:Service");
        assert.deepStrictEqual(
            services.find((s) => s.inputs.metadata.name === "traefik")!.inputs.spec.loadBalancerSourceRanges,
            PROD_SOURCES,
        );
        assert.deepStrictEqual(
            services.find((s) => s.inputs.metadata.name === "nats-external")!.inputs.spec.loadBalancerSourceRanges,
            PROD_SOURCES,
        );
        const open = await runProgram(
            "dev",
            programConfig("dev", {
                "bklite:runtime": "kubernetes",
                "bklite:kubernetes": { serviceType: "LoadBalancer", natsAddress: "192.168.31.21" },
            }),
        );
        assert.strictEqual(
            open.recorder.ofType("kubernetes:core/v1:Service").find((s) => s.inputs.metadata.name === "traefik")!.inputs
                .spec.loadBalancerSourceRanges,
            undefined,
            "world-open: no restriction",
        );
    });
});
