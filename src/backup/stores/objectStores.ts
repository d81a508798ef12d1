/**
 * JetStream object store buckets (the probe packages): every object read chunk by chunk, its digest checked against
 * its metadata, and put back only where the store's differs.
 */
import * as fs from "fs";
import * as path from "path";
import { connectNats } from "../../nats/client";
import { ObjectBucket, ObjectInfo } from "../../seed/objectStore";
import { ObjectsIndex } from "../check";
import { JournalEvent, RestoreJournal } from "../journal";
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
            context.signal?.throwIfAborted();
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

/** Copies an object's content into a file of the journal's, for putting back. */
async function saveCopy(bucket: ObjectBucket, info: ObjectInfo, journal: RestoreJournal): Promise<string> {
    const copy = journal.newCopy("objects");
    const out = fs.createWriteStream(copy.file, { mode: 0o600 });
    const read = await bucket.read(info, (chunk) =>
        out.write(chunk) ? undefined : new Promise<void>((resolve) => out.once("drain", () => resolve())),
    );
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (read.digest !== info.digest) {
        throw new Error(`object ${info.name} read back with ${read.digest}, its metadata says ${info.digest}`);
    }
    return copy.relative;
}

/** Keeps a copy of the store's object in the journal before it is replaced or deleted; notes a new one as new. */
async function journalBefore(
    bucket: ObjectBucket,
    name: string,
    current: ObjectInfo | undefined,
    journal: RestoreJournal,
) {
    if (current === undefined) {
        journal.append({ kind: "object-new", bucket: bucket.bucket, name });
    } else {
        const file = await saveCopy(bucket, current, journal);
        journal.append({
            kind: "object-saved",
            bucket: bucket.bucket,
            name,
            description: current.description ?? "",
            file,
        });
    }
}

/**
 * Makes the bucket hold exactly the backup's objects: each one put back where the store's differs, the store's
 * objects the backup does not hold deleted; everything replaced or deleted copied into the journal first.
 */
export async function restoreObjectStore(
    context: StoreContext,
    dir: string,
    index: ObjectsIndex,
    journal: RestoreJournal,
): Promise<{ restored: number; unchanged: number; deleted: number }> {
    const nc = await connectNats(context.nats, "bklite-restore");
    const counts = { restored: 0, unchanged: 0, deleted: 0 };
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
            await journalBefore(bucket, object.name, current, journal);
            const stored = await bucket.put(object.name, path.join(dir, object.file), {
                description: object.description ?? "",
            });
            if (stored.digest !== object.digest) {
                throw new Error(
                    `object ${object.name} was stored with ${stored.digest}, the backup says ${object.digest}`,
                );
            }
            meter.add(object.size);
            counts.restored++;
        }
        const kept = new Set(index.objects.map((o) => o.name));
        for (const extra of (await bucket.list()).filter((o) => !kept.has(o.name))) {
            context.signal?.throwIfAborted();
            await journalBefore(bucket, extra.name, extra, journal);
            await bucket.delete(extra.name);
            counts.deleted++;
        }
        meter.done(
            `${counts.restored} restored, ${counts.unchanged} already as backed up, ${counts.deleted} not in the backup deleted`,
        );
    } finally {
        await nc.close();
    }
    return counts;
}

/** Puts a bucket back as the journal found it: new objects deleted, replaced or deleted ones put back. */
export async function undoObjects(
    context: StoreContext,
    events: ReadonlyArray<Extract<JournalEvent, { kind: "object-saved" | "object-new" }>>,
    journal: RestoreJournal,
): Promise<number> {
    if (events.length === 0) {
        return 0;
    }
    const nc = await connectNats(context.nats, "bklite-restore-undo");
    try {
        for (const event of [...events].reverse()) {
            const bucket = await ObjectBucket.open(nc, event.bucket);
            if (event.kind === "object-new") {
                await bucket.delete(event.name);
            } else {
                await bucket.put(event.name, journal.copyPath(event.file), { description: event.description });
            }
        }
    } finally {
        await nc.close();
    }
    return events.length;
}
