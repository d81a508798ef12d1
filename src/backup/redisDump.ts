/**
 * FalkorDB's data (CMDB's graphs) in and out through its Redis protocol: every key's DUMP with its time to live,
 * written one record after another, and RESTOREd the same way. It needs no file access inside the container and
 * works whatever persistence FalkorDB is set to (its config turns AOF on, which ignores a dump.rdb put in place).
 *
 * The file: `BKLITE-REDIS-DUMP/1\n`, then per key: key length (u32 BE), key, PTTL (i64 BE, -1 for none), payload
 * length (u32 BE), payload.
 */
import * as fs from "fs";
import * as net from "net";

const HEADER = Buffer.from("BKLITE-REDIS-DUMP/1\n");
/** Where a restore keeps the keys it replaces until it is committed: `bklite:aside:<restore id>:<key>`. */
export const ASIDE_PREFIX = "bklite:aside:";

/** Whether a key is a restore's copy of what it replaced. */
export function isAside(key: Buffer): boolean {
    return key.subarray(0, ASIDE_PREFIX.length).toString("latin1") === ASIDE_PREFIX;
}

/**
 * Whether a key is FalkorDB's own log of the queries on a graph (`telemetry{<graph>}`, a stream it writes while
 * CMD_INFO is on, remade as queries run): not data, so neither backed up nor restored nor put back.
 */
export function isQueryLog(key: Buffer): boolean {
    return /^telemetry\{.*\}$/s.test(key.toString("latin1"));
}

/** The keys that are the store's data: neither a restore's copies nor FalkorDB's query logs. */
export function isData(key: Buffer): boolean {
    return !isAside(key) && !isQueryLog(key);
}

type Reply = string | number | Buffer | null | Reply[] | Error;

/** Parses one RESP reply at `at`; undefined when the buffer does not hold all of it yet. */
function parseReply(buffer: Buffer, at: number): { value: Reply; next: number } | undefined {
    const lineEnd = buffer.indexOf("\r\n", at);
    if (lineEnd < 0) {
        return undefined;
    }
    const type = String.fromCharCode(buffer[at]);
    const line = buffer.toString("utf8", at + 1, lineEnd);
    const afterLine = lineEnd + 2;
    switch (type) {
        case "+":
            return { value: line, next: afterLine };
        case "-":
            return { value: new Error(line), next: afterLine };
        case ":":
            return { value: Number(line), next: afterLine };
        case "$": {
            const length = Number(line);
            if (length < 0) {
                return { value: null, next: afterLine };
            }
            if (buffer.length < afterLine + length + 2) {
                return undefined;
            }
            return { value: buffer.subarray(afterLine, afterLine + length), next: afterLine + length + 2 };
        }
        case "*": {
            const count = Number(line);
            if (count < 0) {
                return { value: null, next: afterLine };
            }
            const items: Reply[] = [];
            let next = afterLine;
            for (let i = 0; i < count; i++) {
                const item = parseReply(buffer, next);
                if (item === undefined) {
                    return undefined;
                }
                items.push(item.value);
                next = item.next;
            }
            return { value: items, next };
        }
        default:
            throw new Error(
                `FalkorDB sent something that is not the Redis protocol (${JSON.stringify(buffer.toString("latin1", at, at + 16))})`,
            );
    }
}

/** One connection, commands answered in order. */
export class RedisConnection {
    private buffer = Buffer.alloc(0);
    private readonly waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
    private failure: Error | undefined;

    private constructor(private readonly socket: net.Socket) {
        socket.on("data", (data) => {
            this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
            let parsed: { value: Reply; next: number } | undefined;
            while (this.waiting.length > 0 && (parsed = parseReply(this.buffer, 0)) !== undefined) {
                this.buffer = this.buffer.subarray(parsed.next);
                this.waiting.shift()!.resolve(parsed.value);
            }
        });
        const fail = (err: Error) => {
            this.failure = err;
            this.waiting.splice(0).forEach((w) => w.reject(err));
        };
        socket.on("error", fail);
        socket.on("close", () => fail(new Error("FalkorDB closed the connection")));
    }

