/**
 * The Docker Engine API over its Unix socket, for the calls the docker provider makes (create, archive upload,
 * start, inspect, restart, remove), and the one-file tar archives its `uploads` become.
 */
import * as http from "http";

const SOCKET = process.env.DOCKER_HOST?.startsWith("unix://")
    ? process.env.DOCKER_HOST.slice("unix://".length)
    : "/var/run/docker.sock";

/** One API call, its body as bytes; throws with the engine's message on a status of 400 or more. */
function call(method: string, path: string, payload?: Buffer, contentType = "application/json"): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const req = http.request(
            {
                socketPath: SOCKET,
                method,
                path: `/v1.41${path}`,
                headers: payload ? { "content-type": contentType, "content-length": payload.length } : {},
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const body = Buffer.concat(chunks);
                    if ((res.statusCode ?? 500) >= 400) {
                        reject(
                            new Error(`docker ${method} ${path}: ${res.statusCode} ${body.toString("utf8").trim()}`),
                        );
                    } else {
                        resolve(body);
                    }
                });
            },
        );
        req.on("error", reject);
        req.end(payload);
    });
}

/** One API call with a JSON body (or a tar archive) and a JSON answer. */
export async function dockerApi<T = any>(method: string, path: string, body?: unknown, tar?: Buffer): Promise<T> {
    const answer = await call(
        method,
        path,
        tar ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body))),
        tar ? "application/x-tar" : "application/json",
    );
    return (answer.length > 0 ? JSON.parse(answer.toString("utf8")) : undefined) as T;
}

/** A container's log (stdout and stderr), without the stream headers. */
export async function containerLogs(id: string): Promise<string> {
    const raw = await call("GET", `/containers/${id}/logs?stdout=1&stderr=1`);
    const out: Buffer[] = [];
    for (let at = 0; at + 8 <= raw.length;) {
        const size = raw.readUInt32BE(at + 4);
        out.push(raw.subarray(at + 8, at + 8 + size));
        at += 8 + size;
    }
    return Buffer.concat(out).toString("utf8");
}

/** A tar archive holding one file at `file` (an absolute path), with its mode and owner. */
export function singleFileTar(file: string, content: Buffer, mode: number, uid = 0, gid = 0): Buffer {
    const name = file.replace(/^\/+/, "");
    const header = Buffer.alloc(512);
    const put = (value: string, offset: number, length: number) => header.write(value, offset, length, "utf8");
    const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, "0") + "\0";
    // ustar: a name over 100 bytes goes partly into the prefix field, split at a slash.
    const split = name.length > 100 ? name.lastIndexOf("/", name.length - 1 - Math.max(0, name.length - 101)) : -1;
    put(split > 0 ? name.slice(split + 1) : name, 0, 100);
    put(octal(mode, 8), 100, 8);
    put(octal(uid, 8), 108, 8);
    put(octal(gid, 8), 116, 8);
    put(octal(content.length, 12), 124, 12);
    put(octal(0, 12), 136, 12);
    put("        ", 148, 8);
    put("0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    if (split > 0) {
        put(name.slice(0, split), 345, 155);
    }
    let sum = 0;
    for (const byte of header) {
        sum += byte;
    }
    put(octal(sum, 7), 148, 7);
    const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
    return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}
