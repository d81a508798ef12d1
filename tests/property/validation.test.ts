/**
 * One rule, one place: whatever a region's env holds, the stack config's validation and `bklite seed apply`'s spec
 * check refuse the same keys, so nothing the config accepts is refused at deploy time after every container is up.
 */
import * as assert from "assert";
import fc from "fast-check";
import { readStackFiles, stackFileSource } from "../../src/config/stackFiles";
import { parseStackConfig } from "../../src/config/parse";
import { SpecError, parseSeedSpec } from "../../src/seed/spec";
import { PROJECT_ROOT } from "../support/stackFiles";
import { agentUserName } from "../../src/services/natsAccounts";

const VALUES: Record<string, string[]> = {
    NODE_SERVER_URL: [
        "http://10.1.0.5:8080",
        "https://a.example",
        "null",
        "http://null",
        "http://127.0.0.1:8080",
        "http://10.1.0.5:8080/api",
        "",
    ],
    NATS_SERVERS: [
        "10.1.0.5:24222",
        "a.example:24222,b.example:4222",
        "[fd00::5]:24222",
        "tls://10.1.0.5:24222",
        "127.0.0.1:24222",
        "10.1.0.5",
        "",
    ],
    NATS_PROTOCOL: ["tls", "nats", "TLS", "http", ""],
    NATS_TLS_CA_FILE: [
        "/opt/fusion-collectors/certs/ca.crt",
        "C:\\fusion-collectors\\certs\\ca.crt",
        "certs/ca.crt",
        "",
    ],
};

/** The region keys each check refuses. */
function configRefuses(env: Record<string, string>): string[] {
    const result = parseStackConfig(
        stackFileSource(
            readStackFiles(PROJECT_ROOT, "prod", { "bklite:regions": [{ name: "default" }, { name: "site-b", env }] }),
        ),
    );
    return result.problems
        .filter((p) => p.path.startsWith("regions[1]"))
        .map((p) => /env\.([A-Z_]+)/.exec(p.path)![1])
        .sort();
}

function seedRefuses(env: Record<string, string>): string[] {
    try {
        // As the program renders it: the region's own NATS user and password beside what the config gave.
        const credentials = { NATS_USERNAME: agentUserName("site-b"), NATS_PASSWORD: "agents-password" };
        parseSeedSpec({ regions: [{ name: "site-b", env: { ...env, ...credentials } }] });
        return [];
    } catch (e) {
        assert.ok(e instanceof SpecError, (e as Error).message);
        return e.problems.map((p) => /env\.([A-Z_]+)/.exec(p.path)![1]).sort();
    }
}

describe("region env: the stack config and the seed spec refuse alike (property)", () => {
    it("refuses the same keys for any values of the four keys a config may set", () => {
        const env = fc.record(
            Object.fromEntries(
                Object.entries(VALUES).map(([key, values]) => [key, fc.constantFrom(...values)]),
            ) as Record<string, fc.Arbitrary<string>>,
        );
        fc.assert(
            fc.property(env, (values) => {
                assert.deepStrictEqual(configRefuses(values), seedRefuses(values), JSON.stringify(values));
            }),
            { numRuns: 150 },
        );
    });

    it("refuses NATS_PROTOCOL nats: agents would dial plaintext, which the stack's NATS refuses", () => {
        const env = {
            NODE_SERVER_URL: "http://10.1.0.5:8080",
            NATS_SERVERS: "10.1.0.5:24222",
            NATS_PROTOCOL: "nats",
            NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
        };
        assert.deepStrictEqual(configRefuses(env), ["NATS_PROTOCOL"]);
        assert.deepStrictEqual(seedRefuses(env), ["NATS_PROTOCOL"]);
        assert.throws(
            () =>
                parseSeedSpec({
                    regions: [{ name: "site-b", env: { ...env, NATS_USERNAME: "agent-site-b", NATS_PASSWORD: "x" } }],
                }),
            /NATS_PROTOCOL: "nats" \(plaintext\) is refused by the stack's NATS, which serves TLS only: agents would never connect; use tls/,
        );
    });

    it("accepts what agents can use, and names each value they cannot", () => {
        const good = {
            NODE_SERVER_URL: "http://10.1.0.5:8080",
            NATS_SERVERS: "10.1.0.5:24222",
            NATS_PROTOCOL: "tls",
            NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
        };
        assert.deepStrictEqual(seedRefuses(good), []);
        assert.deepStrictEqual(configRefuses(good), []);
        const bad = {
            NODE_SERVER_URL: "http://127.0.0.1:8080",
            NATS_SERVERS: "tls://10.1.0.5:24222",
            NATS_PROTOCOL: "TLS",
            NATS_TLS_CA_FILE: "",
        };
        assert.deepStrictEqual(seedRefuses(bad), [
            "NATS_PROTOCOL",
            "NATS_SERVERS",
            "NATS_TLS_CA_FILE",
            "NODE_SERVER_URL",
        ]);
        try {
            parseSeedSpec({
                regions: [{ name: "site-b", env: { ...bad, NATS_USERNAME: "agent-site-b", NATS_PASSWORD: "x" } }],
            });
        } catch (e) {
            const text = (e as Error).message;
            assert.match(
                text,
                /NODE_SERVER_URL: "http:\/\/127\.0\.0\.1:8080" is a loopback address; agents in region 'site-b' run on other hosts/,
            );
            assert.match(
                text,
                /NATS_PROTOCOL: "TLS" is not a protocol agents take; use tls \(the stack's NATS serves TLS only\)/,
            );
            assert.match(text, /NATS_TLS_CA_FILE: is missing: every region needs all six agent keys/);
        }
    });
});
