/** Redis-protocol stores (FalkorDB's graphs): every key by DUMP with its time to live, put back by RESTORE. */
import * as path from "path";
import { ServiceData } from "../../services/definition";
import { KeyspaceEntry } from "../manifest";
import { JournalEvent, RestoreJournal } from "../journal";
import {
    ASIDE_PREFIX,
    RedisConnection,
    dropAside,
    dumpKeys,
    dumpRedis,
    isData,
    moveAside,
    moveBack,
    restoreRecords,
} from "../redisDump";
import { byteMeter, trackedFile } from "../transfer";
import { BackupWriter, StoreContext, passwordOf } from "./context";

type Keyspace = Extract<ServiceData, { kind: "keyspace" }>;

/** Every key of the service's store into `keyspaces/<service>.dump`. */
export async function backupKeyspace(
    context: StoreContext,
    writer: BackupWriter,
    service: string,
    data: Keyspace,
): Promise<KeyspaceEntry> {
    const file = `keyspaces/${service}.dump`;
    const meter = byteMeter(context.log, service);
    const address = await context.access.address(service, data.port);
    const out = trackedFile(writer.dir, file, (n) => meter.add(n));
    const { keys } = await dumpRedis(address, passwordOf(context, data.password), out);
    writer.files.push(await out.close());
    meter.done(`${keys} keys`);
    return { service, file, keys };
}

/** The key prefix a restore moves the store's keys under until it is committed. */
export function asidePrefix(restoreId: string): string {
    return `${ASIDE_PREFIX}${restoreId}:`;
}

async function connect(context: StoreContext, service: string, data: Keyspace): Promise<RedisConnection> {
    const address = await context.access.address(service, data.port);
    return RedisConnection.open(address, passwordOf(context, data.password));
}

/**
 * Makes the service's store hold exactly the backup's keys: every key it has moved aside (kept until the restore is
 * committed), then the backup's keys restored into the emptied keyspace.
 */
export async function restoreKeyspace(
    context: StoreContext,
    dir: string,
    entry: KeyspaceEntry,
    data: Keyspace,
    journal: { id: string; log: RestoreJournal },
) {
    const meter = byteMeter(context.log, entry.service);
    const file = path.join(dir, entry.file);
    return withStore(context, entry.service, data, async (connection) => {
        const previous: Buffer[] = [];
        for await (const key of connection.keys()) {
            if (isData(key)) {
                previous.push(key);
            }
        }
        const prefix = asidePrefix(journal.id);
        const previousKeys = previous.map((k) => k.toString("base64"));
        journal.log.append({ kind: "keyspace", service: entry.service, prefix, previous: previousKeys });
        await moveAside(connection, previous, prefix);
        const restored = await restoreRecords(connection, file, (n) => meter.add(n), context.signal);
        await connection.command(["PING"]);
        const kept = new Set((await dumpKeys(file)).map((k) => k.toString("base64")));
        const dropped = previous.filter((k) => !kept.has(k.toString("base64"))).length;
        meter.done(`${restored} keys restored, ${dropped} not in the backup moved aside (dropped once committed)`);
        return { restored, deleted: dropped };
    });
}

/** Runs `work` on a connection to the service's store, closed after. */
async function withStore<T>(
    context: StoreContext,
    service: string,
    data: Keyspace,
    work: (connection: RedisConnection) => Promise<T>,
): Promise<T> {
    const connection = await connect(context, service, data);
    try {
        return await work(connection);
    } finally {
        connection.close();
    }
}

type KeyspaceEvent = Extract<JournalEvent, { kind: "keyspace" }>;

/** Puts the store's keys back as the journal found them. */
export function undoKeyspace(context: StoreContext, data: Keyspace, event: KeyspaceEvent): Promise<void> {
    const previous = event.previous.map((k) => Buffer.from(k, "base64"));
    return withStore(context, event.service, data, (c) => moveBack(c, event.prefix, previous));
}

/** Drops what the committed restore moved aside. */
export function commitKeyspace(context: StoreContext, data: Keyspace, event: KeyspaceEvent): Promise<number> {
    return withStore(context, event.service, data, (c) => dropAside(c, event.prefix));
}
