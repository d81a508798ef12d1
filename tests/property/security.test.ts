import * as assert from "assert";
import * as fc from "fast-check";
import { chainRules, firewallChains } from "../../src/security/firewall";
import { bindAddress, canonicalCidr, resolveRules } from "../../src/security/resolve";
import { SecurityRule } from "../../src/security/rules";

const octet = fc.integer({ min: 0, max: 255 });
const v4 = fc
    .tuple(octet, octet, octet, octet, fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }))
    .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}${p === undefined ? "" : `/${p}`}`);
const v6 = fc
    .tuple(fc.ipV6(), fc.option(fc.integer({ min: 0, max: 128 }), { nil: undefined }))
    .map(([a, p]) => `${a}${p === undefined ? "" : `/${p}`}`);
const cidr = fc.oneof(v4, v6);
const rule: fc.Arbitrary<SecurityRule> = fc.record({
    port: fc.oneof(
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom("http" as const, "nats" as const, "https" as const),
    ),
    protocol: fc.constantFrom("tcp" as const, "udp" as const),
    sources: fc.array(cidr, { minLength: 1, maxLength: 4 }),
    description: fc.string({ minLength: 1, maxLength: 10 }),
});
const ports = { http: 8080, nats: 24222, https: 443, postgres: 25432 };

describe("security planning (property)", () => {
    it("canonical CIDRs are stable and keep the prefix", () => {
        fc.assert(
            fc.property(cidr, (c) => {
                const once = canonicalCidr(c);
                assert.strictEqual(canonicalCidr(once), once);
                assert.match(once, /\/\d+$/);
            }),
        );
    });

    it("canonical CIDRs agree with an independent parser (net.BlockList), embedded IPv4 included", () => {
        const net = require("net") as typeof import("net");
        assert.strictEqual(canonicalCidr("::ffff:10.0.0.1"), "::ffff:a00:1/128");
        assert.strictEqual(canonicalCidr("64:ff9b::192.0.2.1/96"), "64:ff9b::/96");
        assert.strictEqual(canonicalCidr("10.1.2.3/8"), "10.0.0.0/8");
        fc.assert(
            fc.property(
                fc.tuple(octet, octet, octet, octet),
                fc.integer({ min: 0, max: 32 }),
                ([a, b, c, d], prefix) => {
                    const address = `${a}.${b}.${c}.${d}`;
                    const [network, bits] = canonicalCidr(`${address}/${prefix}`).split("/");
                    const list = new net.BlockList();
                    list.addSubnet(network, Number(bits), "ipv4");
                    assert.ok(
                        list.check(address, "ipv4"),
                        `${address}/${prefix} -> ${network}/${bits} contains ${address}`,
                    );
                },
            ),
        );
    });

    it("resolving is order-independent, idempotent, and keeps every source of every rule", () => {
        fc.assert(
            fc.property(fc.array(rule, { maxLength: 6 }), (rules) => {
                const plan = resolveRules(rules, ports);
                assert.deepStrictEqual(
                    resolveRules([...rules].reverse(), ports).rules.map((r) => [r.port, r.protocol, r.sources]),
                    plan.rules.map((r) => [r.port, r.protocol, r.sources]),
                );
                assert.deepStrictEqual(
                    resolveRules(plan.rules, ports).rules.map((r) => r.sources),
                    plan.rules.map((r) => r.sources),
                );
                for (const r of rules) {
                    const port = typeof r.port === "number" ? r.port : ports[r.port];
                    const resolved = plan.rules.find((p) => p.port === port && p.protocol === r.protocol)!;
                    for (const source of r.sources) {
                        assert.ok(resolved.sources.includes(canonicalCidr(source)));
                    }
                }
                const keys = plan.rules.map((r) => `${r.port}/${r.protocol}`);
                assert.strictEqual(new Set(keys).size, keys.length, "one rule per port and protocol");
            }),
        );
    });

    it("warns exactly when NATS is open to the world", () => {
        fc.assert(
            fc.property(fc.array(cidr, { minLength: 1, maxLength: 3 }), fc.boolean(), (sources, world) => {
                const plan = resolveRules(
                    [
                        {
                            port: "nats",
                            protocol: "tcp",
                            sources: world ? [...sources, "0.0.0.0/0"] : sources,
                            description: "agents",
                        },
                    ],
                    ports,
                );
                const open = plan.rules[0].sources.some((s) => s === "0.0.0.0/0" || s === "::/0");
                assert.strictEqual(plan.warnings.length, open ? 1 : 0);
            }),
        );
    });

    it("binds to loopback only when every source is loopback", () => {
        fc.assert(
            fc.property(fc.array(cidr, { minLength: 1, maxLength: 3 }), (sources) => {
                const plan = resolveRules([{ port: 8080, protocol: "tcp", sources, description: "x" }], ports);
                const loopbackOnly = plan.rules[0].sources.every((s) => s.startsWith("127.") || s === "::1/128");
                assert.strictEqual(bindAddress(plan, 8080), loopbackOnly ? "127.0.0.1" : "0.0.0.0");
                assert.strictEqual(bindAddress(plan, 9999), undefined);
            }),
        );
    });

    it("firewall chains admit each listed source, then drop the port, on both paths, for that family only", () => {
        fc.assert(
            fc.property(fc.array(rule, { minLength: 1, maxLength: 4 }), (rules) => {
                const plan = resolveRules(rules, ports);
                for (const family of [4, 6] as const) {
                    const chains = chainRules(plan.rules, family, firewallChains("prod"));
                    for (const r of plan.rules) {
                        const mine = r.sources.filter((s) => s.includes(":") === (family === 6));
                        const input = chains.input.filter(
                            (l) => l.includes(`--dport ${r.port} `) && l.includes(`-p ${r.protocol} `),
                        );
                        const from = (s: string) => (s.endsWith("/0") ? "" : `-s ${s} `);
                        assert.deepStrictEqual(input, [
                            ...mine.map(
                                (s) =>
                                    `-A BKLITE-IN-prod ${from(s)}-p ${r.protocol} -m ${r.protocol} --dport ${r.port} -j RETURN`,
                            ),
                            `-A BKLITE-IN-prod -p ${r.protocol} -m ${r.protocol} --dport ${r.port} -j DROP`,
                        ]);
                        const forward = chains.forward.filter(
                            (l) => l.includes(`--ctorigdstport ${r.port} `) && l.includes(`-p ${r.protocol} `),
                        );
                        assert.strictEqual(forward.length, mine.length + 1);
                        assert.match(forward[forward.length - 1], /-j DROP$/);
                        assert.ok(
                            forward.every((l) => l.includes("--ctstate DNAT")),
                            "only published (DNATed) connections",
                        );
                    }
                    assert.deepStrictEqual(
                        chains.input.slice(0, 2),
                        [
                            "-A BKLITE-IN-prod -i lo -j RETURN",
                            "-A BKLITE-IN-prod -m addrtype --src-type LOCAL -j RETURN",
                        ],
                        "the host itself first",
                    );
                }
            }),
        );
    });

    it("names each stack's chains apart, within iptables' 28 characters, the same every time", () => {
        assert.deepStrictEqual(firewallChains("prod"), { input: "BKLITE-IN-prod", forward: "BKLITE-FWD-prod" });
        const stackName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,100}$/);
        fc.assert(
            fc.property(stackName, stackName, (a, b) => {
                const chains = firewallChains(a);
                assert.deepStrictEqual(firewallChains(a), chains);
                for (const chain of [chains.input, chains.forward]) {
                    assert.ok(chain.length <= 28 && /^BKLITE-(IN|FWD)-[A-Za-z0-9_-]+$/.test(chain), chain);
                }
                if (a !== b) {
                    assert.notStrictEqual(firewallChains(b).input, chains.input);
                    assert.notStrictEqual(firewallChains(b).forward, chains.forward);
                }
            }),
        );
    });
});
