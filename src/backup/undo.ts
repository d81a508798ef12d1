/**
 * Acting on a restore's journal: undoing what it lists (newest store first: S3, keys, streams, objects, then the
 * databases switched back and the staged ones dropped), finishing a committed one (the keys it moved aside
 * dropped), and starting the services it stopped. Every step is safe to run twice: a recovery after a kill may
 * repeat what was half done.
 */
import { stackDataOf } from "../services/stack";
import { JournalEvent, RestoreJournal } from "./journal";
import { RestoreTarget, StoreContext } from "./stores/context";
import { previousDatabase, undoDatabases } from "./stores/databases";
import { commitKeyspace, undoKeyspace } from "./stores/keyspaces";
import { undoObjects } from "./stores/objectStores";
import { undoS3 } from "./stores/s3";
import { undoStreams } from "./stores/streams";

type Of<K extends JournalEvent["kind"]> = Extract<JournalEvent, { kind: K }>;

function ofKind<K extends JournalEvent["kind"]>(events: ReadonlyArray<JournalEvent>, ...kinds: K[]): Array<Of<K>> {
    return events.filter((e): e is Of<K> => (kinds as string[]).includes(e.kind));
}

/** The undo of each store the journal names, newest first, each a line for the log. */
function undoSteps(events: ReadonlyArray<JournalEvent>, target: RestoreTarget, journal: RestoreJournal) {
    const steps: Array<{ what: string; undo: () => Promise<unknown> }> = [];
    const s3 = ofKind(events, "s3-saved", "s3-new", "s3-bucket-new");
    for (const service of [...new Set(s3.map((e) => e.service))]) {
        const data = stackDataOf(target.config, "s3").find((d) => d.service === service)!.data;
        const mine = s3.filter((e) => e.service === service);
        steps.push({
            what: `${service}: ${mine.length} objects and buckets`,
            undo: () => undoS3(target, data, service, mine, journal),
        });
    }
    for (const event of ofKind(events, "keyspace")) {
        const data = stackDataOf(target.config, "keyspace").find((d) => d.service === event.service)!.data;
        steps.push({
            what: `${event.service}: its ${event.previous.length} keys`,
            undo: () => undoKeyspace(target, data, event),
        });
    }
    for (const event of ofKind(events, "streams")) {
        steps.push({
            what: `streams ${[...event.before.map((s) => s.name), ...event.created].join(", ")}`,
            undo: () => undoStreams(target, event),
        });
    }
    const objects = ofKind(events, "object-saved", "object-new");
    if (objects.length > 0) {
        steps.push({
            what: `${objects.length} objects of the object store`,
            undo: () => undoObjects(target, objects, journal),
        });
    }
    for (const event of ofKind(events, "databases")) {
        steps.push({
            what: `databases ${event.names.join(", ")}`,
            undo: () => undoDatabases(target, event.names, new Date(event.switchedAt)),
        });
    }
    return steps;
}

/** Undoes every store the journal names; a step that fails is said and the others still run. */
export async function undoJournal(
    events: ReadonlyArray<JournalEvent>,
    target: RestoreTarget,
    journal: RestoreJournal,
): Promise<{ undone: string[]; notUndone: string[] }> {
    const undone: string[] = [];
    const notUndone: string[] = [];
    for (const step of undoSteps(events, target, journal)) {
        try {
            await step.undo();
            undone.push(step.what);
            target.log(`put back ${step.what}`);
        } catch (err) {
            notUndone.push(`${step.what} (${(err as Error).message})`);
            target.log(`could not put back ${step.what}: ${(err as Error).message}`);
        }
    }
    return { undone, notUndone };
}

/** Starts what the restore stopped, in the order they start (the reverse of the stops). */
export async function startStopped(events: ReadonlyArray<JournalEvent>, context: StoreContext): Promise<void> {
    for (const { service, replicas } of ofKind(events, "stopping").reverse()) {
        context.log(`starting ${service} again`);
        await context.access
            .start({ service, replicas })
            .catch((err) =>
                context.log(`could not start ${service}: ${(err as Error).message}; start it by hand (pulumi up)`),
            );
    }
}

/** A committed restore's last steps: what it moved aside dropped, its services started. */
export async function finishCommitted(events: ReadonlyArray<JournalEvent>, target: RestoreTarget): Promise<void> {
    for (const event of ofKind(events, "keyspace")) {
        const data = stackDataOf(target.config, "keyspace").find((d) => d.service === event.service)!.data;
        const dropped = await commitKeyspace(target, data, event);
        target.log(`${event.service}: dropped the ${dropped} keys the restore had moved aside`);
    }
    for (const event of ofKind(events, "databases")) {
        for (const name of event.names) {
            const kept = previousDatabase(name, new Date(event.switchedAt));
            target.log(`database ${name} is the backup's now; the replaced one is kept as ${kept}`);
        }
    }
    await startStopped(events, target);
}
