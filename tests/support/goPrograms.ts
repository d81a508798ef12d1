/**
 * Real programs the tests run that registries ship only as Go modules: built here with `go install` from the Go
 * module proxy at an exact version, statically (CGO off) so they run in the busybox images the tests make, and
 * cached by module and version (BKLITE_TEST_CACHE, default ~/.cache/bklite-tests), so a machine builds each once.
 * Two test runs at once build it once: the second waits for the first's lock.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requireBinary } from "./processes";

/** versitygw: an S3 server over a directory, the stand-in for MinIO (whose server the module proxy does not serve). */
export const VERSITYGW = {
    module: "github.com/versity/versitygw/cmd/versitygw",
    version: "v1.8.0",
    binary: "versitygw",
};

function cacheDir(): string {
    return process.env.BKLITE_TEST_CACHE ?? path.join(os.homedir(), ".cache", "bklite-tests");
}

/** Waits for a lock directory (another run building the same thing), taking it when free or stale. */
function lock(dir: string, log: (line: string) => void): () => void {
    const lockDir = `${dir}.lock`;
    const started = Date.now();
    for (;;) {
        try {
            fs.mkdirSync(lockDir, { recursive: false });
            return () => fs.rmSync(lockDir, { recursive: true, force: true });
        } catch {
            const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
            if (age > 20 * 60 * 1000) {
                fs.rmSync(lockDir, { recursive: true, force: true });
                continue;
            }
            if ((Date.now() - started) % 30000 < 1000) {
                log(`waiting for another run building ${path.basename(dir)}`);
            }
            execFileSync("sleep", ["1"]);
        }
    }
}

/** The program's binary, built when this machine has not built this version yet. */
export function goProgram(program: typeof VERSITYGW, log: (line: string) => void = () => undefined): string {
    const dir = path.join(cacheDir(), "go", `${program.binary}-${program.version}`);
    const binary = path.join(dir, program.binary);
    if (fs.existsSync(binary)) {
        return binary;
    }
    const go = requireBinary("go");
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const release = lock(dir, log);
    try {
        if (!fs.existsSync(binary)) {
            log(`building ${program.module}@${program.version} (once per machine; cached in ${dir})`);
            const staging = `${dir}.partial-${process.pid}`;
            execFileSync(go, ["install", "-trimpath", "-ldflags=-s -w", `${program.module}@${program.version}`], {
                env: { ...process.env, CGO_ENABLED: "0", GOBIN: staging, GOFLAGS: "-mod=mod" },
                stdio: ["ignore", "ignore", "pipe"],
                timeout: 20 * 60 * 1000,
            });
            fs.renameSync(staging, dir);
        }
    } finally {
        release();
    }
    return binary;
}
