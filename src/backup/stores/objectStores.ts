/**
 * JetStream object store buckets (the probe packages): every object read chunk by chunk, its digest checked against
 * its metadata, and put back only where the store's differs.
 */
import * as fs from "fs";
import * as path from "path";
import { connectNats } from "../../nats/client";
import { ObjectBucket } from "../../seed/objectStore";
import { ObjectEntry, ObjectStoreEntry } from "../manifest";
import { byteMeter, trackedFile } from "../transfer";
import { BackupWriter, StoreContext, writeJson } from "./context";

/** Every current object of `bucket` into `objects/<bucket>/NNNNNN`, listed in `objects/<bucket>.json`. */
export async function backupObjectStore(
    context: StoreContext,
    writer: BackupWriter,
    bucketName: string,
): Promise<ObjectStoreEntry> {
    const nc = await connectNats(context.nats, "bklite-backup");
    const objects: ObjectEntry[] = [];
    try {
        const bucket = await ObjectBucket.find(nc, bucketName);
        const listed = bucket ? await bucket.list() : [];
        const meter = byteMeter(context.log, `object store ${bucketName} (${listed.length} objects)`);
        for (const [i, info] of listed.entries()) {
            const relative = `objects/${bucketName}/${String(i + 1).padStart(6, "0")}`;
            const out = trackedFile(writer.dir, relative, (n) => meter.add(n));
            const read = await bucket!.read(info, (chunk) => out.write(chunk));
            writer.files.push(await out.close());
            if (read.digest !== info.digest || read.size !== info.size) {
                throw new Error(
                    `object ${info.name} read back as ${read.size} bytes with ${read.digest}, its metadata says ${info.size} bytes with ${info.digest}: the object store is damaged; re-upload it (bklite seed apply --force) and back up again`,
                );
            }
            const description = info.description ? { description: info.description } : {};
            objects.push({ name: info.name, ...description, file: relative, size: info.size, digest: info.digest });
        }
        meter.done();
    } finally {
        await nc.close();
    }
    const index = `objects/${bucketName}.json`;
    await writeJson(writer, index, { bucket: bucketName, objects });
    const bytes = objects.reduce((sum, o) => sum + o.size, 0);
    return { bucket: bucketName, index, count: objects.length, bytes };
}

/** Puts every object of the backup back where the store's differs from it. */
export async function restoreObjectStore(
    context: StoreContext,
    dir: string,
    entry: ObjectStoreEntry,
): Promise<{ restored: number; unchanged: number }> {
    const index = JSON.parse(fs.readFileSync(path.join(dir, entry.index), "utf8")) as {
        bucket: string;
        objects: ObjectEntry[];
    };
    const nc = await connectNats(context.nats, "bklite-restore");
    const counts = { restored: 0, unchanged: 0 };
    try {
        const bucket = await ObjectBucket.open(nc, index.bucket);
        const meter = byteMeter(context.log, `object store ${index.bucket} (${index.objects.length} objects)`);
        for (const object of index.objects) {
            context.signal?.throwIfAborted();
            const current = await bucket.info(object.name);
            if (current?.digest === object.digest && current.size === object.size) {
                counts.unchanged++;
                continue;
            }
            const file = path.join(dir, object.file);
            const stored = await bucket.put(object.name, file, { description: object.description ?? "" });
            if (stored.digest !== object.digest) {
                throw new Error(
                    `object ${object.name} was stored with ${stored.digest}, the backup says ${object.digest}`,
                );
            }
            meter.add(object.size);
            counts.restored++;
        }
        meter.done(`${counts.restored} restored, ${counts.unchanged} already as backed up`);
    } finally {
        await nc.close();
    }
    return counts;
}
