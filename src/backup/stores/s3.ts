/**
 * S3 stores (MinIO's buckets, MLflow's artifacts): every object of every bucket through the S3 API, put back into
 * the same buckets, and the objects of those buckets the backup does not hold removed.
 */
import * as fs from "fs";
import * as path from "path";
import { ServiceData } from "../../services/definition";
import { S3Index } from "../check";
import { JournalEvent, RestoreJournal } from "../journal";
import { S3Entry, fileSha256 } from "../manifest";
import { S3Client, S3Error, S3_AUTH_CODES } from "../s3Client";
import { secretEnv } from "../env";
import { byteMeter, trackedFile } from "../transfer";
import { BackupWriter, StoreContext, passwordOf, writeJson } from "./context";

type S3Store = Extract<ServiceData, { kind: "s3" }>;

async function client(context: StoreContext, service: string, data: S3Store): Promise<S3Client> {
    const address = await context.access.address(service, data.port);
    return new S3Client({ address, accessKey: data.user, secretKey: passwordOf(context, data.password) });
}

/** Refused credentials say which variable to fix; anything else is said as it is. */
function explained(service: string, data: S3Store, err: unknown): Error {
    return err instanceof S3Error && S3_AUTH_CODES.includes(err.code)
        ? new Error(
              `${service} refused the credentials (${err.code}): set ${secretEnv(data.password)} to the stack's bklite:${data.password}`,
              { cause: err },
          )
        : (err as Error);
}

/** Every object of every bucket into `s3/<service>/NNNNNN`, listed in `s3/<service>.json`. */
export async function backupS3(
    context: StoreContext,
    writer: BackupWriter,
    service: string,
    data: S3Store,
): Promise<S3Entry> {
    const s3 = await client(context, service, data);
    const index: S3Index = { buckets: [], objects: [] };
    const meter = byteMeter(context.log, `${service} (S3)`);
    try {
        index.buckets = await s3.listBuckets();
        for (const bucket of index.buckets) {
            for await (const object of s3.listObjects(bucket)) {
                context.signal?.throwIfAborted();
                const file = `s3/${service}/${String(index.objects.length + 1).padStart(6, "0")}`;
                const out = trackedFile(writer.dir, file, (n) => meter.add(n));
                await s3.getObject(bucket, object.key, out.stream);
                const written = await out.close();
                writer.files.push(written);
                index.objects.push({ bucket, key: object.key, file, size: written.bytes });
            }
        }
    } catch (err) {
        throw explained(service, data, err);
    }
    meter.done(`${index.objects.length} objects in ${index.buckets.length} buckets`);
    const indexFile = `s3/${service}.json`;
    await writeJson(writer, indexFile, index);
    const bytes = index.objects.reduce((sum, o) => sum + o.size, 0);
    return { service, index: indexFile, buckets: index.buckets, count: index.objects.length, bytes };
}

/** Copies an S3 object into a file of the journal's, for putting back. */
async function saveCopy(s3: S3Client, bucket: string, key: string, journal: RestoreJournal): Promise<string> {
    const copy = journal.newCopy("s3");
    await s3.getObject(bucket, key, fs.createWriteStream(copy.file, { mode: 0o600 }));
    return copy.relative;
}

/** Puts a file into the store, its SHA-256 computed for the signature. */
async function putFile(s3: S3Client, bucket: string, key: string, file: string): Promise<void> {
    const { sha256, bytes } = await fileSha256(file);
    await s3.putObject(bucket, key, { file, sha256, size: bytes });
}

/** What the backed-up buckets hold now: key sets by bucket, absent buckets left out. */
async function currentObjects(s3: S3Client, buckets: ReadonlyArray<string>): Promise<Map<string, Set<string>>> {
    const existing = await s3.listBuckets();
    const found = new Map<string, Set<string>>();
    for (const bucket of buckets.filter((b) => existing.includes(b))) {
        const keys = new Set<string>();
        for await (const object of s3.listObjects(bucket)) {
            keys.add(object.key);
        }
        found.set(bucket, keys);
    }
    return found;
}

/**
 * Makes the backed-up buckets hold exactly the backup's objects; everything replaced or deleted is copied into the
 * journal first, and every bucket or object that is new is noted as new.
 */
export async function restoreS3(
    context: StoreContext,
    dir: string,
    entry: S3Entry,
    index: S3Index,
    data: S3Store,
    journal: RestoreJournal,
): Promise<{ restored: number; deleted: number }> {
    const { service } = entry;
    const s3 = await client(context, service, data);
    const meter = byteMeter(context.log, `${service} (S3)`);
    const counts = { restored: 0, deleted: 0 };
    try {
        const current = await currentObjects(s3, index.buckets);
        for (const bucket of index.buckets.filter((b) => !current.has(b))) {
            journal.append({ kind: "s3-bucket-new", service, bucket });
            await s3.createBucket(bucket);
            current.set(bucket, new Set());
        }
        for (const object of index.objects) {
            context.signal?.throwIfAborted();
            const { bucket, key } = object;
            if (current.get(bucket)!.has(key)) {
                journal.append({
                    kind: "s3-saved",
                    service,
                    bucket,
                    key,
                    file: await saveCopy(s3, bucket, key, journal),
                });
            } else {
                journal.append({ kind: "s3-new", service, bucket, key });
            }
            await putFile(s3, bucket, key, path.join(dir, object.file));
            meter.add(object.size);
            counts.restored++;
        }
        for (const [bucket, keys] of current) {
            const kept = new Set(index.objects.filter((o) => o.bucket === bucket).map((o) => o.key));
            for (const key of [...keys].filter((k) => !kept.has(k))) {
                context.signal?.throwIfAborted();
                journal.append({
                    kind: "s3-saved",
                    service,
                    bucket,
                    key,
                    file: await saveCopy(s3, bucket, key, journal),
                });
                await s3.deleteObject(bucket, key);
                counts.deleted++;
            }
        }
    } catch (err) {
        throw explained(service, data, err);
    }
    meter.done(`${counts.restored} objects restored, ${counts.deleted} not in the backup deleted`);
    return counts;
}

/** Puts a service's buckets back as the journal found them. */
export async function undoS3(
    context: StoreContext,
    data: S3Store,
    service: string,
    events: ReadonlyArray<Extract<JournalEvent, { kind: "s3-saved" | "s3-new" | "s3-bucket-new" }>>,
    journal: RestoreJournal,
): Promise<void> {
    if (events.length === 0) {
        return;
    }
    const s3 = await client(context, service, data);
    try {
        for (const event of [...events].reverse()) {
            if (event.kind === "s3-new") {
                await s3.deleteObject(event.bucket, event.key);
            } else if (event.kind === "s3-saved") {
                await putFile(s3, event.bucket, event.key, journal.copyPath(event.file));
            } else {
                await s3.deleteBucket(event.bucket);
            }
        }
    } catch (err) {
        throw explained(service, data, err);
    }
}
