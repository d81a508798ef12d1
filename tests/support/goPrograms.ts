/**
 * Real programs the tests run that registries ship only as Go modules: built here with `go install` from the Go
 * module proxy at an exact version, statically (CGO off) so they run in the busybox images the tests make, and
 * cached by module and version (BKLITE_TEST_CACHE, default ~/.cache/bklite-tests), so a machine builds each once.
 * Two test runs at once build it once: the second waits for the first's lock.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { requireBinary } from "./processes";
import { cacheDir, cachedDir } from "./testCache";

export interface GoProgram {
    /** The main package's import path. */
    module: string;
    version: string;
    binary: string;
    /** Build tags (Telegraf builds only the plugins its `custom` tag names). */
    tags?: string[];
    /** Why the checksum database is not consulted for this one, when it is not. */
    noSumDb?: string;
}

/** versitygw: an S3 server over a directory, the stand-in for MinIO (whose server the module proxy does not serve). */
export const VERSITYGW: GoProgram = {
    module: "github.com/versity/versitygw/cmd/versitygw",
    version: "v1.8.0",
    binary: "versitygw",
};

/**
 * VictoriaLogs, the real program (the image pins v1.25.0, which the proxy does not serve; the API the stack uses,
 * /health and the Elasticsearch bulk and LogsQL endpoints, is the same).
 */
export const VICTORIA_LOGS: GoProgram = {
    module: "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs",
    version: "v1.52.1",
    binary: "victoria-logs",
};

/** Telegraf at the image's version, with exactly the plugins the program's telegraf.conf uses. */
export const TELEGRAF: GoProgram = {
    module: "github.com/influxdata/telegraf/cmd/telegraf",
    version: "v1.32.3",
    binary: "telegraf",
    tags: ["custom", "inputs.nats_consumer", "outputs.influxdb", "outputs.health", "parsers.influx"],
    noSumDb: "the checksum database does not answer for its github.com/influxdata/tail pseudo-version (404)",
};

/** The program's binary, built when this machine has not built this version yet. */
export function goProgram(program: GoProgram, log: (line: string) => void = () => undefined): string {
    const tags = program.tags
        ? `-${crypto.createHash("sha256").update(program.tags.join(",")).digest("hex").slice(0, 8)}`
        : "";
    const dir = path.join(cacheDir(), "go", `${program.binary}-${program.version}${tags}`);
    cachedDir(dir, log, (staging) => {
        log(`building ${program.module}@${program.version} (once per machine; cached in ${dir})`);
        execFileSync(
            requireBinary("go"),
            [
                "install",
                "-trimpath",
                "-ldflags=-s -w",
                ...(program.tags ? ["-tags", program.tags.join(",")] : []),
                `${program.module}@${program.version}`,
            ],
            {
                env: {
                    ...process.env,
                    CGO_ENABLED: "0",
                    GOBIN: staging,
                    GOFLAGS: "-mod=mod",
                    ...(program.noSumDb ? { GOSUMDB: "off" } : {}),
                },
                stdio: ["ignore", "ignore", "pipe"],
                timeout: 20 * 60 * 1000,
            },
        );
    });
    return path.join(dir, program.binary);
}

/**
 * The agent probe (tests/support/agentProbe): what an agent host does on NATS, with the NATS client bk-lite's
 * nats-executor is built with. Built from this checkout's source, cached by the source's hash.
 */
export function agentProbe(log: (line: string) => void = () => undefined): string {
    const source = path.join(__dirname, "agentProbe");
    const hash = crypto.createHash("sha256");
    for (const file of ["go.mod", "go.sum", "main.go"]) {
        hash.update(fs.readFileSync(path.join(source, file)));
    }
    const dir = path.join(cacheDir(), "go", `agentprobe-${hash.digest("hex").slice(0, 12)}`);
    cachedDir(dir, log, (staging) => {
        log(`building the agent probe (nats.go as bk-lite's nats-executor pins it; cached in ${dir})`);
        execFileSync(requireBinary("go"), ["build", "-trimpath", "-o", path.join(staging, "agentprobe"), "."], {
            cwd: source,
            env: { ...process.env, CGO_ENABLED: "0" },
            stdio: ["ignore", "ignore", "pipe"],
            timeout: 10 * 60 * 1000,
        });
    });
    return path.join(dir, "agentprobe");
}
