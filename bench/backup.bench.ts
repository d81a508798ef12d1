/**
 * Backups: `bklite backup` and `bklite restore` of a 1 GiB object store plus a database of 1,000 regions, against
 * plain pg_dump and pg_restore in the same container plus a plain nats.js object store client reading and writing
 * the same objects; and the backup's peak memory for a 256 MiB and a 1 GiB store (it must not grow with the data).
 * PostgreSQL runs as the stand-in container the end-to-end test uses (a Docker engine is needed).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { connect } from "nats";
import { parseStackConfig } from "../src/config/parse";
import { connectNats } from "../src/nats/client";
import { applySeed } from "../src/seed/apply";
import { ObjectBucket } from "../src/seed/objectStore";
import { schemaSql } from "../tests/support/bkliteSchema";
import { docker, requireDockerEngine, runPostgres } from "../tests/support/docker";
import { startNats } from "../tests/support/nats";
import { freePort, tempDir, waitFor } from "../tests/support/processes";
import { standInImages } from "../tests/support/standinImages";
import { PROJECT_ROOT } from "../tests/support/stackFiles";
import { readStackFiles, stackFileSource } from "../src/config/stackFiles";
import { Result } from "./measure";
import { regionSpec } from "./seed.bench";

const SECRET_KEY = "bench-secret-key-0123456789";
const OBJECT_MIB = 128;

function worker(job: Record<string, unknown>): { seconds: number; maxRssKiB: number; dir: string } {
    const out = execFileSync(
        "node",
        ["-r", "ts-node/register/transpile-only", path.join(__dirname, "backupWorker.ts")],
        {
            encoding: "utf8",
            env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
            maxBuffer: 1024 * 1024,
        },
    );
    return JSON.parse(out);
}

/** A file of `mib` MiB of incompressible bytes. */
function makeFile(dir: string, name: string, mib: number): string {
    const file = path.join(dir, name);
    const fd = fs.openSync(file, "w");
    for (let i = 0; i < mib; i++) {
        fs.writeSync(fd, crypto.randomBytes(1024 * 1024));
    }
    fs.closeSync(fd);
    return file;
}

export async function benchBackup(): Promise<Result[]> {
    requireDockerEngine();
    const images = standInImages();
    const stack = `bench${crypto.randomBytes(3).toString("hex")}`;
    const prefix = `bklite-${stack}`;
    const nats = await startNats();
    const dir = tempDir("bench-backup");
    const pgPort = await freePort();
    const admin = "bench-postgres-0123456789";
    try {
        docker("network", "create", prefix);
        runPostgres(prefix, images.postgres, admin, pgPort);
        const superUrl = (db: string) => `postgres://postgres:${admin}@127.0.0.1:${pgPort}/${db}`;
        const query = async (url: string, sql: string) => {
            const client = new Client({ connectionString: url });
            await client.connect();
            try {
                await client.query(sql);
            } finally {
                await client.end();
            }
        };
        await waitFor(
            () =>
                query(superUrl("postgres"), "SELECT 1").then(
                    () => true,
                    () => false,
                ),
            60000,
            () => docker("logs", `${prefix}-postgres`),
        );
        await query(superUrl("postgres"), "CREATE ROLE bklite LOGIN PASSWORD 'bench-bklite-0123456789'");
        await query(superUrl("postgres"), "CREATE DATABASE bklite OWNER bklite");
        const pgUrl = `postgres://bklite:bench-bklite-0123456789@127.0.0.1:${pgPort}/bklite`;
        await query(pgUrl, schemaSql("huangpu", { nodeInit: false }));
        await applySeed(regionSpec(1000), {
            pgUrl,
            natsUrl: "",
            natsUser: "",
            natsPassword: "",
            bucket: "bklite",
            secretKey: SECRET_KEY,
        });

        const config = parseStackConfig(
            stackFileSource(
                readStackFiles(PROJECT_ROOT, "dev", {
                    "bklite:natsPort": nats.clientPort,
                    "bklite:installApps": ["system_mgmt", "node_mgmt"],
                }),
            ),
        ).config!;
        const endpoint = { url: nats.url, user: nats.user, password: nats.password, ca: nats.caPem };
        const job = (mode: string, jobDir: string) => ({
            mode,
            stack,
            config,
            nats: endpoint,
            secretKey: SECRET_KEY,
            dir: jobDir,
        });

        // The object store: 256 MiB first (for the memory comparison), then 1 GiB.
        const nc = await connectNats(endpoint, "bench");
        const bucket = await ObjectBucket.open(nc, "bklite");
        const file = makeFile(dir, "object.bin", OBJECT_MIB);
        const fill = async (count: number, from: number) => {
            for (let i = from; i < from + count; i++) {
                await bucket.put(`bench/object-${i}`, file, { description: "bench" });
            }
        };
        await fill(256 / OBJECT_MIB, 0);
        const small = worker(job("backup", path.join(dir, "small")));
        fs.rmSync(path.join(dir, "small"), { recursive: true, force: true });
        await fill((1024 - 256) / OBJECT_MIB, 256 / OBJECT_MIB);
        await nc.close();

        const backup = worker(job("backup", path.join(dir, "backups")));
        const plainBackup = worker(job("plain-backup", path.join(dir, "plain")));
        // Restored into an empty object store (and a new database, as always), as the plain writer writes into one.
        const wipe = await connectNats(endpoint, "bench");
        await (await wipe.jetstreamManager()).streams.delete("OBJ_bklite");
        await wipe.close();
        const restore = worker(job("restore", backup.dir));
        const plainRestore = worker(job("plain-restore", path.join(dir, "plain")));
        const check = await connect({
            servers: nats.url,
            user: nats.user,
            pass: nats.password,
            tls: { ca: nats.caPem },
        });
        const restored = (await (await check.jetstream().views.os("bklite")).list()).length;
        await check.close();
        if (restored !== 1024 / OBJECT_MIB) {
            throw new Error(`the restore left ${restored} objects, not ${1024 / OBJECT_MIB}`);
        }
        const mib = (r: { maxRssKiB: number }) => (r.maxRssKiB / 1024).toFixed(0);
        return [
            {
                name: "backup: 1 GiB object store + 1,000 regions, bklite backup vs plain pg_dump + a plain nats.js object store reader",
                value: backup.seconds,
                baseline: plainBackup.seconds,
                notes: [
                    `throughput ${(1024 / backup.seconds).toFixed(0)} MiB/s vs ${(1024 / plainBackup.seconds).toFixed(0)} MiB/s (the backup also hashes every file for its manifest)`,
                    `peak memory: ${mib(small)} MiB for a 256 MiB store, ${mib(backup)} MiB for 1 GiB (ratio ${(backup.maxRssKiB / small.maxRssKiB).toFixed(2)}; flat means it does not grow with the data); the plain reader ${mib(plainBackup)} MiB`,
                ],
            },
            {
                name: "restore: the same backup, bklite restore (checked against its manifest, into a new database, then switched) vs plain pg_restore + a plain nats.js object store writer",
                value: restore.seconds,
                baseline: plainRestore.seconds,
                notes: [`peak memory: ${mib(restore)} MiB; the plain writer ${mib(plainRestore)} MiB`],
            },
        ];
    } finally {
        try {
            docker("rm", "--force", "--volumes", `${prefix}-postgres`);
            docker("network", "rm", prefix);
        } catch {
            // not created
        }
        await nats.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
