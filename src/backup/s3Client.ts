/**
 * The few S3 calls a backup of an S3 store needs (list buckets and objects, get, put, delete, create a bucket),
 * path-style over plain HTTP inside the stack, signed with AWS Signature Version 4 as MinIO checks it. No SDK: the
 * CLI stays small, and these five calls are the whole contract.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import { Writable } from "stream";
import { pipeline } from "stream/promises";

export interface S3Endpoint {
    /** `host:port` as this machine reaches it. */
    address: string;
    accessKey: string;
    secretKey: string;
    region?: string;
}

export interface S3Object {
    key: string;
    size: number;
}

/** An S3 error answer: its code (`NoSuchBucket`, `SignatureDoesNotMatch`) and message. */
export class S3Error extends Error {
    constructor(
        public readonly status: number,
        public readonly code: string,
        message: string,
    ) {
        super(message);
        this.name = "S3Error";
    }
}

/** Codes that mean the credentials are wrong: retrying cannot help. */
export const S3_AUTH_CODES = ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"];

const EMPTY_SHA256 = crypto.createHash("sha256").digest("hex");

/** RFC 3986 encoding as SigV4 wants it; `/` kept in paths. */
function encode(text: string, keepSlash = false): string {
    return [...Buffer.from(text, "utf8")]
        .map((b) => {
            const c = String.fromCharCode(b);
            return /[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")
                ? c
                : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
        })
        .join("");
}

const hmac = (key: crypto.BinaryLike, text: string) => crypto.createHmac("sha256", key).update(text).digest();

/** The headers of a signed request (SigV4, the payload's SHA-256 given). */
export function signedHeaders(
    endpoint: S3Endpoint,
    method: string,
    path: string,
    query: Record<string, string>,
    payloadSha256: string,
    at: Date = new Date(),
): Record<string, string> {
    const region = endpoint.region ?? "us-east-1";
    const amzDate = at
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");
    const day = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
        host: endpoint.address,
        "x-amz-content-sha256": payloadSha256,
        "x-amz-date": amzDate,
    };
    const names = Object.keys(headers).sort();
    const canonicalQuery = Object.keys(query)
        .sort()
        .map((k) => `${encode(k)}=${encode(query[k])}`)
        .join("&");
    const canonical = [
        method,
        encode(path, true),
        canonicalQuery,
        ...names.map((n) => `${n}:${headers[n]}`),
        "",
        names.join(";"),
        payloadSha256,
    ].join("\n");
    const scope = `${day}/${region}/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, crypto.createHash("sha256").update(canonical).digest("hex")];
    const key = hmac(hmac(hmac(hmac(`AWS4${endpoint.secretKey}`, day), region), "s3"), "aws4_request");
    const signature = crypto.createHmac("sha256", key).update(toSign.join("\n")).digest("hex");
    return {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${endpoint.accessKey}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
    };
}

/** The text of every `<tag>` in an XML answer, entities decoded. */
function xmlValues(xml: string, tag: string): string[] {
    const decode = (s: string) =>
        s
            .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
            .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
            .replace(/&lt;/g, "<")
            .replace(/&gt;/g, ">")
            .replace(/&quot;/g, '"')
            .replace(/&apos;/g, "'")
            .replace(/&amp;/g, "&");
    return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => decode(m[1]));
}

interface Call {
    method: "GET" | "PUT" | "DELETE";
    path: string;
    query?: Record<string, string>;
    /** The payload (a file) and its SHA-256. */
    body?: { file: string; sha256: string; size: number };
    /** Where a GET's body goes; collected as text when absent. */
    sink?: Writable;
}

export class S3Client {
    constructor(private readonly endpoint: S3Endpoint) {}

    /** Sends a call; resolves with the answer's text (empty when it was streamed to `sink`). */
    private send(call: Call): Promise<string> {
        const query = call.query ?? {};
        const headers = signedHeaders(this.endpoint, call.method, call.path, query, call.body?.sha256 ?? EMPTY_SHA256);
        const search = Object.keys(query).length > 0 ? `?${new URLSearchParams(query).toString()}` : "";
        return new Promise((resolve, reject) => {
            const request = http.request(
                `http://${this.endpoint.address}${encode(call.path, true)}${search}`,
                {
                    method: call.method,
                    headers: { ...headers, ...(call.body ? { "content-length": String(call.body.size) } : {}) },
                    timeout: 60000,
                },
                (response) => this.answer(response, call, resolve, reject),
            );
            request.on("timeout", () => request.destroy(new Error(`no answer from ${this.endpoint.address} in 60 s`)));
            request.on("error", (err) =>
                reject(new Error(`S3 at ${this.endpoint.address}: ${err.message}`, { cause: err })),
            );
            if (call.body) {
                pipeline(fs.createReadStream(call.body.file), request).catch(reject);
            } else {
                request.end();
            }
        });
    }

    private answer(
        response: http.IncomingMessage,
        call: Call,
        resolve: (text: string) => void,
        reject: (err: Error) => void,
    ): void {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300 && call.sink) {
            pipeline(response, call.sink).then(() => resolve(""), reject);
            return;
        }
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (d) => (text += d));
        response.on("error", reject);
        response.on("end", () => {
            if (status >= 200 && status < 300) {
                resolve(text);
                return;
            }
            const code = xmlValues(text, "Code")[0] ?? `HTTP ${status}`;
            const message = xmlValues(text, "Message")[0] ?? text.slice(0, 200);
            reject(new S3Error(status, code, `${call.method} ${call.path}: ${code}: ${message}`));
        });
    }

    async listBuckets(): Promise<string[]> {
        return xmlValues(await this.send({ method: "GET", path: "/" }), "Name").sort();
    }

    /** Every object of a bucket, page by page. */
    async *listObjects(bucket: string): AsyncGenerator<S3Object> {
        let token: string | undefined;
        do {
            const query: Record<string, string> = {
                "list-type": "2",
                ...(token ? { "continuation-token": token } : {}),
            };
            const xml = await this.send({ method: "GET", path: `/${bucket}`, query });
            for (const contents of xmlValues(xml, "Contents")) {
                yield { key: xmlValues(contents, "Key")[0], size: Number(xmlValues(contents, "Size")[0]) };
            }
            token =
                xmlValues(xml, "IsTruncated")[0] === "true" ? xmlValues(xml, "NextContinuationToken")[0] : undefined;
        } while (token !== undefined);
    }

    getObject(bucket: string, key: string, sink: Writable): Promise<void> {
        return this.send({ method: "GET", path: `/${bucket}/${key}`, sink }).then(() => undefined);
    }

    putObject(bucket: string, key: string, body: { file: string; sha256: string; size: number }): Promise<void> {
        return this.send({ method: "PUT", path: `/${bucket}/${key}`, body }).then(() => undefined);
    }

    deleteObject(bucket: string, key: string): Promise<void> {
        return this.send({ method: "DELETE", path: `/${bucket}/${key}` }).then(() => undefined);
    }

    createBucket(bucket: string): Promise<void> {
        return this.send({ method: "PUT", path: `/${bucket}` }).then(() => undefined);
    }

    /** Deletes an empty bucket. */
    deleteBucket(bucket: string): Promise<void> {
        return this.send({ method: "DELETE", path: `/${bucket}` }).then(() => undefined);
    }
}
