/**
 * The NATS JetStream object store, written in the format bk-lite's own clients use (nats-py 2.9 in the server,
 * nats.go in nats-executor, which verifies digests on download): stream `OBJ_<bucket>`, chunks on
 * `$O.<bucket>.C.<nuid>`, metadata on `$O.<bucket>.M.<base64url(name)>` with a subject rollup, digest
 * `SHA-256=<base64url, padded>`. Uploads stream the file with a bounded number of chunks in flight, so memory does
 * not grow with the file.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import { JetStreamClient, JetStreamManager, NatsConnection, StorageType, DiscardPolicy, headers, nuid } from "nats";

/** bk-lite's chunk size (nats-py's OBJ_DEFAULT_CHUNK_SIZE). */
export const CHUNK_SIZE = 128 * 1024;
/** Chunks published but not yet acknowledged, at most: bounds memory at CHUNK_SIZE times this. */
const IN_FLIGHT = 32;

export interface ObjectInfo {
    name: string;
    description?: string;
    bucket: string;
    nuid: string;
    size: number;
    chunks: number;
    mtime: string;
    digest: string;
    deleted?: boolean;
    options?: { max_chunk_size?: number };
}

/** base64url with `=` padding, as Python's urlsafe_b64encode and Go's URLEncoding write it. */
function paddedBase64Url(data: Buffer): string {
    const encoded = data.toString("base64url");
    return encoded + "=".repeat((4 - (encoded.length % 4)) % 4);
}

/** `SHA-256=` and the padded base64url of the digest, as nats-py and nats.go write it. */
export function formatDigest(sha256: Buffer): string {
    return `SHA-256=${paddedBase64Url(sha256)}`;
}

/** The metadata subject of an object name. */
export function metaSubject(bucket: string, name: string): string {
    return `$O.${bucket}.M.${paddedBase64Url(Buffer.from(name, "utf8"))}`;
}

/** Digest of a local file in object-store format; `onProgress` gets the bytes read so far. */
export function fileDigest(file: string, onProgress?: (bytes: number) => void): Promise<string> {
    return new Promise((resolve, reject) => {
        const hash = crypto.createHash("sha256");
        let bytes = 0;
        fs.createReadStream(file, { highWaterMark: 1024 * 1024 })
            .on("data", (chunk) => {
                hash.update(chunk);
                bytes += chunk.length;
                onProgress?.(bytes);
            })
            .on("error", reject)
            .on("end", () => resolve(formatDigest(hash.digest())));
    });
}

export class ObjectBucket {
    private constructor(
        private readonly nc: NatsConnection,
        private readonly js: JetStreamClient,
        private readonly jsm: JetStreamManager,
        public readonly bucket: string,
    ) {}

    /** The stream holding the bucket. */
    get stream(): string {
        return `OBJ_${this.bucket}`;
    }

    /** The bucket when it exists; undefined when it does not (nothing is created). */
    static async find(nc: NatsConnection, bucket: string): Promise<ObjectBucket | undefined> {
        if (!/^[A-Za-z0-9_-]+$/.test(bucket)) {
            throw new Error(`'${bucket}' is not a valid object store bucket name`);
        }
        const jsm = await nc.jetstreamManager();
        const store = new ObjectBucket(nc, nc.jetstream(), jsm, bucket);
        try {
            await jsm.streams.info(store.stream);
            return store;
        } catch (err) {
            if (/stream not found/i.test((err as Error).message)) {
                return undefined;
            }
            throw err;
        }
    }

    /** Opens the bucket, creating it as nats-py's create_object_store does when it is missing. */
    static async open(nc: NatsConnection, bucket: string): Promise<ObjectBucket> {
        const found = await ObjectBucket.find(nc, bucket);
        if (found !== undefined) {
            return found;
        }
        const jsm = await nc.jetstreamManager();
        const store = new ObjectBucket(nc, nc.jetstream(), jsm, bucket);
        await jsm.streams.add({
            name: store.stream,
            subjects: [`$O.${bucket}.C.>`, `$O.${bucket}.M.>`],
            storage: StorageType.File,
            num_replicas: 1,
            discard: DiscardPolicy.New,
            allow_rollup_hdrs: true,
            allow_direct: true,
            max_bytes: -1,
        });
        return store;
    }

    /** The current info of an object, or undefined when it does not exist (or was deleted). */
    async info(name: string): Promise<ObjectInfo | undefined> {
        try {
            const message = await this.jsm.streams.getMessage(this.stream, {
                last_by_subj: metaSubject(this.bucket, name),
            });
            const info = JSON.parse(Buffer.from(message.data).toString("utf8")) as ObjectInfo;
            return info.deleted ? undefined : info;
        } catch (err) {
            if (/no message found/i.test((err as Error).message)) {
                return undefined;
            }
            throw err;
        }
    }

