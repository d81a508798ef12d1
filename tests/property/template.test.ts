import * as assert from "assert";
import * as fc from "fast-check";
import {
    AgentEndpoints,
    REQUIRED_REGION_KEYS,
    agentPasswordRef,
    checkNodeServerUrl,
    regionEnv,
} from "../../src/services/regions";
import { agentUserName } from "../../src/services/natsAccounts";
import { TextValue, envRefs, joinText, ref, renderEnv, renderText, tpl } from "../../src/services/template";

const refName = fc.stringMatching(/^[a-z][A-Za-z0-9_]{0,10}$/);
const envKey = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/);
const literal = fc.string({ maxLength: 20 });
/** The value the tests bind to a reference: a marker that cannot occur by accident. */
const marker = (name: string) => `<<${name}>>`;
/** A text value (literals and references in any order) with its expected rendering, built independently. */
const textCase: fc.Arbitrary<{ value: TextValue; expected: string }> = fc.oneof(
    literal.map((l) => ({ value: l, expected: l })),
    fc.array(fc.oneof(literal, refName.map(ref)), { maxLength: 5 }).map((parts) => ({
        value: joinText(parts.map((p) => (typeof p === "string" ? p : tpl`${p}`))),
        expected: parts.map((p) => (typeof p === "string" ? p : marker(p.ref))).join(""),
    })),
);
const envCase = fc.dictionary(envKey, textCase, { maxKeys: 12 });
const envMap = envCase.map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.value])));

/** Values for every name in the env, each a distinct marker that cannot occur by accident. */
function valuesFor(env: Record<string, TextValue>): Record<string, string> {
    return Object.fromEntries(envRefs(env).map((name) => [name, marker(name)]));
}

describe("env rendering (property)", () => {
    it("renders one KEY=VALUE per key, sorted by key", () => {
        fc.assert(
            fc.property(envMap, (env) => {
                const lines = renderEnv(env, valuesFor(env));
                const keys = lines.map((l) => l.slice(0, l.indexOf("=")));
                assert.deepStrictEqual(keys, Object.keys(env).sort());
            }),
        );
    });

    it("does not depend on the order keys were written in", () => {
        fc.assert(
            fc.property(envMap, (env) => {
                const reversed = Object.fromEntries(Object.entries(env).reverse());
                assert.deepStrictEqual(renderEnv(reversed, valuesFor(env)), renderEnv(env, valuesFor(env)));
            }),
        );
    });

    it("keeps literal text exactly, including '=' and newlines, and fills every reference", () => {
        fc.assert(
            fc.property(envCase, (cases) => {
                const env = Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, v.value]));
                const expected = Object.keys(cases)
                    .sort()
                    .map((k) => `${k}=${cases[k].expected}`);
                assert.deepStrictEqual(renderEnv(env, valuesFor(env)), expected);
            }),
        );
    });

    it("fills each reference with its value and nothing else", () => {
        fc.assert(
            fc.property(literal, refName, literal, fc.string({ maxLength: 10 }), (before, name, after, value) => {
                assert.strictEqual(
                    renderText(tpl`${before}${ref(name)}${after}`, { [name]: value }),
                    `${before}${value}${after}`,
                );
            }),
        );
    });

    it("refuses to render a reference it has no value for", () => {
        fc.assert(
            fc.property(refName, (name) => {
                assert.throws(() => renderText(tpl`x${ref(name)}`, {}), new RegExp(name));
            }),
        );
    });
});

describe("region env (property)", () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
    const endpoints: fc.Arbitrary<AgentEndpoints> = fc.record({
        hostAddress: address,
        httpPort: fc.integer({ min: 1, max: 65535 }),
        natsHost: address,
        natsPort: fc.integer({ min: 1, max: 65535 }),
    });

    it("gives every region all six keys, and a derived NODE_SERVER_URL that passes its own check", () => {
        fc.assert(
            fc.property(endpoints, fc.string({ minLength: 1, maxLength: 10 }), (e, name) => {
                const env = regionEnv({ name }, e);
                for (const key of REQUIRED_REGION_KEYS) {
                    assert.ok(key in env, key);
                }
                assert.strictEqual(
                    checkNodeServerUrl(env.NODE_SERVER_URL as string),
                    undefined,
                    String(env.NODE_SERVER_URL),
                );
                assert.deepStrictEqual(envRefs({ NATS_PASSWORD: env.NATS_PASSWORD }), [agentPasswordRef(name)]);
                assert.strictEqual(env.NATS_USERNAME, agentUserName(name));
            }),
        );
    });

    it("refuses URLs a parser would repair but agents would not", () => {
        for (const url of ["http:x", "http:/10.0.0.1", "HTTP://10.0.0.1", " http://10.0.0.1", "http://10.0.0.1 "]) {
            assert.notStrictEqual(checkNodeServerUrl(url), undefined, url);
        }
    });

    it("refuses any NODE_SERVER_URL that does not start with http:// or https://", () => {
        fc.assert(
            fc.property(
                fc.string({ maxLength: 30 }).filter((s) => !/^https?:\/\//.test(s)),
                (url) => {
                    assert.notStrictEqual(checkNodeServerUrl(url), undefined, url);
                },
            ),
        );
    });
});
