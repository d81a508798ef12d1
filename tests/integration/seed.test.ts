/**
 * `bklite seed apply` run for real, as the program runs it (spec on stdin, connection in BKLITE_* variables),
 * against a throwaway PostgreSQL holding bk-lite's schema (both variants) and a NATS JetStream server with the
 * stack's own TLS config. Objects are read back with nats.js's object store, an independent reader that checks
 * the digest as bk-lite's Go executor does.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { connect } from "nats";
import { Client } from "pg";
import { aesDecrypt } from "../../src/seed/aes";
import { SchemaName, consoleUserSql, createBkliteDatabase, schemaSql } from "../support/bkliteSchema";
import { CliResult, bkliteArgv } from "../support/cli";
import { TestNats, startNats } from "../support/nats";
import { TestPostgres, databaseUrl, startPostgres } from "../support/postgres";
import { freePort, tempDir, waitFor } from "../support/processes";
import { djangoChecks, djangoHash } from "../support/django";
import { readZip, writeZip } from "../support/zips";
import { PROJECT_ROOT } from "../support/stackFiles";

const SECRET_KEY = "seed-test-secret-key-0123456789";
const NATS_PASSWORD_FOR_AGENTS = "agents-nats-password-0123456789";
const ADMIN_PASSWORD = "stack-admin-password-0123456789";

/** Every CLI started, so a failing test never leaves one running. */
const children: ChildProcess[] = [];

/** The suite's NATS, which every run writes the agents' users of (a test's env may name another). */
let suiteNats: TestNats | undefined;

function natsDefaults(): { env: Record<string, string>; args: string[] } {
    if (!suiteNats) {
        return { env: {}, args: [] };
    }
    return {
        env: {
            BKLITE_NATS_URL: suiteNats.url,
            BKLITE_NATS_USER: suiteNats.user,
            BKLITE_NATS_PASSWORD: suiteNats.password,
            BKLITE_NATS_CA: suiteNats.caPem,
        },
        args: ["--nats-config", suiteNats.files.configFile],
    };
}

/** Starts the real CLI with the spec on stdin. */
function startSeed(
    spec: unknown,
    env: Record<string, string>,
    args: string[] = [],
): { child: ChildProcess; done: Promise<CliResult>; stderr: () => string } {
    const defaults = natsDefaults();
    const [node, ...cli] = bkliteArgv(["seed", "apply", "--spec", "-", ...defaults.args, ...args]);
    const child = spawn(node, cli, {
        cwd: PROJECT_ROOT,
        // A test that names its own NATS gives all of its settings (or leaves some out on purpose).
        env: { PATH: process.env.PATH, ...(env.BKLITE_NATS_URL === undefined ? defaults.env : {}), ...env },
        stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.stdin!.end(JSON.stringify(spec));
    children.push(child);
    if (process.env.SEED_TEST_DEBUG) {
        child.stderr!.on("data", (d) => process.stderr.write(`[cli] ${d}`));
    }
    const done = new Promise<CliResult>((resolve) =>
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr })),
    );
    return { child, done, stderr: () => stderr };
}

function regionEnv(host: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
        NODE_SERVER_URL: `http://${host}:8080`,
        NATS_SERVERS: `${host}:24222`,
        NATS_USERNAME: "admin",
        NATS_PASSWORD: NATS_PASSWORD_FOR_AGENTS,
        NATS_PROTOCOL: "tls",
        NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
        ...extra,
    };
}

/** `env` without `key`. */
function withoutKey(env: Record<string, string>, key: string): Record<string, string> {
    return Object.fromEntries(Object.entries(env).filter(([k]) => k !== key));
}

function makePackage(dir: string, name: string, bytes: number, seed = 1): string {
    const file = path.join(dir, name);
    const block = crypto.createHash("sha512").update(String(seed)).digest();
    const fd = fs.openSync(file, "w");
    const chunk = Buffer.alloc(1024 * 1024);
    for (let offset = 0; offset < chunk.length; offset += block.length) {
        block.copy(chunk, offset);
    }
    let written = 0;
    while (written < bytes) {
        const n = Math.min(chunk.length, bytes - written);
        crypto.randomFillSync(chunk, 0, Math.min(n, 4096)); // mostly incompressible, cheap to make
        fs.writeSync(fd, chunk, 0, n);
        written += n;
    }
    fs.closeSync(fd);
    return file;
}

