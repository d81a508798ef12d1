import * as assert from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fc from "fast-check";
import { aesDecrypt, aesEncrypt, aesStoredLength } from "../../src/seed/aes";
import {
    ExistingEnv,
    SchemaVariant,
    StoredSecret,
    decidePackage,
    isSecretKey,
    objectKey,
    packageTarget,
    diffEnv,
    diffRekey,
    storedPlaintext,
} from "../../src/seed/diff";
import { ColumnInfo, detectSchema } from "../../src/seed/schema";
import { SpecError, parseSeedSpec } from "../../src/seed/spec";

const HUANGPU: SchemaVariant = {
    name: "huangpu",
    packageArchitecture: false,
    regionProxy: false,
    envValueMax: 200,
    plainType: "",
};
const UPSTREAM: SchemaVariant = { name: "upstream", packageArchitecture: true, regionProxy: true, plainType: "str" };

describe("AESCryptor compatibility", () => {
    it("decrypts with an independent implementation (openssl) and reads what openssl encrypts", () => {
        const secretKey = "django-secret-key-0123456789";
        const key = crypto.createHash("sha256").update(secretKey).digest().toString("hex");
        for (const plaintext of ["nats-password", "", "x".repeat(47), "密码-ünïcode"]) {
            const stored = aesEncrypt(plaintext, secretKey);
            assert.doesNotMatch(stored, /[=+/]/, "unpadded base64url");
            const raw = Buffer.from(stored, "base64url");
            const decrypted = execFileSync(
                "openssl",
                ["enc", "-d", "-aes-256-cbc", "-K", key, "-iv", raw.subarray(0, 16).toString("hex")],
                { input: raw.subarray(16) },
            );
            assert.strictEqual(decrypted.toString("utf8"), plaintext);

            const iv = crypto.randomBytes(16);
            const encrypted = execFileSync("openssl", ["enc", "-aes-256-cbc", "-K", key, "-iv", iv.toString("hex")], {
                input: Buffer.from(plaintext, "utf8"),
            });
            assert.strictEqual(
                aesDecrypt(Buffer.concat([iv, encrypted]).toString("base64url").replace(/=+$/, ""), secretKey),
                plaintext,
            );
        }
    });

    it("round-trips any text, and predicts the stored length", () => {
        fc.assert(
            fc.property(
                fc.string({ maxLength: 200 }),
                fc.string({ minLength: 1, maxLength: 40 }),
                (plaintext, secretKey) => {
                    const stored = aesEncrypt(plaintext, secretKey);
                    assert.strictEqual(aesDecrypt(stored, secretKey), plaintext);
                    assert.strictEqual(stored.length, aesStoredLength(Buffer.byteLength(plaintext)));
                },
            ),
        );
    });

    it("cannot be read with another SECRET_KEY, however many values are tried", () => {
        const stored = aesEncrypt("value", "right-key");
        assert.strictEqual(storedPlaintext({ value: stored, type: "secret" }, "wrong-key"), undefined);
        // The padding alone lets a wrong key through about once in 256 values; the UTF-8 check stops those.
        for (let i = 0; i < 2000; i++) {
            assert.strictEqual(
                storedPlaintext({ value: aesEncrypt(`nats-password-${i}`, "right-key"), type: "secret" }, "wrong-key"),
                undefined,
                `value ${i}`,
            );
        }
    });

    /**
     * Known answers: ciphertexts bk-lite's own AESCryptor (server/apps/core/utils/crypto/aes_crypto.py of the huangpu
     * fork, run under Python 3.11 with pycryptodome) produced for this SECRET_KEY.
     */
    const KNOWN_SECRET_KEY = "bk-lite-known-answer-secret-key-0123";
    const KNOWN_ANSWERS: Array<[string, string]> = [
        ["nats-password-for-agents", "pGSjIrQmtre75xY262K4pBvGJdtFC1j93bE5OGqwcqTahaizr3Epg6tDpH6sj6ki"],
        ["密码-ü-€", "rd--veCpMYi5d_rse2jxUpLnXFvHE54ALVLx7dLJjQg"],
        ["x".repeat(40), "b-BS3Jl4XQuIwtpORs5b3DpSRylxdJxQXIOKMQCl246-wmcmAU2qzgTzhXjLU5FQAtvJLxwe5Eqlapnt46XezQ"],
    ];

    it("reads what bk-lite's AESCryptor wrote, and writes the same bytes given its IV", () => {
        for (const [plaintext, stored] of KNOWN_ANSWERS) {
            assert.strictEqual(aesDecrypt(stored, KNOWN_SECRET_KEY), plaintext);
            const iv = Buffer.from(stored, "base64url").subarray(0, 16);
            assert.strictEqual(aesEncrypt(plaintext, KNOWN_SECRET_KEY, iv), stored);
            assert.strictEqual(stored.length, aesStoredLength(Buffer.byteLength(plaintext)));
        }
    });

    it("encrypts one value differently every time (a fresh IV), each readable", () => {
        const stored = Array.from({ length: 64 }, () => aesEncrypt("nats-password-for-agents", KNOWN_SECRET_KEY));
        assert.strictEqual(new Set(stored).size, stored.length);
        assert.strictEqual(
            new Set(stored.map((s) => Buffer.from(s, "base64url").subarray(0, 16).toString("hex"))).size,
            stored.length,
            "no IV repeats",
        );
        assert.ok(stored.every((s) => aesDecrypt(s, KNOWN_SECRET_KEY) === "nats-password-for-agents"));
    });
});

