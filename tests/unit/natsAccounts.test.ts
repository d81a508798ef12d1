/**
 * The agents' NATS users as a plan (property tests): names and passwords per region, the users written, and the
 * rights no agent gets. The same rules run on a real nats-server in tests/integration/natsAgents.test.ts.
 */
import * as assert from "assert";
import fc from "fast-check";
import {
    EXECUTOR_SUBJECTS,
    LEGACY_AGENT_USER,
    NATS_AGENTS_ADMIN,
    NATS_SERVER_USER,
    agentPassword,
    agentPermissions,
    agentUserName,
} from "../../src/services/natsAccounts";
import { planAgentUsers } from "../../src/services/natsAgentUsers";
import { renderAgentUsers } from "../../src/services/natsConfig";
import { renderText } from "../../src/services/template";
import { parseStackConfig } from "../../src/config/parse";
import { stackConfig } from "../support/stackFiles";
import { configSource } from "../support/mocks";

/** Whether NATS subject pattern `pattern` matches subject `subject` (`*` one token, `>` the rest). */
function matches(pattern: string, subject: string): boolean {
    const p = pattern.split(".");
    const s = subject.split(".");
    for (let i = 0; i < p.length; i++) {
        if (p[i] === ">") {
            return s.length > i;
        }
        if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) {
            return false;
        }
    }
    return p.length === s.length;
}

const regionName = fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.trim() !== "");

describe("NATS accounts: the agents' users (plan)", () => {
    it("names each region's user with NATS-safe characters, stably, never two regions alike (property)", () => {
        fc.assert(
            fc.property(regionName, regionName, (a, b) => {
                const name = agentUserName(a);
                assert.match(name, /^agent-[A-Za-z0-9_.-]+$/);
                assert.ok(name.length <= 80);
                assert.strictEqual(agentUserName(a), name);
                assert.ok(a === b || agentUserName(b) !== name, `${a} and ${b} share ${name}`);
            }),
        );
        assert.strictEqual(agentUserName("default"), "agent-default");
        assert.match(agentUserName("管理网"), /^agent-[0-9a-f]{10}$/);
    });

    it("derives a region's password from the key and the region alone (property)", () => {
        fc.assert(
            fc.property(fc.string({ minLength: 16 }), regionName, regionName, (key, a, b) => {
                const password = agentPassword(key, a);
                assert.match(password, /^[0-9a-f]{32}$/);
                assert.strictEqual(agentPassword(key, a), password);
                assert.ok(a === b || agentPassword(key, b) !== password);
                assert.notStrictEqual(agentPassword(`${key}x`, a), password);
            }),
        );
    });

    it("grants no agent a command subject to publish, or the server-side executor's to read", () => {
        const rights = agentPermissions("bklite");
        for (const verb of EXECUTOR_SUBJECTS) {
            for (const node of ["default", "0f3c9a2b8e7d4c1a9b8e7d6c5b4a3f2e"]) {
                const subject = `${verb}.${node}`;
                assert.ok(!rights.publish.allow.some((p) => matches(p, subject)), `publish ${subject}`);
            }
            assert.ok(rights.subscribe.deny.includes(`${verb}.default`), verb);
        }
        for (const subject of [
            "$JS.API.STREAM.DELETE.OBJ_bklite",
            "$JS.API.STREAM.PURGE.OBJ_bklite",
            "$O.bklite.M.x",
        ]) {
            assert.ok(!rights.publish.allow.some((p) => matches(p, subject)), subject);
        }
        assert.ok(!rights.subscribe.allow.some((p) => matches(p, "_R_.abc")), "mapped replies of other agents");
    });

    it("writes the server side's user first, each region's, and what regions hand out only while they do (property)", () => {
        const credential = fc.record({
            user: fc.constantFrom(LEGACY_AGENT_USER, NATS_SERVER_USER, NATS_AGENTS_ADMIN, "agent-a", "agent-b", "x"),
            password: fc.string({ minLength: 1, maxLength: 20 }),
        });
        fc.assert(
            fc.property(fc.array(credential, { maxLength: 5 }), fc.array(credential, { maxLength: 5 }), (own, out) => {
                const plan = planAgentUsers({ serverPassword: "server", regions: own, handedOut: out, bucket: "b" });
                const [admin, ...agents] = plan.users;
                assert.deepStrictEqual(admin, { user: NATS_AGENTS_ADMIN, password: "server" });
                const names = agents.map((u) => u.user);
                assert.deepStrictEqual(
                    names,
                    [...new Set(names)].sort((a, b) => a.localeCompare(b)),
                );
                assert.ok(!names.includes(NATS_SERVER_USER) && !names.includes(NATS_AGENTS_ADMIN));
                assert.ok(
                    agents.every((u) => u.permissions !== undefined),
                    "every agent is held to its rights",
                );
                const ownNames = own
                    .map((c) => c.user)
                    .filter((u) => u !== NATS_SERVER_USER && u !== NATS_AGENTS_ADMIN);
                assert.deepStrictEqual(
                    names.filter((n) => !plan.kept.includes(n)).sort(),
                    [...new Set(ownNames)].sort(),
                );
                const after = planAgentUsers({ serverPassword: "server", regions: own, handedOut: [], bucket: "b" });
                assert.deepStrictEqual(after.kept, []);
            }),
        );
    });

    it("quotes a handed-out password whatever its characters", () => {
        const text = renderText(renderAgentUsers([{ user: "agent-a", password: 'p"a\\ss' }]), {});
        assert.ok(text.includes('{ user: "agent-a", password: "p\\"a\\\\ss" }'), text);
    });

    it("refuses a region's NATS_USERNAME in config: each region's agents have their own", () => {
        const given = stackConfig("dev", { "bklite:regions": [{ name: "default", env: { NATS_USERNAME: "admin" } }] });
        const { problems } = parseStackConfig(configSource(given));
        assert.ok(
            problems.some((p) => p.path === "regions[0].env.NATS_USERNAME" && /agent-default here/.test(p.message)),
            JSON.stringify(problems),
        );
    });
});
