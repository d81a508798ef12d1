/**
 * A throwaway PostgreSQL server for integration tests: Debian's binaries, a fresh cluster in a temp dir, on a
 * free loopback port, with password authentication. PostgreSQL refuses to run as root, so when the tests run as
 * root the server runs as the `postgres` system user the Debian package creates.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { Started, freePort, start, tempDir, waitFor } from "./processes";

function postgresBin(): string {
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root)
        ? fs
              .readdirSync(root)
              .filter((v) => fs.existsSync(path.join(root, v, "bin", "postgres")))
              .sort((a, b) => Number(b) - Number(a))
        : [];
    if (versions.length === 0) {
        throw new Error(
            "PostgreSQL server binaries are not installed; run .ci/run or install Debian's postgresql package",
        );
    }
    return path.join(root, versions[0], "bin");
}

export interface TestPostgres {
    /** Superuser URL (postgres / the generated password). */
    url: string;
    port: number;
    password: string;
    query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
    stop(): Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
    const bin = postgresBin();
    const dir = tempDir("pg");
    const data = path.join(dir, "data");
    const password = "pg-test-password-0123456789";
    const port = await freePort();
    const asRoot = process.getuid?.() === 0;
    const owner = asRoot
        ? {
              uid: Number(execFileSync("id", ["-u", "postgres"]).toString()),
              gid: Number(execFileSync("id", ["-g", "postgres"]).toString()),
          }
        : undefined;
    fs.writeFileSync(path.join(dir, "pw"), password);
    if (owner) {
        fs.chmodSync(dir, 0o755);
        fs.chownSync(dir, owner.uid, owner.gid);
        fs.chownSync(path.join(dir, "pw"), owner.uid, owner.gid);
    }
    execFileSync(
        path.join(bin, "initdb"),
        [
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            `--pwfile=${path.join(dir, "pw")}`,
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        { stdio: "pipe", ...(owner ?? {}) },
    );
    const server: Started = start(
        path.join(bin, "postgres"),
        [
            "-D",
            data,
            "-p",
            String(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            `unix_socket_directories=${dir}`,
            "-c",
            "fsync=off",
        ],
        { ...(owner ?? {}) },
    );
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
        const client = new Client({ connectionString: url });
        await client.connect();
        try {
            return (await client.query(sql, params)).rows as T[];
        } finally {
            await client.end();
        }
    };
    await waitFor(
        async () => (await query("SELECT 1")).length === 1,
        30000,
        () => server.output(),
    );
    return {
        url,
        port,
        password,
        query,
        stop: async () => {
            await server.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** A URL for another database on the same server. */
export function databaseUrl(pg: TestPostgres, database: string): string {
    return pg.url.replace(/\/postgres$/, `/${database}`);
}