describe("SECRET_KEY checks and rotation (diffRekey)", () => {
    const OLD = "old-secret-key-0123456789";
    const NEW = "new-secret-key-0123456789";
    const row = (id: number, region: string, key: string, plaintext: string, secretKey: string): StoredSecret => ({
        id,
        region,
        key,
        value: aesEncrypt(plaintext, secretKey),
    });
    const spec = [{ name: "default", env: { NATS_PASSWORD: "agents-password" } }];

    it("has nothing to say when every stored secret decrypts with SECRET_KEY", () => {
        const rows = [
            row(1, "default", "NATS_PASSWORD", "agents-password", NEW),
            row(2, "other", "NATS_PASSWORD", "x", NEW),
        ];
        assert.deepStrictEqual(diffRekey(rows, spec, { secretKey: NEW, reencrypt: false }), {
            writes: [],
            problems: [],
        });
        assert.deepStrictEqual(diffRekey(rows, spec, { secretKey: NEW, previousSecretKey: OLD, reencrypt: true }), {
            writes: [],
            problems: [],
        });
    });

    it("refuses a SECRET_KEY that cannot read what is stored, naming every row, in any region", () => {
        const rows = [
            row(1, "default", "NATS_PASSWORD", "agents-password", OLD),
            row(7, "factory", "NATS_PASSWORD", "x", OLD),
            row(9, "factory", "PROXY_PASSWORD", "y", NEW),
        ];
        const { writes, problems } = diffRekey(rows, spec, { secretKey: NEW, reencrypt: false });
        assert.deepStrictEqual(writes, []);
        assert.strictEqual(problems.length, 1);
        assert.match(
            problems[0],
            /^2 stored secret SidecarEnv value\(s\) do not decrypt with BKLITE_SECRET_KEY: region 'default' NATS_PASSWORD \(row 1\), region 'factory' NATS_PASSWORD \(row 7\)\. /,
        );
        assert.match(problems[0], /--reencrypt/);
    });

    it("re-encrypts, when asked, what only the previous key reads; leaves the spec's own rows to diffEnv; refuses what neither key reads", () => {
        const rows = [
            row(1, "default", "NATS_PASSWORD", "agents-password", OLD),
            row(7, "factory", "NATS_PASSWORD", "factory-password", OLD),
            row(8, "lost", "NATS_PASSWORD", "z", "a-third-key"),
        ];
        const rotated = diffRekey(rows.slice(0, 2), spec, { secretKey: NEW, previousSecretKey: OLD, reencrypt: true });
        assert.deepStrictEqual(rotated.problems, []);
        assert.deepStrictEqual(
            rotated.writes.map((w) => [w.id, w.region, w.key, w.type, w.action]),
            [[7, "factory", "NATS_PASSWORD", "secret", "update"]],
        );
        assert.strictEqual(aesDecrypt(rotated.writes[0].stored, NEW), "factory-password");

        const withoutPrevious = diffRekey(rows.slice(0, 2), spec, { secretKey: NEW, reencrypt: true });
        assert.deepStrictEqual(withoutPrevious.writes, []);
        assert.match(
            withoutPrevious.problems[0],
            /decrypt with neither BKLITE_SECRET_KEY nor a previous key \(BKLITE_PREVIOUS_SECRET_KEY is not set\), and the spec does not set them: region 'factory' NATS_PASSWORD \(row 7\)/,
        );

        const lost = diffRekey(rows, spec, { secretKey: NEW, previousSecretKey: OLD, reencrypt: true });
        assert.deepStrictEqual(
            lost.writes.map((w) => w.id),
            [7],
        );
        assert.match(
            lost.problems[0],
            /^1 stored secret .* BKLITE_PREVIOUS_SECRET_KEY, and the spec does not set them: region 'lost' NATS_PASSWORD \(row 8\)/,
        );
    });
});

