/**
 * S3 stores (MinIO's buckets, MLflow's artifacts): every object of every bucket through the S3 API, put back into
 * the same buckets, and the objects of those buckets the backup does not hold removed.
 */
import * as fs from "fs";
import * as path from "path";
import { ServiceData } from "../../services/definition";
import { S3Entry } from "../manifest";
import { S3Client, S3Error, S3_AUTH_CODES } from "../s3Client";
import { secretEnv } from "../env";
import { byteMeter, trackedFile } from "../transfer";
import { BackupWriter, StoreContext, passwordOf, writeJson } from "./context";

type S3Store = Extract<ServiceData, { kind: "s3" }>;

interface S3Index {
    buckets: string[];
    objects: Array<{ bucket: string; key: string; file: string; size: number }>;
}

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

/** Makes the backed-up buckets hold exactly the backup's objects; `sha256Of` gives a backup file's SHA-256. */
export async function restoreS3(
    context: StoreContext,
    dir: string,
    entry: S3Entry,
    data: S3Store,
    sha256Of: (file: string) => string,
): Promise<{ restored: number; deleted: number }> {
    const index = JSON.parse(fs.readFileSync(path.join(dir, entry.index), "utf8")) as S3Index;
    const s3 = await client(context, entry.service, data);
    const meter = byteMeter(context.log, `${entry.service} (S3)`);
    const counts = { restored: 0, deleted: 0 };
    try {
        const existing = await s3.listBuckets();
        for (const bucket of index.buckets.filter((b) => !existing.includes(b))) {
            await s3.createBucket(bucket);
        }
        for (const object of index.objects) {
            context.signal?.throwIfAborted();
            const file = path.join(dir, object.file);
            await s3.putObject(object.bucket, object.key, { file, sha256: sha256Of(object.file), size: object.size });
            meter.add(object.size);
            counts.restored++;
        }
        for (const bucket of index.buckets) {
            const kept = new Set(index.objects.filter((o) => o.bucket === bucket).map((o) => o.key));
            for await (const object of s3.listObjects(bucket)) {
                if (!kept.has(object.key)) {
                    await s3.deleteObject(bucket, object.key);
                    counts.deleted++;
                }
            }
        }
    } catch (err) {
        throw explained(entry.service, data, err);
    }
    meter.done(`${counts.restored} objects restored, ${counts.deleted} not in the backup deleted`);
    return counts;
}
