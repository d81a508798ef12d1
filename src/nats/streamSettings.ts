/**
 * JetStream streams the platform needs (the `metrics` stream agents publish into), as data: their settings, a check
 * of a spec, and what differs between a spec and a stream as the server reports it. `bklite streams apply` makes a
 * server match; the services that consume a stream declare it in their definition.
 */
import { isRecord } from "../util/json";
import { InputError } from "../util/inputError";
import { Problem, formatProblem, under } from "../util/problem";

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

/** A stream spec that is not what it should be (exit code 2), with every problem. */
export class StreamSpecError extends InputError {
    constructor(public readonly problems: Problem[]) {
        super(
            problems.length === 1 && problems[0].path === ""
                ? problems[0].message
                : `the streams spec has ${problems.length} problem(s); nothing was changed:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`,
        );
    }
}

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
    if (!isRecord(raw) || !Array.isArray(raw.streams)) {
        throw new StreamSpecError([{ path: "", message: "the streams spec must be an object with a `streams` list" }]);
    }
    const problems: Problem[] = [];
    const seen = new Set<string>();
    raw.streams.forEach((s: unknown, i: number) => problems.push(...under(`streams[${i}]`, streamProblems(s, seen))));
    if (problems.length > 0) {
        throw new StreamSpecError(problems);
    }
    return raw.streams as StreamSettings[];
}

/** What is wrong with one stream's settings; `seen` holds the names before it. */
function streamProblems(s: unknown, seen: Set<string>): Problem[] {
    if (!isRecord(s)) {
        return [{ path: "", message: "must be an object" }];
    }
    const problems: Problem[] = [];
    if (typeof s.name !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(s.name)) {
        problems.push({ path: "name", message: "must be 1-64 letters, digits, - or _" });
    } else if (seen.has(s.name)) {
        problems.push({ path: "name", message: `'${s.name}' is listed twice` });
    } else {
        seen.add(s.name);
    }
    const subjects = s.subjects;
    if (
        !Array.isArray(subjects) ||
        subjects.length === 0 ||
        !subjects.every((x) => typeof x === "string" && /^[^\s]+$/.test(x))
    ) {
        problems.push({ path: "subjects", message: "must be a non-empty list of subjects without spaces" });
    }
    for (const [field, allowed] of Object.entries(ENUMS)) {
        if (!allowed!.includes(s[field] as string)) {
            problems.push({ path: field, message: `must be one of ${allowed!.join(", ")}` });
        }
    }
    for (const field of LIMITS) {
        const value = s[field];
        const min = field === "replicas" ? 1 : field === "maxAgeSeconds" || field === "duplicateWindowSeconds" ? 0 : -1;
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
            problems.push({ path: field, message: `must be a whole number of at least ${min}` });
        }
    }
    return problems;
}

/** The fields of `wanted` whose value differs from `actual`, in spec order. */
export function streamDifferences(wanted: StreamSettings, actual: StreamSettings): Array<keyof StreamSettings> {
    return (Object.keys(wanted) as Array<keyof StreamSettings>).filter(
        (k) => JSON.stringify(wanted[k]) !== JSON.stringify(actual[k]),
    );
}
