/**
 * Progress of a genuine wait: said when it starts, then at least every `everyMs` (30 s by default) with the time
 * waited so far and what the last attempt saw, so an operator can tell a slow start from a hang.
 */
export interface WaitProgress {
    /** Called at every attempt that has to wait; logs when a line is due. */
    note(what: string): void;
}

export function waitProgress(log: (line: string) => void, everyMs = 30000, now: () => number = Date.now): WaitProgress {
    const started = now();
    let lastSaid: number | undefined;
    return {
        note(what) {
            const at = now();
            if (lastSaid === undefined) {
                log(`waiting for ${what}`);
                lastSaid = at;
            } else if (at - lastSaid >= everyMs) {
                log(`still waiting for ${what} (${Math.round((at - started) / 1000)} s so far)`);
                lastSaid = at;
            }
        },
    };
}
