/**
 * Real programs the tests run that registries ship only as Go modules: built here with `go install` from the Go
 * module proxy at an exact version, statically (CGO off) so they run in the busybox images the tests make, and
 * cached by module and version (BKLITE_TEST_CACHE, default ~/.cache/bklite-tests), so a machine builds each once.
 * Two test runs at once build it once: the second waits for the first's lock.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { requireBinary } from "./processes";
import { cacheDir, cachedDir } from "./testCache";

/** versitygw: an S3 server over a directory, the stand-in for MinIO (whose server the module proxy does not serve). */
export const VERSITYGW = {
    module: "github.com/versity/versitygw/cmd/versitygw",
    version: "v1.8.0",
    binary: "versitygw",
};

/** The program's binary, built when this machine has not built this version yet. */
export function goProgram(program: typeof VERSITYGW, log: (line: string) => void = () => undefined): string {
    const dir = path.join(cacheDir(), "go", `${program.binary}-${program.version}`);
    cachedDir(dir, log, (staging) => {
        log(`building ${program.module}@${program.version} (once per machine; cached in ${dir})`);
        execFileSync(
            requireBinary("go"),
            ["install", "-trimpath", "-ldflags=-s -w", `${program.module}@${program.version}`],
            {
                env: { ...process.env, CGO_ENABLED: "0", GOBIN: staging, GOFLAGS: "-mod=mod" },
                stdio: ["ignore", "ignore", "pipe"],
                timeout: 20 * 60 * 1000,
            },
        );
    });
    return path.join(dir, program.binary);
}
