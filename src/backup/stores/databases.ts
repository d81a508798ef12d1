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
        await context.access.exec(DATABASE_SERVER.service, argv, { stdout: dump.stream });
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

/** Restores each dump into a new database beside the serving one (a leftover of an interrupted restore goes first). */
export async function stageDatabases(context: StoreContext, dir: string, entries: ReadonlyArray<DatabaseEntry>) {
    const { signal } = context;
    for (const entry of entries) {
        const restoring = restoringDatabase(entry.name);
        await psql(context, "postgres", `DROP DATABASE IF EXISTS ${restoring} WITH (FORCE)`, signal);
        const create = `CREATE DATABASE ${restoring} OWNER ${entry.owner} ENCODING 'UTF8'`;
        await psql(context, "postgres", create, signal);
        context.log(`restoring the database into ${restoring}, beside the serving ${entry.name}`);
        const meter = byteMeter(context.log, `database ${entry.name} (pg_restore into ${restoring})`);
        const dump = fs.createReadStream(path.join(dir, entry.file), { highWaterMark: 1024 * 1024 });
        dump.on("data", (chunk) => meter.add(chunk.length));
        const argv = [
            ...["pg_restore", "-U", DATABASE_SERVER.superuser, "-d", restoring, "--no-owner"],
            ...[`--role=${entry.owner}`, "--exit-on-error", "--single-transaction", "--no-password"],
        ];
        await context.access.exec(DATABASE_SERVER.service, argv, { stdin: dump, signal });
        meter.done();
    }
}

/**
 * The switch, of every restored database at once: nobody else is connected (their services are stopped); all the
 * renames or none. Returns what each replaced database is called now.
 */
export async function switchDatabases(context: StoreContext, entries: ReadonlyArray<DatabaseEntry>, at: Date) {
    const names = entries.flatMap((e) => [`'${e.name}'`, `'${restoringDatabase(e.name)}'`]).join(", ");
    const renames = entries.map(
        (e) =>
            `ALTER DATABASE ${e.name} RENAME TO ${previousDatabase(e.name, at)}; ALTER DATABASE ${restoringDatabase(e.name)} RENAME TO ${e.name};`,
    );
    await psql(
        context,
        "postgres",
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (${names}) AND pid <> pg_backend_pid(); ` +
            `BEGIN; ${renames.join(" ")} COMMIT;`,
    );
    return Object.fromEntries(entries.map((e) => [e.name, previousDatabase(e.name, at)]));
}

/** Drops what a restore stopped before its switch left behind. */
export async function dropStaged(context: StoreContext, entries: ReadonlyArray<DatabaseEntry>): Promise<void> {
    for (const entry of entries) {
        const restoring = restoringDatabase(entry.name);
        await psql(context, "postgres", `DROP DATABASE IF EXISTS ${restoring} WITH (FORCE)`).catch((err) =>
            context.log(`could not drop ${restoring}: ${(err as Error).message}; the next restore drops it`),
        );
    }
}