    /** Connects and authenticates; fails at once on a wrong password. */
    static async open(address: string, password: string | undefined, timeoutMs = 10000): Promise<RedisConnection> {
        const colon = address.lastIndexOf(":");
        const socket = await new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({
                host: address.slice(0, colon),
                port: Number(address.slice(colon + 1)),
                timeout: timeoutMs,
            });
            s.once("connect", () => {
                s.setTimeout(0);
                resolve(s);
            });
            s.once("timeout", () => {
                s.destroy();
                reject(new Error(`FalkorDB at ${address} did not accept a connection within ${timeoutMs / 1000} s`));
            });
            s.once("error", (err) => reject(new Error(`cannot reach FalkorDB at ${address}: ${err.message}`)));
        });
        const connection = new RedisConnection(socket);
        if (password) {
            try {
                await connection.command(["AUTH", password]);
            } catch (err) {
                connection.close();
                throw new Error(
                    `FalkorDB at ${address} refused the password (${(err as Error).message}): set BKLITE_FALKORDB_PASSWORD to the stack's bklite:falkordbPassword`,
                    { cause: err },
                );
            }
        }
        return connection;
    }

    command(args: Array<string | Buffer>): Promise<Reply> {
        if (this.failure) {
            return Promise.reject(this.failure);
        }
        const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
        for (const arg of args) {
            const data = typeof arg === "string" ? Buffer.from(arg) : arg;
            parts.push(Buffer.from(`$${data.length}\r\n`), data, Buffer.from("\r\n"));
        }
        return new Promise<Reply>((resolve, reject) => {
            this.waiting.push({ resolve: (r) => (r instanceof Error ? reject(r) : resolve(r)), reject });
            this.socket.write(Buffer.concat(parts));
        });
    }

    /** Every key (matching `pattern`), by SCAN (never KEYS, which blocks the server). */
    async *keys(pattern?: string): AsyncGenerator<Buffer> {
        let cursor = "0";
        do {
            const match = pattern === undefined ? [] : ["MATCH", pattern];
            const [next, batch] = (await this.command(["SCAN", cursor, ...match, "COUNT", "500"])) as [
                Buffer,
                Buffer[],
            ];
            cursor = next.toString();
            yield* batch;
        } while (cursor !== "0");
    }

    close(): void {
        this.socket.destroy();
    }
}

function u32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
}

/** Writes every key of the server at `address` into `out`; returns how many. */
export async function dumpRedis(
    address: string,
    password: string | undefined,
    out: { write(data: Uint8Array): Promise<void> },
): Promise<{ keys: number }> {
    const connection = await RedisConnection.open(address, password);
    let keys = 0;
    try {
        await out.write(HEADER);
        for await (const key of connection.keys()) {
            if (!isData(key)) {
                continue; // a restore's copy of what it replaced, or FalkorDB's query log
            }
            const payload = (await connection.command(["DUMP", key])) as Buffer | null;
            if (payload === null) {
                continue; // expired or deleted since the scan saw it
            }
            const ttl = Number(await connection.command(["PTTL", key]));
            const pttl = Buffer.alloc(8);
            pttl.writeBigInt64BE(BigInt(ttl > 0 ? ttl : -1));
            await out.write(Buffer.concat([u32(key.length), key, pttl, u32(payload.length), payload]));
            keys++;
        }
    } finally {
        connection.close();
    }
    return { keys };
}

