/**
 * Child process of the backup benchmark: one backup or restore (bklite's own, or the plain baseline: pg_dump or
 * pg_restore in the container plus a plain nats.js object store client) and its time and peak memory. The job comes
 * in BENCH_JOB as JSON (the throwaway servers' passwords with it).
 */
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { connect } from "nats";
import { takeBackup } from "../src/backup/backup";
import { restoreBackup } from "../src/backup/restore";
import { runtimeOf } from "../src/runtimes";
import { stackWorkloads } from "../src/services/stack";
import { runStreaming } from "../src/runtimes/exec";
import { StackConfig } from "../src/config/types";
import { NatsEndpoint } from "../src/nats/client";

interface Job {
    mode: "backup" | "restore" | "plain-backup" | "plain-restore";
    stack: string;
    config: StackConfig;
    nats: NatsEndpoint;
    secretKey: string;
    dir: string;
}

async function plainBackup(job: Job): Promise<void> {
    fs.mkdirSync(job.dir, { recursive: true });
    const dump = fs.createWriteStream(path.join(job.dir, "plain.dump"));
    await runStreaming(
        "docker",
        ["exec", `bklite-${job.stack}-postgres`, "pg_dump", "-U", "postgres", "-d", "bklite", "--format=custom"],
        { stdout: dump },
    );
    await new Promise<void>((resolve) => dump.end(() => resolve()));
    const nc = await connect({
        servers: job.nats.url,
        user: job.nats.user,
        pass: job.nats.password,
        tls: { ca: job.nats.ca },
    });
    const store = await nc.jetstream().views.os("bklite");
    for (const [i, info] of (await store.list()).entries()) {
        const out = fs.createWriteStream(path.join(job.dir, `object-${i}`));
        for await (const chunk of (await store.get(info.name))!.data) {
            if (!out.write(chunk)) {
                await new Promise<void>((resolve) => out.once("drain", () => resolve()));
            }
        }
        await new Promise<void>((resolve) => out.end(() => resolve()));
    }
    await nc.close();
}

async function plainRestore(job: Job): Promise<void> {
    const container = `bklite-${job.stack}-postgres`;
    await runStreaming("docker", [
        "exec",
        container,
        "psql",
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-c",
        "DROP DATABASE IF EXISTS bklite_plain WITH (FORCE)",
    ]);
    await runStreaming("docker", ["exec", container, "createdb", "-U", "postgres", "-O", "bklite", "bklite_plain"]);
    await runStreaming(
        "docker",
        [
            "exec",
            "-i",
            container,
            "pg_restore",
            "-U",
            "postgres",
            "-d",
            "bklite_plain",
            "--no-owner",
            "--role=bklite",
            "--single-transaction",
        ],
        { stdin: fs.createReadStream(path.join(job.dir, "plain.dump")) },
    );
    const nc = await connect({
        servers: job.nats.url,
        user: job.nats.user,
        pass: job.nats.password,
        tls: { ca: job.nats.ca },
    });
    const store = await nc.jetstream().views.os("bklite-plain");
    for (const file of fs.readdirSync(job.dir).filter((f) => f.startsWith("object-"))) {
        const stream = Readable.toWeb(
            fs.createReadStream(path.join(job.dir, file), { highWaterMark: 128 * 1024 }),
        ) as ReadableStream<Uint8Array>;
        await store.put({ name: file }, stream);
    }
    await nc.close();
}

async function main(): Promise<void> {
    const job = JSON.parse(process.env.BENCH_JOB!) as Job;
    const access = runtimeOf("docker").access({ stack: job.stack });
    const log = () => undefined;
    const started = process.hrtime.bigint();
    let dir = job.dir;
    if (job.mode === "backup") {
        dir = (
            await takeBackup(
                {
                    stack: job.stack,
                    config: job.config,
                    access,
                    nats: job.nats,
                    passwords: {},
                    secretKey: job.secretKey,
                    log,
                },
                job.dir,
            )
        ).dir;
    } else if (job.mode === "restore") {
        await restoreBackup(job.dir, {
            stack: job.stack,
            config: job.config,
            workloads: stackWorkloads(job.config),
            access,
            nats: job.nats,
            passwords: {},
            secretKey: job.secretKey,
            journalDir: path.join(job.dir, "..", `journal-${process.pid}`),
            log,
        });
    } else if (job.mode === "plain-backup") {
        await plainBackup(job);
    } else {
        await plainRestore(job);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, dir }));
}

main().catch((err) => {
    process.stderr.write(String((err as Error).stack ?? err));
    process.exitCode = 1;
});
