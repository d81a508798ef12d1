/**
 * Where the tests keep what they build or download once per machine (BKLITE_TEST_CACHE, default
 * ~/.cache/bklite-tests), and the lock two test runs at once share so the second waits for the first's build.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function cacheDir(): string {
    return process.env.BKLITE_TEST_CACHE || path.join(os.homedir(), ".cache", "bklite-tests");
}

/** Whether the process that took a lock is still running (a lock without its pid yet is taken just now). */
function holderAlive(lockDir: string): boolean {
    let pid: number;
    try {
        pid = Number(fs.readFileSync(path.join(lockDir, "pid"), "utf8").trim());
    } catch {
        return true; // not written yet, or the lock just went
    }
    if (!pid) {
        return true;
    }
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Waits for a lock directory (another run making the same thing), taking it when free, when the run that took it is
 * gone (killed mid-build: its pid is recorded), or when it is older than 20 minutes.
 */
export function lock(dir: string, log: (line: string) => void): () => void {
    const lockDir = `${dir}.lock`;
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const started = Date.now();
    for (;;) {
        try {
            fs.mkdirSync(lockDir, { recursive: false });
            fs.writeFileSync(path.join(lockDir, "pid"), String(process.pid));
            return () => fs.rmSync(lockDir, { recursive: true, force: true });
        } catch {
            const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
            if (age > 20 * 60 * 1000 || (fs.existsSync(lockDir) && age > 2000 && !holderAlive(lockDir))) {
                fs.rmSync(lockDir, { recursive: true, force: true });
                continue;
            }
            if ((Date.now() - started) % 30000 < 1000) {
                log(`waiting for another run making ${path.basename(dir)}`);
            }
            execFileSync("sleep", ["1"]);
        }
    }
}

/** `dir` made once by `make` (into a staging directory renamed into place), under the lock. */
export function cachedDir(dir: string, log: (line: string) => void, make: (staging: string) => void): string {
    if (fs.existsSync(dir)) {
        return dir;
    }
    const release = lock(dir, log);
    try {
        if (!fs.existsSync(dir)) {
            const staging = `${dir}.partial-${process.pid}`;
            fs.rmSync(staging, { recursive: true, force: true });
            fs.mkdirSync(staging, { recursive: true });
            make(staging);
            fs.renameSync(staging, dir);
        }
    } finally {
        release();
    }
    return dir;
}