    /**
     * Streams a file into the object `name`. Chunks go to a new nuid; the metadata is published only after every
     * chunk is acknowledged, then the previous version's chunks are purged. On failure the new chunks are purged
     * (best effort) and the previous version stays current.
     */
    async put(
        name: string,
        file: string,
        options: { description: string; onProgress?: (bytes: number) => void },
    ): Promise<ObjectInfo> {
        const previous = await this.info(name);
        const id = nuid.next();
        const chunkSubject = `$O.${this.bucket}.C.${id}`;
        const hash = crypto.createHash("sha256");
        const pending: Promise<unknown>[] = [];
        let size = 0;
        let chunks = 0;
        try {
            const stream = fs.createReadStream(file, { highWaterMark: CHUNK_SIZE });
            let buffered = Buffer.alloc(0);
            const send = async (payload: Buffer) => {
                hash.update(payload);
                size += payload.length;
                chunks++;
                pending.push(this.js.publish(chunkSubject, payload));
                if (pending.length >= IN_FLIGHT) {
                    await pending.shift();
                }
                options.onProgress?.(size);
            };
            for await (const data of stream) {
                buffered = buffered.length === 0 ? (data as Buffer) : Buffer.concat([buffered, data as Buffer]);
                while (buffered.length >= CHUNK_SIZE) {
                    await send(buffered.subarray(0, CHUNK_SIZE));
                    buffered = buffered.subarray(CHUNK_SIZE);
                }
            }
            if (buffered.length > 0) {
                await send(buffered);
            }
            await Promise.all(pending.splice(0));
            const info: ObjectInfo = {
                name,
                description: options.description,
                bucket: this.bucket,
                nuid: id,
                size,
                chunks,
                mtime: new Date().toISOString(),
                digest: formatDigest(hash.digest()),
                options: { max_chunk_size: CHUNK_SIZE },
            };
            const rollup = headers();
            rollup.set("Nats-Rollup", "sub");
            await this.js.publish(metaSubject(this.bucket, name), Buffer.from(JSON.stringify(info)), {
                headers: rollup,
            });
            if (previous) {
                await this.purgeChunks(previous.nuid).catch(() => undefined);
            }
            return info;
        } catch (err) {
            await Promise.allSettled(pending);
            await this.purgeChunks(id).catch(() => undefined);
            throw err;
        }
    }

    /**
     * Deletes an object as nats-py and nats.go do: its metadata rolled up to a deleted marker (size, chunks and
     * digest emptied), then its chunks purged. Deleting what is not there does nothing.
     */
    async delete(name: string): Promise<void> {
        const current = await this.info(name);
        if (current === undefined) {
            return;
        }
        const marker: ObjectInfo = { ...current, deleted: true, size: 0, chunks: 0, digest: "" };
        const rollup = headers();
        rollup.set("Nats-Rollup", "sub");
        await this.js.publish(metaSubject(this.bucket, name), Buffer.from(JSON.stringify(marker)), { headers: rollup });
        await this.purgeChunks(current.nuid);
    }

    /** Every current object of the bucket (deleted ones left out), by name. */
    async list(): Promise<ObjectInfo[]> {
        const info = await this.jsm.streams.info(this.stream, { subjects_filter: `$O.${this.bucket}.M.>` });
        const subjects = Object.keys(info.state.subjects ?? {}).sort();
        const objects: ObjectInfo[] = [];
        for (const subject of subjects) {
            const message = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
            const object = JSON.parse(Buffer.from(message.data).toString("utf8")) as ObjectInfo;
            if (!object.deleted) {
                objects.push(object);
            }
        }
        return objects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }

    /**
     * Reads an object back chunk by chunk, handing each to `onChunk` (awaited: a slow writer slows the reading, so
     * memory stays bounded), and returns its digest as a downloader would compute it. Fails when the connection
     * closes or no chunk arrives for `stallMs`, rather than waiting forever.
     */
    async read(
        info: ObjectInfo,
        onChunk: (chunk: Uint8Array) => unknown,
        stallMs = 15000,
    ): Promise<{ digest: string; size: number }> {
        const hash = crypto.createHash("sha256");
        let size = 0;
        if (info.chunks === 0) {
            return { digest: formatDigest(hash.digest()), size };
        }
        // One subject as a string: sent as filter_subject, which nats-server 2.9 understands too.
        const consumer = await this.js.consumers.get(this.stream, {
            filterSubjects: `$O.${this.bucket}.C.${info.nuid}`,
        });
        const messages = await consumer.consume();
        let timer: NodeJS.Timeout | undefined;
        let fail: (err: Error) => void = () => undefined;
        const failed = new Promise<never>((_, reject) => (fail = reject));
        failed.catch(() => undefined); // observed through the race below
        const watch = () => {
            clearTimeout(timer);
            timer = setTimeout(() => fail(new Error(`reading ${info.name} stalled for ${stallMs / 1000} s`)), stallMs);
        };
        void this.nc
            .closed()
            .then((err) =>
                fail(
                    new Error(`the NATS connection closed while reading ${info.name}${err ? `: ${err.message}` : ""}`),
                ),
            );
        const read = (async () => {
            let received = 0;
            for await (const message of messages) {
                hash.update(message.data);
                size += message.data.length;
                clearTimeout(timer);
                await onChunk(message.data);
                watch();
                if (++received >= info.chunks) {
                    break;
                }
            }
        })();
        watch();
        try {
            await Promise.race([read, failed]);
        } finally {
            clearTimeout(timer);
            // Closing an ordered consumer waits on the server; never let that hold the result up.
            await Promise.race([
                messages.close().catch(() => undefined),
                new Promise((r) => setTimeout(r, 2000).unref()),
            ]);
        }
        return { digest: formatDigest(hash.digest()), size };
    }

    /** Reads an object back and returns its digest, as a downloader would compute it. */
    readDigest(info: ObjectInfo, stallMs = 15000): Promise<{ digest: string; size: number }> {
        return this.read(info, () => undefined, stallMs);
    }

    private async purgeChunks(id: string): Promise<void> {
        await this.jsm.streams.purge(this.stream, { filter: `$O.${this.bucket}.C.${id}` });
    }

    /** The connection, for callers that close it. */
    get connection(): NatsConnection {
        return this.nc;
    }
}
