/**
 * Connecting to bk-lite's database for seeding: waiting while PostgreSQL is not there yet, failing at once when
 * waiting cannot help (a refused password, a missing database, an unknown host, a certificate not trusted).
 */
import { Client } from "pg";
import { TLS_CERTIFICATE_CODES } from "../util/tlsErrors";
import { ColumnInfo, TABLES } from "./schema";
import { WaitProgress } from "../util/waitProgress";
import { SEED_ENV } from "./connection";

/** PostgreSQL's SQLSTATEs for a connection refused for good: authentication, authorization, no such database. */
const REFUSED_FOR_GOOD: Record<string, string> = {
    "28P01": `put the password of that role in ${SEED_ENV.pgUrl} (the stack's bklite:postgresPassword for the bklite role)`,
    "28000": `connect as a role that exists and may log in from here: the bklite role, as in ${SEED_ENV.pgUrl}'s user`,
    "3D000": `${SEED_ENV.pgUrl} must name bk-lite's database (bklite)`,
    "42501": `the role in ${SEED_ENV.pgUrl} may not connect to that database: use the bklite role`,
};

/**
 * The fix for a connection failure waiting cannot cure, or undefined for one that may pass (refused, reset,
 * timed out, the database starting up).
 */
export function postgresFailureForGood(err: Error & { code?: string }): string | undefined {
    const code = err.code ?? "";
    if (code in REFUSED_FOR_GOOD) {
        return `PostgreSQL refused the connection (${err.message}): ${REFUSED_FOR_GOOD[code]}`;
    }
    if (code === "ENOTFOUND") {
        return `the PostgreSQL host in ${SEED_ENV.pgUrl} is not known to DNS (${err.message}): fix the host name`;
    }
    if (TLS_CERTIFICATE_CODES.has(code)) {
        return `PostgreSQL's certificate could not be verified (${err.message}): give the CA that signed it as sslrootcert in ${SEED_ENV.pgUrl}, or drop sslmode`;
    }
    if (/does not support SSL/i.test(err.message)) {
        return `${err.message}: drop sslmode from ${SEED_ENV.pgUrl} (the stack's PostgreSQL is reached on its own network)`;
    }
    return undefined;
}

/** Connects, waiting until `deadline` while PostgreSQL cannot be reached yet. */
export async function connectPostgres(
    url: string,
    deadline: number,
    pollMs: number,
    progress: WaitProgress,
    log: (line: string) => void,
): Promise<Client> {
    for (;;) {
        const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
        // A connection dropped while idle (during a long upload) must fail the run cleanly, not crash it.
        client.on("error", (err) => log(`PostgreSQL connection lost: ${err.message}`));
        let reason: string;
        try {
            await client.connect();
            return client;
        } catch (err) {
            await client.end().catch(() => undefined);
            const forGood = postgresFailureForGood(err as Error & { code?: string });
            if (forGood !== undefined) {
                throw new Error(`${forGood}; nothing was written`, { cause: err });
            }
            reason = (err as Error).message;
        }
        if (Date.now() >= deadline) {
            throw new Error(
                `cannot connect to PostgreSQL (${reason}): check ${SEED_ENV.pgUrl}'s host and port and that PostgreSQL is running; nothing was written`,
            );
        }
        progress.note(`PostgreSQL (${reason})`);
        await new Promise((r) => setTimeout(r, pollMs));
    }
}

/** The columns and package uniqueness bk-lite's tables have here, sorted, for detectSchema. */
export async function readSchemaFacts(db: Client): Promise<{ columns: ColumnInfo[]; uniques: string[][] }> {
    const columns = await db.query<{
        table_name: string;
        column_name: string;
        is_nullable: string;
        column_default: string | null;
        is_identity: string;
        character_maximum_length: number | null;
    }>(
        `SELECT table_name, column_name, is_nullable, column_default, is_identity, character_maximum_length
           FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1::text[])`,
        [TABLES as unknown as string[]],
    );
    const uniques = await db.query<{ columns: string[] }>(
        `SELECT array_agg(a.attname::text) AS columns
           FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
          WHERE c.conrelid = 'node_mgmt_packageversion'::regclass AND c.contype = 'u'
          GROUP BY c.oid`,
    );
    const info: ColumnInfo[] = columns.rows
        .map((r) => ({
            table: r.table_name,
            column: r.column_name,
            nullable: r.is_nullable === "YES",
            hasDefault: r.column_default !== null || r.is_identity === "YES",
            maxLength: r.character_maximum_length,
        }))
        .sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`));
    return { columns: info, uniques: uniques.rows.map((r) => [...r.columns].sort()).sort() };
}
