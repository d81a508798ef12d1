/**
 * JetStream streams the platform needs (the `metrics` stream agents publish into), as data: their settings, a check
 * of a spec, and what differs between a spec and a stream as the server reports it. `bklite streams apply` makes a
 * server match; the services that consume a stream declare it in their definition.
 */
import { isRecord } from "../util/json";
import { InputError } from "../util/inputError";

export interface StreamSettings {
    name: string;
    subjects: string[];
    storage: "file" | "memory";
    retention: "limits" | "interest" | "workqueue";
    discard: "old" | "new";
    /** 0: no limit. */
    maxAgeSeconds: number;
    /** -1: no limit. */
    maxBytes: number;
    /** -1: no limit. */
    maxMsgs: number;
    /** -1: no limit. */
    maxMsgsPerSubject: number;
    /** -1: no limit. */
    maxMsgSize: number;
    duplicateWindowSeconds: number;
    replicas: number;
}

/** Settings the server cannot change on an existing stream: a difference is refused, not applied. */
export const IMMUTABLE_STREAM_FIELDS: ReadonlyArray<keyof StreamSettings> = ["storage", "retention"];

/** A stream spec that is not what it should be (exit code 2). */
export class StreamSpecError extends InputError {}

const ENUMS: Partial<Record<keyof StreamSettings, ReadonlyArray<string>>> = {
    storage: ["file", "memory"],
    retention: ["limits", "interest", "workqueue"],
    discard: ["old", "new"],
};
const LIMITS: ReadonlyArray<keyof StreamSettings> = [
    "maxAgeSeconds",
    "maxBytes",
    "maxMsgs",
    "maxMsgsPerSubject",
    "maxMsgSize",
    "duplicateWindowSeconds",
    "replicas",
];

/** Checks `{streams: [...]}` and returns it typed; throws naming every problem at once. */
export function parseStreamsSpec(raw: unknown): StreamSettings[] {
    const problems: string[] = [];
    if (!isRecord(raw) || !Array.isArray(raw.streams)) {
        throw new StreamSpecError("the streams spec must be an object with a `streams` list");
    }
    const seen = new Set<string>();
    raw.streams.forEach((s: unknown, i: number) => {
        const at = `streams[${i}]`;
        if (!isRecord(s)) {
            problems.push(`${at}: must be an object`);
            return;
        }
        if (typeof s.name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(s.name)) {
            problems.push(`${at}.name: must be 1-64 letters, digits, - or _`);
        } else if (seen.has(s.name)) {
            problems.push(`${at}.name: '${s.name}' is listed twice`);
        } else {
            seen.add(s.name);
        }
        if (
            !Array.isArray(s.subjects) ||
            s.subjects.length === 0 ||
            !s.subjects.every((x) => typeof x === "string" && /^[^\s]+$/.test(x))
        ) {
            problems.push(`${at}.subjects: must be a non-empty list of subjects without spaces`);
        }
        for (const [field, allowed] of Object.entries(ENUMS)) {
            if (!allowed!.includes(s[field] as string)) {
                problems.push(`${at}.${field}: must be one of ${allowed!.join(", ")}`);
            }
        }
        for (const field of LIMITS) {
            const value = s[field];
            const min =
                field === "replicas" ? 1 : field === "maxAgeSeconds" || field === "duplicateWindowSeconds" ? 0 : -1;
            if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
                problems.push(`${at}.${field}: must be a whole number of at least ${min}`);
            }
        }
    });
    if (problems.length > 0) {
        throw new StreamSpecError(
            `the streams spec has ${problems.length} problem(s); nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
    return raw.streams as StreamSettings[];
}

/** The fields of `wanted` whose value differs from `actual`, in spec order. */
export function streamDifferences(wanted: StreamSettings, actual: StreamSettings): Array<keyof StreamSettings> {
    return (Object.keys(wanted) as Array<keyof StreamSettings>).filter(
        (k) => JSON.stringify(wanted[k]) !== JSON.stringify(actual[k]),
    );
}