describe("SidecarEnv planning (property)", () => {
    const envKey = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/);
    const env = fc.dictionary(envKey, fc.string({ maxLength: 40 }), { maxKeys: 8 });
    const regions = fc.uniqueArray(fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }), env }), {
        selector: (r) => r.name,
        maxLength: 4,
    });

    /** Applies writes to an in-memory table, as the database would. */
    function applyWrites(
        existing: Map<string, ExistingEnv[]>,
        writes: ReturnType<typeof diffEnv>["writes"],
    ): Map<string, ExistingEnv[]> {
        const next = new Map([...existing].map(([k, v]) => [k, v.map((r) => ({ ...r }))]));
        let id = 1000;
        for (const w of writes) {
            const rows = next.get(w.region) ?? [];
            const row = rows.find((r) => r.key === w.key);
            if (row) {
                row.value = w.stored;
                row.type = w.type;
            } else {
                rows.push({ id: id++, key: w.key, value: w.stored, type: w.type });
            }
            next.set(w.region, rows);
        }
        return next;
    }

    for (const schema of [UPSTREAM, { ...HUANGPU, envValueMax: undefined }]) {
        it(`reaches a fixed point in one apply: the second plan writes nothing (${schema.name})`, () => {
            fc.assert(
                fc.property(regions, (spec) => {
                    const first = diffEnv(spec, new Map(), schema, "k");
                    const after = applyWrites(new Map(), first.writes);
                    const second = diffEnv(spec, after, schema, "k");
                    assert.deepStrictEqual(second.writes, []);
                    assert.strictEqual(
                        second.counts.unchanged,
                        spec.reduce((n, r) => n + Object.keys(r.env).length, 0),
                    );
                }),
            );
        });
    }

    it("encrypts exactly the keys whose name contains 'password', and leaves other keys alone", () => {
        fc.assert(
            fc.property(regions, (spec) => {
                const unrelated: ExistingEnv = {
                    id: 1,
                    key: "ZZ_NOT_IN_SPEC_KEY_LONGER_THAN_TWELVE",
                    value: "keep",
                    type: "",
                };
                const existing = new Map(spec.map((r) => [r.name, [unrelated]]));
                const { writes } = diffEnv(spec, existing, UPSTREAM, "k");
                for (const w of writes) {
                    assert.strictEqual(w.type === "secret", isSecretKey(w.key));
                    assert.notStrictEqual(w.key, unrelated.key);
                }
            }),
        );
        assert.ok(isSecretKey("NATS_PASSWORD") && isSecretKey("db_Password_x") && !isSecretKey("NATS_USERNAME"));
    });

    it("compares secrets decrypted: a re-encrypted equal value is unchanged, a changed one is an update", () => {
        const existing = new Map([
            ["r", [{ id: 7, key: "NATS_PASSWORD", value: aesEncrypt("same", "k"), type: "secret" }]],
        ]);
        assert.deepStrictEqual(
            diffEnv([{ name: "r", env: { NATS_PASSWORD: "same" } }], existing, HUANGPU, "k").writes,
            [],
        );
        const changed = diffEnv([{ name: "r", env: { NATS_PASSWORD: "other" } }], existing, HUANGPU, "k").writes;
        assert.strictEqual(changed.length, 1);
        assert.deepStrictEqual(
            { action: changed[0].action, id: changed[0].id, type: changed[0].type },
            { action: "update", id: 7, type: "secret" },
        );
        assert.strictEqual(aesDecrypt(changed[0].stored, "k"), "other");
    });

    it("refuses a value that would not fit huangpu's varchar(200)", () => {
        const { problems, writes } = diffEnv(
            [{ name: "r", env: { NODE_SERVER_URL: `http://${"a".repeat(200)}` } }],
            new Map(),
            HUANGPU,
            "k",
        );
        assert.deepStrictEqual(writes, []);
        assert.match(problems[0], /region 'r' key NODE_SERVER_URL: the value is 207 characters/);
    });
});

