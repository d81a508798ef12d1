/** Redis-protocol stores (FalkorDB's graphs): every key by DUMP with its time to live, put back by RESTORE. */
import * as path from "path";
import { ServiceData } from "../../services/definition";
import { KeyspaceEntry } from "../manifest";
import { dumpRedis, restoreRedis } from "../redisDump";
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

/** Makes the service's store hold exactly the backup's keys. */
export async function restoreKeyspace(context: StoreContext, dir: string, entry: KeyspaceEntry, data: Keyspace) {
    const meter = byteMeter(context.log, entry.service);
    const address = await context.access.address(entry.service, data.port);
    const file = path.join(dir, entry.file);
    const result = await restoreRedis(address, passwordOf(context, data.password), file, (n) => meter.add(n));
    meter.done(`${result.restored} keys restored, ${result.deleted} not in the backup deleted`);
    return result;
}