describe("bklite seed apply (real PostgreSQL and NATS JetStream)", function () {
    this.timeout(300000);
    let pg: TestPostgres;
    let nats: TestNats;
    let work: string;

    before(async () => {
        [pg, nats] = await Promise.all([startPostgres(), startNats()]);
        suiteNats = nats;
        work = tempDir("seed-work");
    });

    afterEach(() => {
        for (const child of children.splice(0)) {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGKILL");
            }
        }
    });

    after(async () => {
        await Promise.all([pg?.stop(), nats?.stop()]);
        fs.rmSync(work, { recursive: true, force: true });
    });

    /** The object store stream's last sequence and message count. */
    async function streamState(bucket: string): Promise<{ last: number; messages: number }> {
        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        try {
            const info = await (await nc.jetstreamManager()).streams.info(`OBJ_${bucket}`);
            return { last: info.state.last_seq, messages: info.state.messages };
        } finally {
            await nc.close();
        }
    }

    /** Reads an object back with nats.js's own object store (it verifies the digest). */
    async function readObject(
        bucket: string,
        key: string,
    ): Promise<
        | { data: Buffer; info: { description?: string; digest: string; options?: { max_chunk_size?: number } } }
        | undefined
    > {
        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        try {
            const os = await await nc.jetstream().views.os(bucket);
            const info = await os.info(key);
            if (!info) {
                return undefined;
            }
            const result = await os.get(key);
            const chunks: Buffer[] = [];
            for await (const chunk of result!.data) {
                chunks.push(Buffer.from(chunk));
            }
            const error = await result!.error;
            if (error) {
                throw error;
            }
            return { data: Buffer.concat(chunks), info };
        } finally {
            await nc.close();
        }
    }

    for (const schema of ["huangpu", "upstream"] as SchemaName[]) {
        describe(`on the ${schema} schema`, () => {
            const database = `bklite_${schema}`;
            const bucket = `bklite_${schema}`;
            let env: Record<string, string>;
            let packageFile: string;
            let controllerEntries: Array<[string, Buffer]>;
            const collectors: Record<string, string> = {};
            let spec: {
                regions: Array<{ name: string; env: Record<string, string> }>;
                packages: unknown[];
                admin: { username: string; password: string };
            };
            const keyOf = (object: string, name = "fusion-collectors-linux-amd64.zip") =>
                schema === "upstream" ? `linux/x86_64/${object}/1.0.0/${name}` : `linux/${object}/1.0.0/${name}`;
            /** The controller zip: the huangpu run's carries another deployment's CA (replaced), the upstream run's none, written as a stream. */
            const writeController = (seed: number) => {
                controllerEntries = [
                    ["fusion-collectors/install.sh", Buffer.from("#!/bin/sh\necho install\n")],
                    ["fusion-collectors/bin/sidecar", crypto.randomBytes(700 * 1024 + seed)],
                    ...(schema === "huangpu"
                        ? ([
                              [
                                  "fusion-collectors/certs/ca.crt",
                                  Buffer.from("-----BEGIN CERTIFICATE-----\nanother deployment's CA\n"),
                              ],
                          ] as Array<[string, Buffer]>)
                        : []),
                    ["fusion-collectors/sidecar.yml", Buffer.from("server_url: x\n")],
                ];
                writeZip(packageFile, controllerEntries, { streamed: schema === "upstream" });
            };
            const db = async <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => {
                const client = new Client({ connectionString: databaseUrl(pg, database) });
                await client.connect();
                try {
                    return (await client.query(sql, params)).rows as T[];
                } finally {
                    await client.end();
                }
            };
            /** Every row of the three tables with its xmin: any write changes an xmin. */
            const snapshot = () =>
                db(
                    `SELECT 'r' AS t, id, xmin::text FROM node_mgmt_cloudregion UNION ALL SELECT 'e', id, xmin::text FROM node_mgmt_sidecarenv UNION ALL SELECT 'p', id, xmin::text FROM node_mgmt_packageversion
                     UNION ALL SELECT 'u', id, xmin::text FROM system_mgmt_user ORDER BY 1, 2`,
                );

            before(async () => {
                await pg.query(`CREATE DATABASE ${database}`);
                await db(schemaSql(schema));
                // The server's start created the console user with its fixed password.
                await db(consoleUserSql("admin", djangoHash("password")));
                packageFile = path.join(work, `${schema}-controller`, "fusion-collectors-linux-amd64.zip");
                fs.mkdirSync(path.dirname(packageFile));
                writeController(schema === "huangpu" ? 1 : 2);
                for (const name of ["telegraf", "vector", "nats-executor"]) {
                    collectors[name] = makePackage(
                        path.join(work, `${schema}-controller`),
                        name,
                        300 * 1024 + name.length,
                        name.length,
                    );
                }
                env = {
                    BKLITE_PG_URL: databaseUrl(pg, database),
                    BKLITE_NATS_URL: nats.url,
                    BKLITE_NATS_USER: nats.user,
                    BKLITE_NATS_PASSWORD: nats.password,
                    BKLITE_NATS_CA: nats.caPem,
                    BKLITE_NATS_BUCKET: bucket,
                    BKLITE_SECRET_KEY: SECRET_KEY,
                };
                spec = {
                    regions: [
                        { name: "default", env: regionEnv("192.168.31.10") },
                        { name: "管理网", env: regionEnv("10.1.0.5") },
                    ],
                    packages: [
                        { file: packageFile, os: "linux", type: "controller", object: "Controller", version: "1.0.0" },
                        {
                            file: collectors.telegraf,
                            os: "linux",
                            type: "collector",
                            object: "Telegraf",
                            version: "1.0.0",
                        },
                        { file: collectors.vector, os: "linux", type: "collector", object: "Vector", version: "1.0.0" },
                        {
                            file: collectors["nats-executor"],
                            os: "linux",
                            type: "collector",
                            object: "NATS-Executor",
                            version: "1.0.0",
                        },
                    ],
                    admin: { username: "admin", password: ADMIN_PASSWORD },
                };
            });

            it("gives every region all six keys, with the password encrypted as bk-lite's AESCryptor does", async () => {
                const run = await startSeed(spec, env).done;
                assert.strictEqual(run.code, 0, run.stderr);
                const summary = JSON.parse(run.stdout);
                assert.deepStrictEqual(summary.regions, { created: 1, updated: 0, unchanged: 1 });
                assert.deepStrictEqual(summary.sidecarEnv, { created: 12, updated: 0, unchanged: 0 });
                assert.strictEqual(summary.schema, schema);

                const regions = await db<{ id: string; name: string }>(
                    "SELECT id, name FROM node_mgmt_cloudregion ORDER BY id",
                );
                assert.deepStrictEqual(
                    regions.map((r) => [Number(r.id), r.name]),
                    [
                        [1, "default"],
                        [2, "管理网"],
                    ],
                );
                const rows = await db<{ region: string; key: string; value: string; type: string; is_pre: boolean }>(
                    `SELECT r.name AS region, e.key, e.value, e.type, e.is_pre FROM node_mgmt_sidecarenv e JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id ORDER BY r.id, e.key`,
                );
                for (const region of spec.regions) {
                    const mine = rows.filter((r) => r.region === region.name);
                    assert.deepStrictEqual(
                        mine.map((r) => r.key),
                        Object.keys(region.env).sort(),
                    );
                    for (const row of mine) {
                        assert.strictEqual(row.is_pre, true);
                        if (row.key === "NATS_PASSWORD") {
                            assert.strictEqual(row.type, "secret");
                            assert.notStrictEqual(row.value, NATS_PASSWORD_FOR_AGENTS, "stored encrypted");
                            assert.strictEqual(aesDecrypt(row.value, SECRET_KEY), NATS_PASSWORD_FOR_AGENTS);
                        } else {
                            assert.strictEqual(row.type, schema === "upstream" ? "str" : "");
                            assert.strictEqual(row.value, region.env[row.key]);
                        }
                    }
                }
            });

            it("stores the controller zip with the stack's CA in it, and each collector's own file, with rows only for verified objects", async () => {
                const rows = await db<{
                    type: string;
                    os: string;
                    object: string;
                    version: string;
                    name: string;
                    created_by: string;
                }>("SELECT type, os, object, version, name, created_by FROM node_mgmt_packageversion ORDER BY object");
                assert.deepStrictEqual(
                    rows.map((r) => [r.type, r.object, r.name]),
                    [
                        ["controller", "Controller", "fusion-collectors-linux-amd64.zip"],
                        ["collector", "NATS-Executor", "nats-executor"],
                        ["collector", "Telegraf", "telegraf"],
                        ["collector", "Vector", "vector"],
                    ],
                );
                // Unzipped by Python: every entry intact (CRCs checked), the CA replaced or added, nothing else changed.
                const stored = (await readObject(bucket, keyOf("Controller")))!;
                assert.strictEqual(stored.info.description, "fusion-collectors-linux-amd64.zip");
                assert.strictEqual(stored.info.options?.max_chunk_size, 128 * 1024);
                assert.strictEqual(
                    stored.info.digest,
                    `SHA-256=${crypto.createHash("sha256").update(stored.data).digest("base64url")}=`,
                );
                const unpacked = path.join(work, `${schema}-stored.zip`);
                fs.writeFileSync(unpacked, stored.data);
                const entries = readZip(unpacked);
                assert.strictEqual(
                    entries["fusion-collectors/certs/ca.crt"].toString("utf8"),
                    nats.caPem,
                    "the CA agents verify NATS with is this stack's",
                );
                for (const [name, data] of controllerEntries.filter(([n]) => n !== "fusion-collectors/certs/ca.crt")) {
                    assert.ok(entries[name].equals(data), `${name} is unchanged`);
                }
                assert.strictEqual(
                    Object.keys(entries).length,
                    controllerEntries.filter(([n]) => n !== "fusion-collectors/certs/ca.crt").length + 1,
                );
                assert.deepStrictEqual(
                    Object.keys(readZip(packageFile)),
                    controllerEntries.map(([n]) => n),
                    "the package file itself is left as it was",
                );
                for (const [object, name] of [
                    ["Telegraf", "telegraf"],
                    ["Vector", "vector"],
                    ["NATS-Executor", "nats-executor"],
                ]) {
                    const collector = await readObject(bucket, keyOf(object, name));
                    assert.ok(collector, `${keyOf(object, name)} exists`);
                    assert.ok(
                        collector.data.equals(fs.readFileSync(collectors[name])),
                        `${object} reads back as its own file`,
                    );
                    assert.strictEqual(collector.info.description, name);
                }
            });

            it("gives the console's admin the stack's password as Django stores it, once", async () => {
                const [user] = await db<{ password: string }>(
                    "SELECT password FROM system_mgmt_user WHERE username = 'admin' AND domain = 'domain.com'",
                );
                assert.match(user.password, /^pbkdf2_sha256\$600000\$[A-Za-z0-9]{22}\$/);
                assert.ok(
                    djangoChecks(ADMIN_PASSWORD, user.password),
                    "Django's own check_password (PyPI's Django 4.2.22, as the server pins) accepts the stack's password",
                );
                assert.ok(!djangoChecks("password", user.password), "the image's fixed password no longer works");
            });

            it("writes nothing and sends nothing the second time", async () => {
                const before = await snapshot();
                const streamBefore = await streamState(bucket);
                const run = await startSeed(spec, env).done;
                assert.strictEqual(run.code, 0, run.stderr);
                const summary = JSON.parse(run.stdout);
                assert.deepStrictEqual(summary.regions, { created: 0, updated: 0, unchanged: 2 });
                assert.deepStrictEqual(summary.sidecarEnv, { created: 0, updated: 0, unchanged: 12 });
                assert.deepStrictEqual(summary.packages, { created: 0, updated: 0, unchanged: 4 });
                assert.deepStrictEqual(summary.objects, { uploaded: 0, unchanged: 4 });
                assert.strictEqual(summary.admin, "unchanged");
                assert.strictEqual(summary.bytesSent, 0);
                assert.deepStrictEqual(await snapshot(), before, "no row was written");
                assert.deepStrictEqual(
                    await streamState(bucket),
                    streamBefore,
                    "no message was published to the object store",
                );
            });

            it("refuses a stored hash claiming absurd iterations unchecked, and replaces it, rather than hang", async () => {
                const tampered = "pbkdf2_sha256$2000000000$bkliteTestSalt0123456A$AAAA";
                await db("UPDATE system_mgmt_user SET password = $1 WHERE username = 'admin'", [tampered]);
                const run = await startSeed(spec, env).done;
                assert.strictEqual(run.code, 0, run.stderr);
                assert.match(
                    run.stderr,
                    /console user admin: its stored password hash is refused unchecked \(it claims 2000000000 PBKDF2 iterations, outside 10000 to 10000000/,
                );
                const [user] = await db<{ password: string }>(
                    "SELECT password FROM system_mgmt_user WHERE username = 'admin'",
                );
                assert.ok(djangoChecks(ADMIN_PASSWORD, user.password), "the stack's password, freshly hashed");
            });
            it("updates a changed value, and leaves keys that are not in the spec alone", async () => {
                await db(
                    `INSERT INTO node_mgmt_sidecarenv (key, value, description, cloud_region_id, type, is_pre) VALUES ('STARGAZER_URL', 'http://stargazer:8083', '', 1, '', true)`,
                );
                const changed = JSON.parse(JSON.stringify(spec));
                changed.regions[1].env.NODE_SERVER_URL = "http://10.1.0.6:8080";
                const run = await startSeed(changed, env).done;
                assert.strictEqual(run.code, 0, run.stderr);
                assert.deepStrictEqual(JSON.parse(run.stdout).sidecarEnv, { created: 0, updated: 1, unchanged: 11 });
                const kept = await db("SELECT value FROM node_mgmt_sidecarenv WHERE key = 'STARGAZER_URL'");
                assert.deepStrictEqual(kept, [{ value: "http://stargazer:8083" }]);
                assert.strictEqual(
                    (
                        await db<{ value: string }>(
                            "SELECT e.value FROM node_mgmt_sidecarenv e JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id WHERE r.name = '管理网' AND e.key = 'NODE_SERVER_URL'",
                        )
                    )[0].value,
                    "http://10.1.0.6:8080",
                );
                assert.strictEqual((await startSeed(spec, env).done).code, 0, "and back");
            });

            it("refuses a region without NODE_SERVER_URL or with a null one, naming region and key, writing nothing", async () => {
                const before = await snapshot();
                const bad = {
                    regions: [
                        { name: "default", env: regionEnv("192.168.31.10") },
                        { name: "边缘", env: { ...regionEnv("10.2.0.5"), NODE_SERVER_URL: "null" } },
                        { name: "隔离网", env: withoutKey(regionEnv("10.3.0.5"), "NODE_SERVER_URL") },
                    ],
                    packages: [],
                };
                const run = await startSeed(bad, env).done;
                assert.strictEqual(run.code, 2);
                assert.match(run.stderr, /region '边缘'\.env\.NODE_SERVER_URL: "null" is not an absolute URL/);
                assert.match(run.stderr, /region '隔离网'\.env\.NODE_SERVER_URL: is missing/);
                assert.match(run.stderr, /nothing was written/);
                assert.deepStrictEqual(await snapshot(), before);
            });

            it("rolls everything back when a write fails part-way", async () => {
                await db(
                    `CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN IF NEW.key = 'BOOM' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
                );
                await db(
                    `CREATE TRIGGER refuse_boom BEFORE INSERT ON node_mgmt_sidecarenv FOR EACH ROW EXECUTE FUNCTION refuse_boom()`,
                );
                try {
                    const before = await snapshot();
                    const failing = {
                        regions: [...spec.regions, { name: "新区", env: { ...regionEnv("10.9.0.5"), BOOM: "x" } }],
                        packages: [],
                    };
                    const run = await startSeed(failing, env).done;
                    assert.strictEqual(run.code, 1);
                    assert.match(run.stderr, /rolled back: boom refused/);
                    assert.deepStrictEqual(
                        await snapshot(),
                        before,
                        "the new region and its earlier keys are gone too",
                    );
                } finally {
                    await db("DROP TRIGGER refuse_boom ON node_mgmt_sidecarenv; DROP FUNCTION refuse_boom()");
                }
            });

            it("refuses a different file under an existing version unless --force", async () => {
                const original = fs.readFileSync(packageFile);
                const storedBefore = (await readObject(bucket, keyOf("Controller")))!.data;
                writeController(99);
                try {
                    const refused = await startSeed(spec, env).done;
                    assert.strictEqual(refused.code, 1);
                    assert.match(
                        refused.stderr,
                        /package linux\/Controller 1\.0\.0: version already holds a different file with this name; bump the version/,
                    );
                    assert.ok(
                        (await readObject(bucket, keyOf("Controller")))!.data.equals(storedBefore),
                        "the stored object is untouched",
                    );
                    const forced = await startSeed(spec, env, ["--force"]).done;
                    assert.strictEqual(forced.code, 0, forced.stderr);
                    assert.deepStrictEqual(JSON.parse(forced.stdout).objects, { uploaded: 1, unchanged: 3 });
                    const stored = path.join(work, `${schema}-forced.zip`);
                    fs.writeFileSync(stored, (await readObject(bucket, keyOf("Controller")))!.data);
                    assert.ok(readZip(stored)["fusion-collectors/bin/sidecar"].equals(controllerEntries[1][1]));
                } finally {
                    fs.writeFileSync(packageFile, original);
                    assert.strictEqual((await startSeed(spec, env, ["--force"]).done).code, 0);
                }
            });

            it("refuses, writing nothing, when the console user does not exist yet or the package is not a controller zip", async () => {
                const before = await snapshot();
                const missingUser = await startSeed(
                    { ...spec, admin: { username: "root", password: ADMIN_PASSWORD } },
                    env,
                ).done;
                assert.strictEqual(missingUser.code, 1);
                assert.match(missingUser.stderr, /console user root: the server has not created it/);
                const notZip = path.join(work, `${schema}-not-a-zip`, "fusion-collectors-linux-amd64.zip");
                fs.mkdirSync(path.dirname(notZip));
                fs.writeFileSync(notZip, "not a zip at all\n");
                const bad = await startSeed(
                    {
                        ...spec,
                        packages: [
                            { file: notZip, os: "linux", type: "controller", object: "Controller", version: "2.0.0" },
                        ],
                    },
                    env,
                ).done;
                assert.strictEqual(bad.code, 1);
                assert.match(
                    bad.stderr,
                    /controller package .*fusion-collectors-linux-amd64\.zip: it is not a zip archive \(no end-of-directory record\); nothing was written/,
                );
                const noCa = await startSeed(spec, { ...env, BKLITE_NATS_CA: "" }).done;
                assert.strictEqual(noCa.code, 1);
                assert.match(
                    noCa.stderr,
                    /BKLITE_NATS_CA is required: a controller package is uploaded with the stack's NATS CA in it/,
                );
                assert.deepStrictEqual(await snapshot(), before);
            });
        });
    }

    it("moves an older stack's agents to their region's own NATS user, dropping the shared one only once seeded", async () => {
        await createBkliteDatabase(pg, "bklite_upgrade", "huangpu");
        const env = { BKLITE_PG_URL: databaseUrl(pg, "bklite_upgrade"), BKLITE_SECRET_KEY: SECRET_KEY };
        const shared = { user: "admin", password: "shared-by-server-and-agents-0123" };
        const own = { user: "agent-default", password: "the-regions-own-password-0123456" };
        const spec = (credential: { user: string; password: string }) => ({
            regions: [
                {
                    name: "default",
                    env: regionEnv("10.0.0.1", { NATS_USERNAME: credential.user, NATS_PASSWORD: credential.password }),
                },
            ],
            packages: [],
        });
        const login = (credential: { user: string; password: string }) =>
            connect({ servers: nats.url, user: credential.user, pass: credential.password, tls: { ca: nats.caPem } });
        // As an older stack left it: every region hands out the shared credential, and an agent is connected with it.
        const before = await startSeed(spec(shared), env).done;
        assert.strictEqual(before.code, 0, before.stderr);
        const agent = await login(shared);
        const dropped = agent.closed();
        // Agent rights only, already: it publishes metrics and may not command anything.
        agent.publish("metrics.10-0-0-1", new TextEncoder().encode("cpu usage=1"));
        await assert.rejects(agent.request("local.execute.default", new Uint8Array(), { timeout: 2000 }), {
            code: "PERMISSIONS_VIOLATION",
        });
        const upgrade = await startSeed(spec(own), env, ["--agent-grace-seconds", "2"]).done;
        assert.strictEqual(upgrade.code, 0, upgrade.stderr);
        assert.match(upgrade.stderr, /NATS agents' users: 2 written; kept until their regions are seeded: admin/);
        assert.match(
            upgrade.stderr,
            /waiting for agents to move off admin: 1 still connected with it \(127\.0\.0\.1:\d+\)/,
        );
        assert.match(upgrade.stderr, /dropping admin with 1 agents still connected/);
        assert.deepStrictEqual(JSON.parse(upgrade.stdout).natsAgents, {
            users: 1,
            retired: ["admin"],
            mirror: "present",
        });
        // Dropped once seeded: the connection is closed, and the shared credential refused from now on.
        await dropped;
        await assert.rejects(login(shared), /Authorization Violation/i);
        const moved = await login(own);
        await moved.close();
        const again = await startSeed(spec(own), env).done;
        assert.strictEqual(again.code, 0, again.stderr);
        assert.deepStrictEqual(JSON.parse(again.stdout).natsAgents, { users: 1, retired: [], mirror: "present" });
        assert.doesNotMatch(again.stderr, /waiting for agents/);
    });

    it("waits for the server's migrations to create the tables", async () => {
        await pg.query("CREATE DATABASE bklite_late");
        const env = { BKLITE_PG_URL: databaseUrl(pg, "bklite_late"), BKLITE_SECRET_KEY: SECRET_KEY };
        const run = startSeed({ regions: [{ name: "default", env: regionEnv("10.0.0.1") }], packages: [] }, env, [
            "--wait-seconds",
            "60",
        ]);
        await waitFor(async () => /waiting for the server's migrations/.test(run.stderr()), 20000, run.stderr);
        const client = new Client({ connectionString: databaseUrl(pg, "bklite_late") });
        await client.connect();
        await client.query(schemaSql("huangpu"));
        await client.end();
        const result = await run.done;
        assert.strictEqual(result.code, 0, result.stderr);
        assert.deepStrictEqual(JSON.parse(result.stdout).sidecarEnv.created, 6);
    });

    it("gives up on missing tables after its timeout, with a message saying what to check", async () => {
        await pg.query("CREATE DATABASE bklite_never");
        const env = { BKLITE_PG_URL: databaseUrl(pg, "bklite_never"), BKLITE_SECRET_KEY: SECRET_KEY };
        const result = await startSeed(
            { regions: [{ name: "default", env: regionEnv("10.0.0.1") }], packages: [] },
            env,
            ["--wait-seconds", "1"],
        ).done;
        assert.strictEqual(result.code, 1);
        assert.match(result.stderr, /did not appear within 1 s: the server creates them with its migrations/);
    });

    it("refuses a schema it does not know, before writing", async () => {
        await pg.query("CREATE DATABASE bklite_odd");
        const client = new Client({ connectionString: databaseUrl(pg, "bklite_odd") });
        await client.connect();
        await client.query(schemaSql("huangpu"));
        await client.query("ALTER TABLE node_mgmt_sidecarenv ADD COLUMN tenant_id bigint NOT NULL");
        await client.end();
        const env = { BKLITE_PG_URL: databaseUrl(pg, "bklite_odd"), BKLITE_SECRET_KEY: SECRET_KEY };
        const result = await startSeed(
            { regions: [{ name: "default", env: regionEnv("10.0.0.1") }], packages: [] },
            env,
        ).done;
        assert.strictEqual(result.code, 1);
        assert.match(result.stderr, /schema this seeder does not know; nothing was written/);
        assert.match(result.stderr, /node_mgmt_sidecarenv\.tenant_id is NOT NULL without a default/);
    });

    it("refuses a SECRET_KEY that cannot read the stored secrets, naming the rows; --reencrypt rotates them to the new key", async () => {
        await createBkliteDatabase(pg, "bklite_rotate", "huangpu");
        const url = databaseUrl(pg, "bklite_rotate");
        const oldKey = "old-secret-key-0123456789";
        const newKey = "new-secret-key-0123456789";
        const both = {
            regions: [
                { name: "default", env: regionEnv("10.0.0.1") },
                { name: "factory", env: regionEnv("10.0.0.2") },
            ],
            packages: [],
        };
        const first = await startSeed(both, { BKLITE_PG_URL: url, BKLITE_SECRET_KEY: oldKey }).done;
        assert.strictEqual(first.code, 0, first.stderr);
        const secrets = async () => {
            const client = new Client({ connectionString: url });
            await client.connect();
            try {
                return (
                    await client.query<{ id: string; region: string; value: string; xmin: string }>(
                        "SELECT e.id, r.name AS region, e.value, e.xmin::text FROM node_mgmt_sidecarenv e JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id WHERE e.type = 'secret' ORDER BY r.name",
                    )
                ).rows;
            } finally {
                await client.end();
            }
        };
        const before = await secrets();
        assert.deepStrictEqual(
            before.map((r) => r.region),
            ["default", "factory"],
        );

        // The new key, and a spec that sets only `default`: `factory`'s secret stays the old key's.
        const onlyDefault = { regions: [both.regions[0]], packages: [] };
        const wrongKey = await startSeed(onlyDefault, { BKLITE_PG_URL: url, BKLITE_SECRET_KEY: newKey }).done;
        assert.strictEqual(wrongKey.code, 1);
        assert.match(
            wrongKey.stderr,
            /2 stored secret SidecarEnv value\(s\) do not decrypt with BKLITE_SECRET_KEY: region 'default' NATS_PASSWORD \(row \d+\), region 'factory' NATS_PASSWORD \(row \d+\)/,
        );
        assert.match(wrongKey.stderr, /nothing was written/);
        assert.deepStrictEqual(await secrets(), before, "nothing written");

        const noPrevious = await startSeed(onlyDefault, { BKLITE_PG_URL: url, BKLITE_SECRET_KEY: newKey }, [
            "--reencrypt",
        ]).done;
        assert.strictEqual(noPrevious.code, 1);
        assert.match(
            noPrevious.stderr,
            /decrypt with neither BKLITE_SECRET_KEY nor a previous key \(BKLITE_PREVIOUS_SECRET_KEY is not set\), and the spec does not set them: region 'factory' NATS_PASSWORD/,
        );
        assert.deepStrictEqual(await secrets(), before, "nothing written");

        const previousWithoutFlag = await startSeed(onlyDefault, {
            BKLITE_PG_URL: url,
            BKLITE_SECRET_KEY: newKey,
            BKLITE_PREVIOUS_SECRET_KEY: oldKey,
        }).done;
        assert.strictEqual(previousWithoutFlag.code, 2);
        assert.match(previousWithoutFlag.stderr, /BKLITE_PREVIOUS_SECRET_KEY is set but --reencrypt is not/);

        const rotated = await startSeed(
            onlyDefault,
            { BKLITE_PG_URL: url, BKLITE_SECRET_KEY: newKey, BKLITE_PREVIOUS_SECRET_KEY: oldKey },
            ["--reencrypt"],
        ).done;
        assert.strictEqual(rotated.code, 0, rotated.stderr);
        const summary = JSON.parse(rotated.stdout);
        assert.strictEqual(summary.reencrypted, 1, "factory's, from the previous key");
        assert.strictEqual(summary.sidecarEnv.updated, 1, "default's, from the spec");
        const after = await secrets();
        assert.deepStrictEqual(
            after.map((r) => aesDecrypt(r.value, newKey)),
            [regionEnv("10.0.0.1").NATS_PASSWORD, regionEnv("10.0.0.2").NATS_PASSWORD],
        );

        const again = await startSeed(onlyDefault, { BKLITE_PG_URL: url, BKLITE_SECRET_KEY: newKey }).done;
        assert.strictEqual(again.code, 0, again.stderr);
        assert.deepStrictEqual(await secrets(), after, "the rotated key reads everything; nothing more to write");
    });

    describe("connection failures", () => {
        const spec = { regions: [{ name: "default", env: regionEnv("10.0.0.1") }], packages: [] };
        const withUrl = (url: string) =>
            startSeed(spec, { BKLITE_PG_URL: url, BKLITE_SECRET_KEY: SECRET_KEY }, ["--wait-seconds", "900"]).done;

        // With 900 s to wait, a retried failure would hang the test: each of these must end at the first attempt.
        it("fails at once on a refused password, a missing database or an unknown host, naming BKLITE_PG_URL and the fix, never the password", async () => {
            const [password, database, host] = await Promise.all([
                withUrl(pg.url.replace(pg.password, "not-the-password-4711")),
                withUrl(databaseUrl(pg, "no_such_database")),
                withUrl(`postgres://bklite:secret-4711@no-such-host.invalid:5432/bklite`),
            ]);
            assert.strictEqual(password.code, 1, password.stderr);
            assert.match(
                password.stderr,
                /PostgreSQL refused the connection \(password authentication failed for user "postgres"\): put the password of that role in BKLITE_PG_URL/,
            );
            assert.strictEqual(database.code, 1, database.stderr);
            assert.match(
                database.stderr,
                /database "no_such_database" does not exist\): BKLITE_PG_URL must name bk-lite's database/,
            );
            assert.strictEqual(host.code, 1, host.stderr);
            assert.match(host.stderr, /the PostgreSQL host in BKLITE_PG_URL is not known to DNS/);
            for (const run of [password, database, host]) {
                assert.doesNotMatch(run.stderr, /waiting for/);
                assert.doesNotMatch(run.stderr, /not-the-password-4711|secret-4711|pg-test-password/);
                assert.match(run.stderr, /nothing was written/);
            }
        });

        it("refuses malformed or missing connection settings all together before connecting (exit 2), quoting no value", async () => {
            const result = await startSeed(
                {
                    ...spec,
                    packages: [
                        {
                            os: "linux",
                            type: "collector",
                            object: "Telegraf",
                            version: "1.0.0",
                            file: "/nonexistent.zip",
                        },
                    ],
                },
                {
                    BKLITE_PG_URL: "postgres//bklite:secret-4711@db/bklite",
                    BKLITE_NATS_URL: "nats://admin:secret-4712@nats:4222",
                    BKLITE_NATS_USER: "admin",
                    BKLITE_SECRET_KEY: SECRET_KEY,
                },
            ).done;
            assert.strictEqual(result.code, 2, result.stderr);
            assert.match(result.stderr, /missing environment: BKLITE_NATS_PASSWORD/);
            assert.match(
                result.stderr,
                /BKLITE_PG_URL is not a URL: write it as postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE/,
            );
            assert.match(
                result.stderr,
                /BKLITE_NATS_URL holds credentials; give them in BKLITE_NATS_USER and BKLITE_NATS_PASSWORD/,
            );
            assert.doesNotMatch(result.stderr, /secret-471/);
            const scheme = await withUrl("http://bklite:secret@127.0.0.1:1/bklite");
            assert.strictEqual(scheme.code, 2);
            assert.match(scheme.stderr, /BKLITE_PG_URL has the scheme http, not postgres/);
        });

        it("waits, saying so, while nothing answers, and gives up at the deadline naming what to check", async () => {
            const result = await startSeed(
                spec,
                {
                    BKLITE_PG_URL: `postgres://bklite:secret@127.0.0.1:${await freePort()}/bklite`,
                    BKLITE_SECRET_KEY: SECRET_KEY,
                },
                ["--wait-seconds", "3"],
            ).done;
            assert.strictEqual(result.code, 1);
            assert.match(result.stderr, /^waiting for PostgreSQL \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/m);
            assert.match(
                result.stderr,
                /cannot connect to PostgreSQL \(connect ECONNREFUSED [^)]*\): check BKLITE_PG_URL's host and port and that PostgreSQL is running; nothing was written/,
            );
        });
    });

    it("never interleaves two applies (advisory lock)", async () => {
        await pg.query("CREATE DATABASE bklite_locked");
        const holder = new Client({ connectionString: databaseUrl(pg, "bklite_locked") });
        await holder.connect();
        await holder.query(schemaSql("huangpu"));
        const env = { BKLITE_PG_URL: databaseUrl(pg, "bklite_locked"), BKLITE_SECRET_KEY: SECRET_KEY };
        await holder.query("SELECT pg_advisory_lock($1)", [0x626b6c74]);
        const run = startSeed({ regions: [{ name: "default", env: regionEnv("192.168.31.10") }], packages: [] }, env);
        await waitFor(
            async () => /waiting for another bklite seed apply, which holds the lock, to finish/.test(run.stderr()),
            20000,
            run.stderr,
        );
        assert.strictEqual(run.child.exitCode, null, "still waiting");
        await holder.query("SELECT pg_advisory_unlock($1)", [0x626b6c74]);
        await holder.end();
        const result = await run.done;
        assert.strictEqual(result.code, 0, result.stderr);
    });

    it("reaches a cluster's PostgreSQL and NATS through kubectl port-forwards it starts and always stops", async () => {
        await createBkliteDatabase(pg, "bklite_cluster", "upstream");
        const log = path.join(work, "kubectl.log");
        const file = makePackage(work, "cluster-telegraf", 200 * 1024, 11);
        const env = {
            PATH: `${path.join(PROJECT_ROOT, "tests", "support", "bin")}:${process.env.PATH}`,
            FAKE_KUBECTL_LOG: log,
            FAKE_KUBECTL_TARGETS: JSON.stringify({
                "svc/postgres": `127.0.0.1:${pg.port}`,
                "svc/nats": `127.0.0.1:${nats.clientPort}`,
            }),
            // As the program passes them on a cluster: Service names, reached only through the forwards.
            BKLITE_PG_URL: `postgres://postgres:${pg.password}@postgres:5432/bklite_cluster`,
            BKLITE_NATS_URL: "tls://nats:4222",
            BKLITE_NATS_USER: nats.user,
            BKLITE_NATS_PASSWORD: nats.password,
            BKLITE_NATS_CA: nats.caPem,
            BKLITE_NATS_BUCKET: "bklite_cluster",
            BKLITE_SECRET_KEY: SECRET_KEY,
        };
        const spec = {
            regions: [{ name: "default", env: regionEnv("10.0.0.1") }],
            packages: [{ file, os: "linux", type: "collector", object: "Telegraf", version: "1.0.0" }],
        };
        const run = await startSeed(spec, env, ["--kube-namespace", "bklite", "--kube-context", "site-a"]).done;
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(JSON.parse(run.stdout).objects, { uploaded: 1, unchanged: 0 });
        const calls = fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));
        assert.deepStrictEqual(
            calls.map((c: { args: string[] }) => c.args),
            [
                [
                    "--context",
                    "site-a",
                    "--namespace",
                    "bklite",
                    "port-forward",
                    "svc/postgres",
                    "0:5432",
                    "--address",
                    "127.0.0.1",
                ],
                [
                    "--context",
                    "site-a",
                    "--namespace",
                    "bklite",
                    "port-forward",
                    "svc/nats",
                    "0:4222",
                    "--address",
                    "127.0.0.1",
                ],
            ],
        );
        for (const call of calls) {
            assert.throws(() => process.kill(call.pid, 0), /ESRCH/, `forward ${call.pid} was stopped`);
        }
        const stored = await readObject("bklite_cluster", "linux/x86_64/Telegraf/1.0.0/cluster-telegraf");
        assert.ok(stored!.data.equals(fs.readFileSync(file)));

        // A Service that does not exist: a clear error, and no forward left behind.
        fs.rmSync(log);
        const failing = await startSeed(
            spec,
            { ...env, FAKE_KUBECTL_TARGETS: JSON.stringify({ "svc/postgres": `127.0.0.1:${pg.port}` }) },
            ["--kube-namespace", "bklite"],
        ).done;
        assert.strictEqual(failing.code, 1);
        assert.match(
            failing.stderr,
            /kubectl port-forward to svc\/nats in namespace bklite exited \(1\): error: services "nats" not found/,
        );
        for (const call of fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l))) {
            assert.throws(() => process.kill(call.pid, 0), /ESRCH/, `forward ${call.pid} was stopped`);
        }
    });

    it("stops its port-forwards when it is interrupted", async () => {
        await pg.query("CREATE DATABASE bklite_interrupted");
        const log = path.join(work, "kubectl-interrupted.log");
        const env = {
            PATH: `${path.join(PROJECT_ROOT, "tests", "support", "bin")}:${process.env.PATH}`,
            FAKE_KUBECTL_LOG: log,
            FAKE_KUBECTL_TARGETS: JSON.stringify({ "svc/postgres": `127.0.0.1:${pg.port}` }),
            BKLITE_PG_URL: `postgres://postgres:${pg.password}@postgres:5432/bklite_interrupted`,
            BKLITE_SECRET_KEY: SECRET_KEY,
        };
        // No tables: the apply waits for migrations through its forward until it is interrupted.
        const run = startSeed({ regions: [{ name: "default", env: regionEnv("10.0.0.1") }], packages: [] }, env, [
            "--kube-namespace",
            "bklite",
            "--wait-seconds",
            "120",
        ]);
        await waitFor(async () => /waiting for the server's migrations/.test(run.stderr()), 30000, run.stderr);
        const forwards = fs
            .readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));
        assert.strictEqual(forwards.length, 1);
        process.kill(forwards[0].pid, 0); // running
        run.child.kill("SIGTERM");
        const result = await run.done;
        assert.strictEqual(result.code, 143);
        await waitFor(
            async () => {
                try {
                    process.kill(forwards[0].pid, 0);
                    return false;
                } catch {
                    return true;
                }
            },
            5000,
            () => `forward ${forwards[0].pid} still running`,
        );
    });

    it("survives a NATS restart in the middle of an upload: no row for it, and a re-run finishes it", async () => {
        await createBkliteDatabase(pg, "bklite_restart", "huangpu");
        const bigFile = makePackage(work, "big-vector", 48 * 1024 * 1024, 7);
        const env = {
            BKLITE_PG_URL: databaseUrl(pg, "bklite_restart"),
            BKLITE_NATS_URL: nats.url,
            BKLITE_NATS_USER: nats.user,
            BKLITE_NATS_PASSWORD: nats.password,
            BKLITE_NATS_CA: nats.caFile,
            BKLITE_NATS_BUCKET: "bklite_restart",
            BKLITE_SECRET_KEY: SECRET_KEY,
        };
        const spec = {
            regions: [{ name: "default", env: regionEnv("10.0.0.1") }],
            packages: [{ file: bigFile, os: "linux", type: "collector", object: "Vector", version: "2.0.0" }],
        };
        const run = startSeed(spec, env);
        await waitFor(
            async () => /uploading linux\/Vector\/2\.0\.0\/big-vector: [0-9.]+ [KM]iB of/.test(run.stderr()),
            60000,
            run.stderr,
        );
        // Freeze the CLI mid-upload, so the restart lands there however fast the upload is.
        run.child.kill("SIGSTOP");
        try {
            await nats.restart({ kill: true });
        } finally {
            run.child.kill("SIGCONT");
        }
        const failed = await run.done;
        assert.notStrictEqual(failed.code, 0, `the interrupted apply fails: ${failed.stderr}`);
        assert.match(failed.stderr, /uploading linux\/Vector\/2\.0\.0\/big-vector failed .*a re-run uploads it again/);
        const verify = new Client({ connectionString: databaseUrl(pg, "bklite_restart") });
        await verify.connect();
        assert.strictEqual(
            (await verify.query("SELECT count(*)::int AS n FROM node_mgmt_packageversion")).rows[0].n,
            0,
            "no row for an unfinished object",
        );
        assert.strictEqual(
            (await verify.query("SELECT count(*)::int AS n FROM node_mgmt_sidecarenv")).rows[0].n,
            0,
            "nothing else either",
        );
        const again = await startSeed(spec, env).done;
        assert.strictEqual(again.code, 0, again.stderr);
        assert.strictEqual(JSON.parse(again.stdout).bytesSent, 48 * 1024 * 1024);
        assert.strictEqual(
            (await verify.query("SELECT count(*)::int AS n FROM node_mgmt_packageversion")).rows[0].n,
            1,
        );
        await verify.end();
        const stored = await readObject("bklite_restart", "linux/Vector/2.0.0/big-vector");
        assert.strictEqual(stored!.data.length, 48 * 1024 * 1024);
        assert.ok(stored!.data.equals(fs.readFileSync(bigFile)));
        fs.rmSync(bigFile);
    });
});
