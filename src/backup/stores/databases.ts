/**
 * The databases the services declare, taken with pg_dump inside the stack's database server (its own version, over
 * its local socket: no password crosses anything) and restored beside the serving ones, then switched all at once.
 */
import * as fs from "fs";
import * as path from "path";
import { DatabaseNeed } from "../../services/definition";
import { DATABASE_SERVER } from "../../services/shared";
import { utcStamp } from "../../util/time";
import { DatabaseEntry } from "../manifest";
import { byteMeter, trackedFile } from "../transfer";
import { BackupWriter, StoreContext } from "./context";

/** Runs psql inside the database server as its superuser. */
export function psql(context: Pick<StoreContext, "access">, database: string, sql: string, signal?: AbortSignal) {
    return context.access.exec(
        DATABASE_SERVER.service,
        [
            "psql",
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            DATABASE_SERVER.superuser,
            "-d",
            database,
            "-c",
            sql,
        ],
        { signal },
    );
}

/** The declared databases that exist (a database declared after the server's first start may not, on a cluster). */
async function existing(context: StoreContext, databases: ReadonlyArray<DatabaseNeed>): Promise<DatabaseNeed[]> {
    const names = (await psql(context, "postgres", "SELECT datname FROM pg_database")).trim().split("\n");
    for (const db of databases.filter((d) => !names.includes(d.name))) {
        context.log(`database ${db.name} does not exist yet: nothing of it to back up`);
    }
    return databases.filter((d) => names.includes(d.name));
}

/** Dumps each database, from one snapshot each, into `databases/<name>.dump`. */
export async function backupDatabases(
    context: StoreContext,
    writer: BackupWriter,
    databases: ReadonlyArray<DatabaseNeed>,
): Promise<DatabaseEntry[]> {
    const serverVersion = (await psql(context, "postgres", "SHOW server_version")).trim();
    const entries: DatabaseEntry[] = [];
    for (const db of await existing(context, databases)) {
        const file = `databases/${db.name}.dump`;
        const meter = byteMeter(context.log, `database ${db.name} (pg_dump)`);
        const dump = trackedFile(writer.dir, file, (n) => meter.add(n));
        const argv = ["pg_dump", "-U", DATABASE_SERVER.superuser, "-d", db.name, "--format=custom", "--no-password"];
        await context.access.exec(DATABASE_SERVER.service, argv, { stdout: dump.stream, signal: context.signal });
        writer.files.push(await dump.close());
        meter.done();
        entries.push({ name: db.name, owner: db.owner, file, serverVersion });
    }
    return entries;
}

/** `bklite_restoring`: where a dump goes before the switch. */
export function restoringDatabase(name: string): string {
    return `${name}_restoring`;
}

/** `bklite_before_restore_20261130t171500123z`: a replaced database, kept (lower case: an unquoted SQL name). */
export function previousDatabase(name: string, at: Date): string {
    return `${name}_before_restore_${utcStamp(at).toLowerCase()}`;
}

/** An SQL identifier, quoted: names were checked already (SQL_IDENTIFIER); quoting keeps it so whatever comes. */
export function quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/** An SQL string literal. */
function quoteLiteral(text: string): string {
    return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Restores each dump into a new database beside the serving one (a leftover of an interrupted restore goes first),
 * owned by the role the stack declares for it.
 */
export async function stageDatabases(
    context: StoreContext,
    dir: string,
    entries: ReadonlyArray<DatabaseEntry>,
    owners: ReadonlyMap<string, string>,
) {
    const { signal } = context;
    for (const entry of entries) {
        const restoring = restoringDatabase(entry.name);
        const owner = owners.get(entry.name)!;
        await psql(context, "postgres", `DROP DATABASE IF EXISTS ${quoteIdent(restoring)} WITH (FORCE)`, signal);
        const create = `CREATE DATABASE ${quoteIdent(restoring)} OWNER ${quoteIdent(owner)} ENCODING 'UTF8'`;
        await psql(context, "postgres", create, signal);
        context.log(`restoring the database into ${restoring}, beside the serving ${entry.name}`);
        const meter = byteMeter(context.log, `database ${entry.name} (pg_restore into ${restoring})`);
        const dump = fs.createReadStream(path.join(dir, entry.file), { highWaterMark: 1024 * 1024 });
        dump.on("data", (chunk) => meter.add(chunk.length));
        const argv = [
            ...["pg_restore", "-U", DATABASE_SERVER.superuser, "-d", restoring, "--no-owner"],
            ...[`--role=${owner}`, "--exit-on-error", "--single-transaction", "--no-password"],
        ];
        await context.access.exec(DATABASE_SERVER.service, argv, { stdin: dump, signal });
        meter.done();
    }
}

/** Renames, all in one transaction, after ending every other session of the databases involved. */
async function renameAtOnce(context: StoreContext, renames: Array<[string, string]>): Promise<void> {
    const involved = renames.flatMap(([from, to]) => [quoteLiteral(from), quoteLiteral(to)]).join(", ");
    const statements = renames.map(([from, to]) => `ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)};`);
    await psql(
        context,
        "postgres",
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (${involved}) AND pid <> pg_backend_pid(); ` +
            `BEGIN; ${statements.join(" ")} COMMIT;`,
    );
}

/**
 * The switch, of every restored database at once: nobody else is connected (their services are stopped); all the
 * renames or none. Returns what each replaced database is called now.
 */
export async function switchDatabases(context: StoreContext, names: ReadonlyArray<string>, at: Date) {
    await renameAtOnce(
        context,
        names.flatMap((name): Array<[string, string]> => [
            [name, previousDatabase(name, at)],
            [restoringDatabase(name), name],
        ]),
    );
    return Object.fromEntries(names.map((name) => [name, previousDatabase(name, at)]));
}

/**
 * Puts the databases back as they were before a restore, wherever it stopped: switched ones switched back (the
 * kept database serving again, in one transaction), and the staged copies dropped. Safe to run again.
 */
export async function undoDatabases(context: StoreContext, names: ReadonlyArray<string>, at: Date): Promise<string[]> {
    const existing = (await psql(context, "postgres", "SELECT datname FROM pg_database")).trim().split("\n");
    const switched = names.filter((name) => existing.includes(previousDatabase(name, at)));
    if (switched.length > 0) {
        await renameAtOnce(
            context,
            switched.flatMap((name): Array<[string, string]> => [
                [name, restoringDatabase(name)],
                [previousDatabase(name, at), name],
            ]),
        );
    }
    for (const name of names) {
        await psql(context, "postgres", `DROP DATABASE IF EXISTS ${quoteIdent(restoringDatabase(name))} WITH (FORCE)`);
    }
    return switched;
}
