/**
 * `bklite streams apply`: makes NATS hold the JetStream streams of a spec. A missing stream is created, one whose
 * settings differ is updated in place, and one that differs in what JetStream cannot change (storage, retention)
 * is refused by name; nothing changes when all match.
 */
import { DiscardPolicy, JetStreamManager, NatsError, RetentionPolicy, StorageType, StreamConfig, nanos } from "nats";
import { NatsEndpoint, connectNats } from "./client";
import { IMMUTABLE_STREAM_FIELDS, StreamSettings, streamDifferences } from "./streamSettings";

export interface StreamsSummary {
    created: string[];
    updated: string[];
    unchanged: string[];
}

const NANOS_PER_SECOND = 1_000_000_000;

/** A spec as the JetStream API takes it. */
export function streamConfig(spec: StreamSettings): Partial<StreamConfig> {
    return {
        name: spec.name,
        subjects: [...spec.subjects],
        storage: spec.storage === "file" ? StorageType.File : StorageType.Memory,
        retention: spec.retention as RetentionPolicy,
        discard: spec.discard as DiscardPolicy,
        max_age: nanos(spec.maxAgeSeconds * 1000),
        max_bytes: spec.maxBytes,
        max_msgs: spec.maxMsgs,
        max_msgs_per_subject: spec.maxMsgsPerSubject,
        max_msg_size: spec.maxMsgSize,
        duplicate_window: nanos(spec.duplicateWindowSeconds * 1000),
        num_replicas: spec.replicas,
        max_consumers: -1,
        allow_rollup_hdrs: false,
        deny_delete: false,
        deny_purge: false,
    };
}

/** A stream's settings as the server reports them, in the spec's terms. */
export function settingsOf(config: StreamConfig): StreamSettings {
    return {
        name: config.name,
        subjects: [...(config.subjects ?? [])],
        storage: config.storage === StorageType.File ? "file" : "memory",
        retention: config.retention as StreamSettings["retention"],
        discard: config.discard as StreamSettings["discard"],
        maxAgeSeconds: Math.round(config.max_age / NANOS_PER_SECOND),
        maxBytes: config.max_bytes,
        maxMsgs: config.max_msgs,
        maxMsgsPerSubject: config.max_msgs_per_subject,
        maxMsgSize: config.max_msg_size,
        duplicateWindowSeconds: Math.round(config.duplicate_window / NANOS_PER_SECOND),
        replicas: config.num_replicas,
    };
}

export async function currentConfig(jsm: JetStreamManager, name: string): Promise<StreamConfig | undefined> {
    try {
        return (await jsm.streams.info(name)).config;
    } catch (e) {
        if (e instanceof NatsError && (e.api_error?.err_code === 10059 || /stream not found/i.test(e.message))) {
            return undefined;
        }
        throw e;
    }
}

/** Makes every stream of `specs` exist with its settings; refuses before changing anything when one cannot be. */
export async function applyStreams(
    specs: ReadonlyArray<StreamSettings>,
    endpoint: NatsEndpoint,
    log: (line: string) => void = () => undefined,
): Promise<StreamsSummary> {
    const nc = await connectNats(endpoint, "bklite-streams");
    try {
        const jsm = await nc.jetstreamManager();
        const plans: Array<{ spec: StreamSettings; action: "create" | "update" | "unchanged"; fields: string[] }> = [];
        const refusals: string[] = [];
        for (const spec of specs) {
            const current = await currentConfig(jsm, spec.name);
            if (current === undefined) {
                plans.push({ spec, action: "create", fields: [] });
                continue;
            }
            const fields = streamDifferences(spec, settingsOf(current));
            const fixed = fields.filter((f) => IMMUTABLE_STREAM_FIELDS.includes(f));
            if (fixed.length > 0) {
                refusals.push(
                    `stream ${spec.name}: ${fixed.map((f) => `${f} is ${JSON.stringify(settingsOf(current)[f])}, the spec says ${JSON.stringify(spec[f])}`).join("; ")}; JetStream cannot change this in place: back up and delete the stream (nats stream rm ${spec.name}), then apply again`,
                );
            }
            plans.push({ spec, action: fields.length > 0 ? "update" : "unchanged", fields });
        }
        if (refusals.length > 0) {
            throw new Error(`refused; nothing was changed:\n${refusals.map((r) => `  - ${r}`).join("\n")}`);
        }
        const summary: StreamsSummary = { created: [], updated: [], unchanged: [] };
        for (const { spec, action, fields } of plans) {
            if (action === "create") {
                await jsm.streams.add(streamConfig(spec));
                summary.created.push(spec.name);
                log(`stream ${spec.name}: created (${spec.subjects.join(", ")})`);
            } else if (action === "update") {
                await jsm.streams.update(spec.name, streamConfig(spec));
                summary.updated.push(spec.name);
                log(`stream ${spec.name}: updated ${fields.join(", ")}`);
            } else {
                summary.unchanged.push(spec.name);
                log(`stream ${spec.name}: unchanged`);
            }
        }
        return summary;
    } finally {
        await nc.close();
    }
}
