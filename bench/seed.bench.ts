/**
 * Seeding: 1,000 regions against one psql process per statement (how the runbooks seeded), a no-op re-run against
 * the first run, and uploading a 256 MiB package against reading and hashing the same file, with the uploader's
 * peak memory for 64 MiB and 256 MiB (it must not grow with the file).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { applySeed } from "../src/seed/apply";
import { SeedSpec } from "../src/seed/spec";
import { schemaSql } from "../tests/support/bkliteSchema";
import { startNats } from "../tests/support/nats";
import { databaseUrl, startPostgres } from "../tests/support/postgres";
import { tempDir } from "../tests/support/processes";
import { Result, time } from "./measure";

const REGIONS = 1000;
const SECRET_KEY = "bench-secret-key-0123456789";

export function regionSpec(count: number): SeedSpec {
    return {
        regions: Array.from({ length: count }, (_, i) => ({
            name: i === 0 ? "default" : `region-${i}`,
            env: {
                NODE_SERVER_URL: `http://10.${Math.floor(i / 250)}.${i % 250}.5:8080`,
                NATS_SERVERS: "10.0.0.5:24222",
                NATS_USERNAME: "admin",
                NATS_PASSWORD: "bench-nats-password-0123",
                NATS_PROTOCOL: "tls",
                NATS_TLS_CA_FILE: "/opt/fusion-collectors/certs/ca.crt",
            },
        })),
        packages: [],
    };
}

function sqlString(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/** The runbooks' way: `psql -c` once per statement. */
function seedWithPsql(url: string, spec: SeedSpec): void {
    for (const [i, region] of spec.regions.entries()) {
        const id = i + 1;
        const statements = [
            `INSERT INTO node_mgmt_cloudregion (id, created_at, updated_at, created_by, updated_by, name, introduction, domain, updated_by_domain) VALUES (${id}, now(), now(), '', '', ${sqlString(region.name)}, '', 'domain.com', 'domain.com') ON CONFLICT (id) DO NOTHING`,
            ...Object.entries(region.env).map(
                ([key, value]) =>
                    `INSERT INTO node_mgmt_sidecarenv (cloud_region_id, key, value, type, description, is_pre) VALUES (${id}, ${sqlString(key)}, ${sqlString(value)}, '', '', true) ON CONFLICT (key, cloud_region_id) DO NOTHING`,
            ),
        ];
        for (const sql of statements) {
            execFileSync("psql", ["-q", "-d", url, "-c", sql], { stdio: "ignore" });
        }
    }
}

function worker(args: string[]): { seconds: number; maxRssKiB: number } {
    const out = execFileSync(
        "node",
        ["-r", "ts-node/register/transpile-only", path.join(__dirname, "seedUploadWorker.ts"), ...args],
        { encoding: "utf8" },
    );
    return JSON.parse(out);
}

function makeFile(dir: string, mib: number): string {
    const file = path.join(dir, `package-${mib}.bin`);
    const block = Buffer.alloc(1024 * 1024);
    const fd = fs.openSync(file, "w");
    for (let i = 0; i < mib; i++) {
        block.writeUInt32LE(i, 0);
        fs.writeSync(fd, block);
    }
    fs.closeSync(fd);
    return file;
}

export async function benchSeed(): Promise<Result[]> {
    const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    const dir = tempDir("bench-seed");
    try {
        const results: Result[] = [];
        const spec = regionSpec(REGIONS);
        for (const db of ["bench_cli", "bench_psql"]) {
            await pg.query(`CREATE DATABASE ${db}`);
            const client = new Client({ connectionString: databaseUrl(pg, db) });
            await client.connect();
            await client.query(schemaSql("huangpu", { nodeInit: false }));
            await client.end();
        }
        const connection = {
            pgUrl: databaseUrl(pg, "bench_cli"),
            natsUrl: "",
            natsUser: "",
            natsPassword: "",
            bucket: "bklite",
            secretKey: SECRET_KEY,
        };
        const first = await time(() => applySeed(spec, connection));
        const noop = await time(() => applySeed(spec, connection));
        const psql = await time(() => seedWithPsql(databaseUrl(pg, "bench_psql"), spec));
        results.push({
            name: `seed: ${REGIONS} regions (6 keys each) in one apply vs one psql process per statement`,
            value: first,
            baseline: psql,
        });
        results.push({
            name: `seed: no-op re-run of ${REGIONS} regions vs the first run`,
            value: noop,
            baseline: first,
        });

        const natsArgs = [nats.url, nats.user, nats.password, nats.caPem, "bench"];
        const small = makeFile(dir, 64);
        const large = makeFile(dir, 256);
        const upload64 = worker(["upload", small, ...natsArgs]);
        const upload256 = worker(["upload", large, ...natsArgs]);
        const hash256 = worker(["hash", large, ...natsArgs]);
        const mibPerSecond = (mib: number, seconds: number) => mib / seconds;
        results.push({
            name: "seed: uploading and verifying a 256 MiB package vs reading and hashing it (throughput, MiB/s)",
            value: mibPerSecond(256, upload256.seconds),
            baseline: mibPerSecond(256, hash256.seconds),
            unit: "MiB/s",
            notes: [
                `uploader peak memory: ${(upload64.maxRssKiB / 1024).toFixed(0)} MiB for 64 MiB, ${(upload256.maxRssKiB / 1024).toFixed(0)} MiB for 256 MiB (ratio ${(upload256.maxRssKiB / upload64.maxRssKiB).toFixed(2)}; flat means it does not grow with the file)`,
            ],
        });
        return results;
    } finally {
        await Promise.all([pg.stop(), nats.stop()]);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
