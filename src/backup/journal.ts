/**
 * A restore's journal: what it is about to change, written (and synced) before each change, with copies of what
 * it replaces, in a private directory of the stack's (`$BKLITE_STATE_DIR/restores/<stack>`, by default
 * `~/.local/state/bklite`). A restore that fails or is interrupted undoes what the journal lists; one killed
 * outright leaves the journal, and the next `bklite restore` of the stack finishes it (once it was committed) or
 * undoes it (before). Its lock names the process that holds it, so a second restore of the stack waits its turn.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { StreamSettings } from "../nats/streamSettings";
import { takePidLock } from "../util/pidLock";

/** One thing the journal records, before it is done. */
export type JournalEvent =
    | { kind: "begin"; stack: string; backup: string; id: string; startedAt: string }
    | { kind: "stopping"; service: string; replicas: number }
    | { kind: "databases"; names: string[]; switchedAt: string }
    | { kind: "object-saved"; bucket: string; name: string; description: string; file: string }
    | { kind: "object-new"; bucket: string; name: string }
    | { kind: "streams"; before: StreamSettings[]; created: string[] }
    | { kind: "keyspace"; service: string; prefix: string; previous: string[] }
    | { kind: "s3-bucket-new"; service: string; bucket: string }
    | { kind: "s3-saved"; service: string; bucket: string; key: string; file: string }
    | { kind: "s3-new"; service: string; bucket: string; key: string }
    | { kind: "committed" };

const JOURNAL_FILE = "journal.jsonl";
const LOCK_FILE = "lock";

/** Where the stack's restore journal lives. */
export function journalDir(stack: string, env: NodeJS.ProcessEnv = process.env): string {
    const state =
        env.BKLITE_STATE_DIR || path.join(env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state"), "bklite");
    return path.join(state, "restores", stack);
}

export class RestoreJournal {
    private saved = 0;

    private constructor(
        public readonly dir: string,
        private readonly fd: number,
    ) {}

    /**
     * Takes the stack's journal: refuses while another process holds it; a journal left by a process that is gone
     * is handed back as it is (`pending`), for the caller to finish or undo before anything else.
     */
    static open(dir: string): RestoreJournal {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        fs.chmodSync(dir, 0o700);
        takePidLock(
            path.join(dir, LOCK_FILE),
            (pid) => `another bklite restore of this stack is running (pid ${pid}, journal ${dir}): wait for it to end`,
        );
        const fd = fs.openSync(path.join(dir, JOURNAL_FILE), "a", 0o600);
        return new RestoreJournal(dir, fd);
    }

    /** Whether a journal of an unfinished restore is in `dir`. */
    static pending(dir: string): boolean {
        return fs.existsSync(path.join(dir, JOURNAL_FILE)) && fs.statSync(path.join(dir, JOURNAL_FILE)).size > 0;
    }

    /** Records an event durably before what it describes is done. */
    append(event: JournalEvent): void {
        fs.writeSync(this.fd, `${JSON.stringify(event)}\n`);
        fs.fsyncSync(this.fd);
    }

    /** What was recorded, in order; a last line cut short by a kill is what was not begun. */
    events(): JournalEvent[] {
        const lines = fs.readFileSync(path.join(this.dir, JOURNAL_FILE), "utf8").split("\n");
        const events: JournalEvent[] = [];
        for (const line of lines.filter((l) => l !== "")) {
            try {
                events.push(JSON.parse(line) as JournalEvent);
            } catch {
                break;
            }
        }
        return events;
    }

    /** A new private file for a copy of what is replaced, relative to the journal. */
    newCopy(kind: string): { relative: string; file: string } {
        const relative = path.join(
            "saved",
            kind,
            `${String(++this.saved).padStart(6, "0")}-${crypto.randomBytes(3).toString("hex")}`,
        );
        const file = path.join(this.dir, relative);
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        return { relative, file };
    }

    /** The absolute path of a copy the journal names. */
    copyPath(relative: string): string {
        return path.join(this.dir, relative);
    }

    /** The restore is over, one way or the other: its journal and copies go. */
    remove(): void {
        fs.closeSync(this.fd);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** Leaves the journal for the next restore (something could not be finished or undone). */
    release(): void {
        fs.closeSync(this.fd);
        fs.rmSync(path.join(this.dir, LOCK_FILE), { force: true });
    }
}