describe("package decisions", () => {
    const digest = "SHA-256=aaa=";
    const decide = (row: { name: string } | undefined, objectDigest: string | undefined, force = false) =>
        decidePackage({ row, objectDigest, localDigest: digest, name: "pkg.zip", force });

    it("skips what is already there, uploads what is missing, and writes rows only where needed", () => {
        assert.deepStrictEqual(decide({ name: "pkg.zip" }, digest), { upload: false, row: "unchanged" });
        assert.deepStrictEqual(decide(undefined, digest), { upload: false, row: "create" });
        assert.deepStrictEqual(decide(undefined, undefined), { upload: true, row: "create" });
        assert.deepStrictEqual(decide({ name: "pkg.zip" }, undefined), { upload: true, row: "unchanged" });
    });

    it("refuses a different file under an existing version unless forced", () => {
        assert.match((decide({ name: "pkg.zip" }, "SHA-256=bbb=") as { refuse: string }).refuse, /bump the version/);
        assert.match((decide({ name: "other.zip" }, undefined) as { refuse: string }).refuse, /holds file 'other.zip'/);
        assert.deepStrictEqual(decide({ name: "pkg.zip" }, "SHA-256=bbb=", true), { upload: true, row: "update" });
        assert.deepStrictEqual(decide({ name: "other.zip" }, undefined, true), { upload: true, row: "update" });
    });

    it("keys a package's object by its own file name per schema, whatever file is uploaded for it", () => {
        const controller = packageTarget(
            { file: "/x/f.zip", os: "linux", type: "controller", object: "Controller", version: "1.0.0" },
            "/tmp/staging/f.zip",
        );
        const telegraf = packageTarget(
            {
                file: "/x/collector/linux/telegraf",
                os: "linux",
                type: "collector",
                object: "Telegraf",
                version: "1.0.0",
            },
            "/x/collector/linux/telegraf",
        );
        assert.deepStrictEqual(
            [controller, telegraf].map((t) => [
                t.type,
                t.object,
                t.file,
                objectKey(t, HUANGPU),
                objectKey(t, UPSTREAM),
            ]),
            [
                [
                    "controller",
                    "Controller",
                    "/tmp/staging/f.zip",
                    "linux/Controller/1.0.0/f.zip",
                    "linux/x86_64/Controller/1.0.0/f.zip",
                ],
                [
                    "collector",
                    "Telegraf",
                    "/x/collector/linux/telegraf",
                    "linux/Telegraf/1.0.0/telegraf",
                    "linux/x86_64/Telegraf/1.0.0/telegraf",
                ],
            ],
        );
    });
});

