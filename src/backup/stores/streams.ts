/** The settings of the streams the services declare (their messages are transient telemetry, and not kept). */
import * as fs from "fs";
import * as path from "path";
import { connectNats } from "../../nats/client";
import { StreamSettings } from "../../nats/streamSettings";
import { applyStreams, settingsOf } from "../../nats/streams";
import { compareStrings } from "../../util/json";
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

/** Makes NATS hold the backup's streams with their settings. */
export async function restoreStreams(context: StoreContext, dir: string, file: string) {
    const specs = (JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as { streams: StreamSettings[] }).streams;
    return specs.length === 0
        ? { created: [], updated: [], unchanged: [] }
        : await applyStreams(specs, context.nats, context.log);
}
