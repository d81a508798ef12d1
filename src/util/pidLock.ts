/**
 * A lock that names the process holding it: a file with its pid. A lock whose process is gone (a crash, a kill) is
 * taken over; one whose process runs is refused with the caller's message.
 */
import * as fs from "fs";
import { InputError } from "./inputError";

function isRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Takes the lock in `file`; `busy` says what to do while process `pid` holds it. Returns its release. */
export function takePidLock(file: string, busy: (pid: number) => string): () => void {
    const holder = Number(fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : NaN);
    if (Number.isInteger(holder) && holder !== process.pid && isRunning(holder)) {
        throw new InputError(busy(holder));
    }
    fs.writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
    return () => fs.rmSync(file, { force: true });
}