describe("seed spec validation", () => {
    const region = (name: string, env: Record<string, string>) => ({ name, env });
    const full = {
        NODE_SERVER_URL: "http://10.0.0.1:8080",
        NATS_SERVERS: "10.0.0.1:24222",
        NATS_USERNAME: "admin",
        NATS_PASSWORD: "pw",
        NATS_PROTOCOL: "tls",
        NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
    };

    it("names every missing key of every region at once", () => {
        try {
            parseSeedSpec({
                regions: [region("a", { NATS_PROTOCOL: "tls" }), region("b", { ...full, NODE_SERVER_URL: "null" })],
            });
            assert.fail("refused");
        } catch (err) {
            assert.ok(err instanceof SpecError);
            const paths = err.problems.map((p) => p.path);
            assert.deepStrictEqual(paths, [
                "region 'a'.env.NODE_SERVER_URL",
                "region 'a'.env.NATS_SERVERS",
                "region 'a'.env.NATS_USERNAME",
                "region 'a'.env.NATS_PASSWORD",
                "region 'a'.env.NATS_TLS_CA_FILE",
                "region 'b'.env.NODE_SERVER_URL",
            ]);
        }
    });

    it("refuses the same package row twice", () => {
        const pkg = { file: "telegraf", os: "linux", type: "collector", object: "Telegraf", version: "1.0.0" };
        assert.throws(
            () => parseSeedSpec({ regions: [], packages: [pkg, { ...pkg, file: "telegraf-2" }] }),
            /packages\[1\]: Telegraf 1\.0\.0 \(linux\) is already given by packages\[0\]/,
        );
    });

    it("refuses collectors riding on the controller zip, a controller that is not a zip, and a file name bk-lite cannot store", () => {
        const controller = { file: "f.zip", os: "linux", type: "controller", object: "Controller", version: "1.0.0" };
        assert.throws(
            () => parseSeedSpec({ packages: [{ ...controller, collectors: ["Telegraf"] }] }),
            /packages\[0\]\.collectors: is no longer supported: a collector is a package of its own file/,
        );
        assert.throws(
            () => parseSeedSpec({ packages: [{ ...controller, file: "fusion-collectors.tar.gz" }] }),
            /packages\[0\]\.file: must be a \.zip: the controller package gets the stack's CA/,
        );
        const long = `${"x".repeat(97)}.zip`;
        assert.throws(
            () => parseSeedSpec({ packages: [{ ...controller, file: `/opt/${long}` }] }),
            /packages\[0\]\.file: has a file name of 101 characters; bk-lite stores at most 100/,
        );
        assert.strictEqual(
            parseSeedSpec({ packages: [{ ...controller, file: `/opt/${"x".repeat(96)}.zip` }] }).packages.length,
            1,
        );
        assert.throws(
            () => parseSeedSpec({ packages: [{ ...controller, file: `${"d/".repeat(3000)}f.zip` }] }),
            /packages\[0\]\.file: is a path of 6005 characters; a path holds at most 4096/,
        );
    });

    it("refuses what is not part of a spec (a misspelt key must not pass as an empty list), and a weak console password", () => {
        assert.throws(
            () => parseSeedSpec({ regionz: [] }),
            /regionz: is not part of a seed spec \(regions, packages, admin\)/,
        );
        assert.throws(
            () => parseSeedSpec({ regions: [{ name: "a", env: full, nodeServerUrl: "http://x:1" }] }),
            /region 'a'\.nodeServerUrl: is not a region setting \(name, env\)/,
        );
        assert.throws(
            () =>
                parseSeedSpec({
                    packages: [
                        {
                            file: "telegraf",
                            os: "linux",
                            type: "collector",
                            object: "Telegraf",
                            version: "1",
                            arch: "arm64",
                        },
                    ],
                }),
            /packages\[0\]\.arch: is not a package setting \(file, os, type, object, version, cpuArchitecture\)/,
        );
        assert.throws(
            () => parseSeedSpec({ admin: { username: "admin", password: "short" } }),
            /admin\.password: must be a password of at least 8 characters/,
        );
        assert.deepStrictEqual(parseSeedSpec({ admin: { username: "admin", password: "long-enough" } }).admin, {
            username: "admin",
            password: "long-enough",
        });
    });

    it("accepts a complete spec", () => {
        const spec = parseSeedSpec({
            regions: [region("a", full)],
            packages: [{ file: "f.zip", os: "linux", type: "controller", object: "Controller", version: "1.0.0" }],
        });
        assert.strictEqual(spec.regions.length, 1);
        assert.deepStrictEqual(spec.packages[0], {
            file: "f.zip",
            os: "linux",
            type: "controller",
            object: "Controller",
            version: "1.0.0",
        });
    });
});

describe("schema detection", () => {
    const col = (table: string, column: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
        table,
        column,
        nullable: false,
        hasDefault: false,
        maxLength: null,
        ...extra,
    });
    const base = (): ColumnInfo[] => [
        ...[
            "id",
            "name",
            "introduction",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "domain",
            "updated_by_domain",
        ].map((c) => col("node_mgmt_cloudregion", c)),
        ...["id", "key", "description", "cloud_region_id", "type", "is_pre"].map((c) => col("node_mgmt_sidecarenv", c)),
        col("node_mgmt_sidecarenv", "value", { maxLength: 200 }),
        ...[
            "id",
            "type",
            "os",
            "object",
            "version",
            "name",
            "description",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "domain",
            "updated_by_domain",
        ].map((c) => col("node_mgmt_packageversion", c)),
    ];

    it("tells huangpu from upstream", () => {
        assert.deepStrictEqual(detectSchema(base(), [["os", "object", "version"]]), { ...HUANGPU });
        const upstream = [
            ...base().filter((c) => c.column !== "value"),
            col("node_mgmt_sidecarenv", "value"),
            col("node_mgmt_packageversion", "cpu_architecture"),
            col("node_mgmt_cloudregion", "proxy_address"),
        ];
        assert.deepStrictEqual(detectSchema(upstream, [["version", "os", "cpu_architecture", "object"]]), {
            ...UPSTREAM,
            envValueMax: undefined,
        });
    });

    it("refuses missing columns, unknown required columns and unknown uniqueness, all named", () => {
        const odd = [...base().filter((c) => c.column !== "is_pre"), col("node_mgmt_packageversion", "tenant")];
        assert.throws(
            () => detectSchema(odd, [["os", "object"]]),
            (err: Error) => {
                assert.match(err.message, /node_mgmt_sidecarenv lacks is_pre/);
                assert.match(err.message, /node_mgmt_packageversion\.tenant is NOT NULL without a default/);
                assert.match(err.message, /unique on \(object,os\), not on \(object, os, version\)/);
                return true;
            },
        );
    });
});