/** Reads the records of a dump file one by one, without holding the file in memory. */
async function* readRecords(file: string): AsyncGenerator<{ key: Buffer; pttl: bigint; payload: Buffer }> {
    const handle = await fs.promises.open(file, "r");
    try {
        let position = 0;
        const exactly = async (length: number): Promise<Buffer> => {
            const data = Buffer.alloc(length);
            const { bytesRead } = await handle.read(data, 0, length, position);
            if (bytesRead !== length) {
                throw new Error(`${file} ends in the middle of a record: the FalkorDB dump is damaged`);
            }
            position += length;
            return data;
        };
        if (!(await exactly(HEADER.length)).equals(HEADER)) {
            throw new Error(`${file} is not a FalkorDB dump made by bklite backup`);
        }
        const size = (await handle.stat()).size;
        while (position < size) {
            const key = await exactly((await exactly(4)).readUInt32BE());
            const pttl = (await exactly(8)).readBigInt64BE();
            const payload = await exactly((await exactly(4)).readUInt32BE());
            yield { key, pttl, payload };
        }
    } finally {
        await handle.close();
    }
}

/** The keys a dump file holds, in its order. */
export async function dumpKeys(file: string): Promise<Buffer[]> {
    const keys: Buffer[] = [];
    for await (const { key } of readRecords(file)) {
        keys.push(key);
    }
    return keys;
}

/**
 * Puts every record of a dump into the server with RESTORE, never over a key that exists: FalkorDB's own issues
 * (#1204, #2048, #2506) show RESTORE ... REPLACE over a live graph, or a graph restored under another name while
 * its own lives, crashing or corrupting the server. The caller has moved every key aside first.
 */
export async function restoreRecords(
    connection: RedisConnection,
    file: string,
    onBytes?: (n: number) => void,
    signal?: AbortSignal,
): Promise<number> {
    let restored = 0;
    for await (const { key, pttl, payload } of readRecords(file)) {
        signal?.throwIfAborted();
        await connection.command(["RESTORE", key, String(pttl > 0n ? pttl : 0n), payload]);
        onBytes?.(key.length + payload.length + 16);
        restored++;
    }
    return restored;
}

/** Renames each existing key to `prefix` + key: out of the way, kept whole (RENAME moves a graph with its name). */
export async function moveAside(
    connection: RedisConnection,
    keys: ReadonlyArray<Buffer>,
    prefix: string,
): Promise<void> {
    for (const key of keys) {
        if (Number(await connection.command(["EXISTS", key])) === 1) {
            await connection.command(["RENAME", key, Buffer.concat([Buffer.from(prefix), key])]);
        }
    }
}

/**
 * Undoes moveAside and restoreRecords wherever they stopped: every key that was not there before goes (the backup's,
 * and what the server made of them meanwhile, such as FalkorDB's `telemetry{graph}` streams), and each key moved
 * aside comes back under its name. Safe to run again.
 */
export async function moveBack(
    connection: RedisConnection,
    prefix: string,
    previous: ReadonlyArray<Buffer>,
): Promise<void> {
    const aside = (key: Buffer) => Buffer.concat([Buffer.from(prefix), key]);
    const exists = async (key: Buffer) => Number(await connection.command(["EXISTS", key])) === 1;
    const wasThere = new Set(previous.map((k) => k.toString("base64")));
    const present: Buffer[] = [];
    for await (const key of connection.keys()) {
        if (isData(key)) {
            present.push(key);
        }
    }
    for (const key of present) {
        if (!wasThere.has(key.toString("base64")) || (await exists(aside(key)))) {
            await connection.command(["DEL", key]);
        }
    }
    for (const key of previous) {
        if (await exists(aside(key))) {
            await connection.command(["RENAME", aside(key), key]);
        }
    }
}

/**
 * Drops every key moved aside under `prefix` (the restore is committed). DEL, not UNLINK: FalkorDB 4.16's UNLINK of
 * a graph moved aside also drops the restored graph of the same first name from GRAPH.LIST.
 */
export async function dropAside(connection: RedisConnection, prefix: string): Promise<number> {
    const keys: Buffer[] = [];
    for await (const key of connection.keys(`${prefix}*`)) {
        keys.push(key);
    }
    for (const key of keys) {
        await connection.command(["DEL", key]);
    }
    // The query logs FalkorDB kept for the graphs while they were aside.
    for await (const key of connection.keys(`telemetry{${prefix}*`)) {
        await connection.command(["DEL", key]);
    }
    return keys.length;
}
