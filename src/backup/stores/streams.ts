/** The settings of the streams the services declare (their messages are transient telemetry, and not kept). */
import { connectNats } from "../../nats/client";
import { StreamSettings } from "../../nats/streamSettings";
import { applyStreams, currentConfig, settingsOf } from "../../nats/streams";
import { compareStrings } from "../../util/json";
import { JournalEvent, RestoreJournal } from "../journal";
import { BackupWriter, StoreContext, writeJson } from "./context";

export const STREAMS_FILE = "streams.json";

/** The declared streams as NATS holds them now, into `streams.json`; a declared stream that is missing is said. */
export async function backupStreams(
    context: StoreContext,
    writer: BackupWriter,
    names: ReadonlyArray<string>,
): Promise<{ file: string; names: string[] }> {
    const streams: StreamSettings[] = [];
    if (names.length > 0) {
        const nc = await connectNats(context.nats, "bklite-backup");
        try {
            const jsm = await nc.jetstreamManager();
            for await (const info of jsm.streams.list()) {
                if (names.includes(info.config.name)) {
                    streams.push(settingsOf(info.config));
                }
            }
        } finally {
            await nc.close();
        }
    }
    streams.sort((a, b) => compareStrings(a.name, b.name));
    for (const missing of names.filter((n) => !streams.some((s) => s.name === n))) {
        context.log(`stream ${missing} does not exist: nothing of it to back up (pulumi up makes it)`);
    }
    await writeJson(writer, STREAMS_FILE, { streams });
    const found = streams.map((s) => s.name);
    context.log(
        `streams: ${found.length === 0 ? "none" : found.join(", ")} (settings only; their messages are transient)`,
    );
    return { file: STREAMS_FILE, names: found };
}

/**
 * Makes NATS hold the backup's streams with their settings, recording first what they were (and which did not
 * exist), so a restore that stops can put them back.
 */
export async function restoreStreams(
    context: StoreContext,
    settings: ReadonlyArray<StreamSettings>,
    journal: RestoreJournal,
) {
    if (settings.length === 0) {
        return { created: [], updated: [], unchanged: [] };
    }
    const before: StreamSettings[] = [];
    const created: string[] = [];
    const nc = await connectNats(context.nats, "bklite-restore");
    try {
        const jsm = await nc.jetstreamManager();
        for (const { name } of settings) {
            const current = await currentConfig(jsm, name);
            if (current === undefined) {
                created.push(name);
            } else {
                before.push(settingsOf(current));
            }
        }
    } finally {
        await nc.close();
    }
    journal.append({ kind: "streams", before, created });
    return await applyStreams(settings, context.nats, context.log);
}

/** Puts the streams back as the journal found them: settings restored, streams the restore created deleted. */
export async function undoStreams(context: StoreContext, event: Extract<JournalEvent, { kind: "streams" }>) {
    if (event.before.length > 0) {
        await applyStreams(event.before, context.nats);
    }
    if (event.created.length === 0) {
        return;
    }
    const nc = await connectNats(context.nats, "bklite-restore-undo");
    try {
        const jsm = await nc.jetstreamManager();
        for (const name of event.created) {
            if ((await currentConfig(jsm, name)) !== undefined) {
                await jsm.streams.delete(name);
            }
        }
    } finally {
        await nc.close();
    }
}
