/**
 * Stand-in images for the services the end-to-end test runs, built here (no registry is reachable) from Debian's
 * own binaries: one root filesystem holding busybox, PostgreSQL 15, nats-server, Redis and Node.js with the
 * shared libraries each needs, imported once, then one image per service with the entrypoint, command and
 * environment of the image it stands in for (the scripts in standins/). Every image is labelled
 * `io.bklite.stand-in=<the image it stands in for>`. Tagged by a digest of their content, so a run reuses what an
 * earlier run built, and two runs at once build the same thing.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { schemaSql } from "./bkliteSchema";
import { docker } from "./docker";
import { requireBinary, tempDir } from "./processes";

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

/** What a service's stand-in runs, and which official image's contract it honours. */
export interface StandInImage {
    standsFor: string;
    entrypoint: string[];
    cmd?: string[];
    env?: Record<string, string>;
    workdir?: string;
}

export const STAND_INS: Readonly<Record<string, StandInImage>> = {
    postgres: {
        standsFor: "postgres:15.10",
        entrypoint: ["/standin/postgres-entrypoint.sh"],
        cmd: ["postgres"],
        env: { PGDATA: "/var/lib/postgresql/data" },
    },
    nats: {
        standsFor: "nats:2.10.25-alpine",
        entrypoint: ["/standin/nats-entrypoint.sh"],
        cmd: ["nats-server", "--config", "/etc/nats/nats-server.conf"],
    },
    redis: {
        standsFor: "redis:5.0.14",
        entrypoint: ["/standin/redis-entrypoint.sh"],
        cmd: ["redis-server"],
        workdir: "/data",
    },
    server: { standsFor: "bklite/server:huangpu-v1.0", entrypoint: ["node", "/standin/server.js"] },
    web: { standsFor: "bklite/web:huangpu-v1.0", entrypoint: ["/standin/web-entrypoint.sh"] },
    traefik: { standsFor: "traefik:3.3.3", entrypoint: ["/standin/traefik-entrypoint.sh"], cmd: ["traefik"] },
    "nats-executor": { standsFor: "bklite/nats-executor:huangpu-v1.0", entrypoint: ["/opt/startup.sh"] },
};

type Entry =
    | { kind: "file"; source: string; mode?: number }
    | { kind: "content"; content: Buffer; mode: number }
    | { kind: "link"; target: string }
    | { kind: "dir"; mode: number };

/** The root filesystem as destination path → what goes there. */
export class RootFs {
    readonly entries = new Map<string, Entry>();

    file(dest: string, source: string, mode?: number): void {
        this.entries.set(dest, { kind: "file", source: fs.realpathSync(source), mode });
        if (isElf(source)) {
            for (const lib of sharedLibraries(source)) {
                if (!this.entries.has(lib)) {
                    this.file(lib, lib);
                }
            }
        }
    }

    content(dest: string, content: string | Buffer, mode = 0o644): void {
        this.entries.set(dest, { kind: "content", content: Buffer.from(content), mode });
    }

    link(dest: string, target: string): void {
        this.entries.set(dest, { kind: "link", target });
    }

    dir(dest: string, mode = 0o755): void {
        this.entries.set(dest, { kind: "dir", mode });
    }

    /** A directory tree, files and links as they are. */
    tree(dest: string, source: string): void {
        for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
            const from = path.join(source, entry.name);
            const to = path.join(dest, entry.name);
            if (entry.isSymbolicLink()) {
                this.link(to, fs.readlinkSync(from));
            } else if (entry.isDirectory()) {
                this.tree(to, from);
            } else if (entry.isFile()) {
                this.file(to, from);
            }
        }
    }

    /** A digest of every path and what it holds: the image tag, so identical content is built once. */
    digest(): string {
        const hash = crypto.createHash("sha256");
        for (const dest of [...this.entries.keys()].sort()) {
            const e = this.entries.get(dest)!;
            const body =
                e.kind === "file"
                    ? sha256(fs.readFileSync(e.source)) + (e.mode ?? fs.statSync(e.source).mode)
                    : e.kind === "content"
                      ? sha256(e.content) + e.mode
                      : e.kind === "link"
                        ? e.target
                        : String(e.mode);
            hash.update(`${dest}\0${e.kind}\0${body}\n`);
        }
        return hash.digest("hex");
    }

    write(root: string): void {
        for (const dest of [...this.entries.keys()].sort()) {
            const e = this.entries.get(dest)!;
            const target = path.join(root, dest);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            if (e.kind === "dir") {
                fs.mkdirSync(target, { recursive: true });
                fs.chmodSync(target, e.mode);
            } else if (e.kind === "link") {
                fs.symlinkSync(e.target, target);
            } else if (e.kind === "content") {
                fs.writeFileSync(target, e.content, { mode: e.mode });
                fs.chmodSync(target, e.mode);
            } else {
                fs.copyFileSync(e.source, target);
                fs.chmodSync(target, e.mode ?? fs.statSync(e.source).mode & 0o7777);
            }
        }
    }
}

function sha256(data: Buffer): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}

function isElf(file: string): boolean {
    const fd = fs.openSync(file, "r");
    try {
        const magic = Buffer.alloc(4);
        return fs.readSync(fd, magic, 0, 4, 0) === 4 && magic.toString("latin1") === "\x7fELF";
    } finally {
        fs.closeSync(fd);
    }
}

/** The shared libraries an ELF file loads, with the dynamic loader, as absolute paths (from ldd). */
function sharedLibraries(file: string): string[] {
    let out: string;
    try {
        out = execFileSync("ldd", [file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
        return []; // static, or not a program ldd can read
    }
    return [...out.matchAll(/(?:=>\s*)?(\/[^\s]+)\s+\(0x/g)].map((m) => m[1]);
}

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
    return fsys;
}

/** Imports a root filesystem as the image `ref`, with Dockerfile-style `changes` (ENTRYPOINT, ENV, LABEL). */
export function importRootFs(fsys: RootFs, ref: string, changes: string[]): void {
    const work = tempDir("rootfs-import");
    try {
        const root = path.join(work, "root");
        fsys.write(root);
        const tarball = path.join(work, "rootfs.tar");
        execFileSync("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", root, "-cf", tarball, "."]);
        execFileSync("docker", ["import", ...changes.flatMap((c) => ["--change", c]), tarball, ref], { stdio: "pipe" });
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

export function imageExists(ref: string): boolean {
    try {
        docker("image", "inspect", "--format", "{{.Id}}", ref);
        return true;
    } catch {
        return false;
    }
}

/**
 * Builds (or finds, from an earlier run) the stand-in image of each service; returns their refs by service.
 * `log` hears what is built.
 */
export function standInImages(log: (line: string) => void = () => undefined): Record<string, string> {
    const fsys = baseRootFs();
    const digest = fsys.digest().slice(0, 16);
    const base = `bklite-standin/base:${digest}`;
    if (!imageExists(base)) {
        log(`building the stand-in root filesystem ${base}`);
        importRootFs(fsys, base, ["LABEL io.bklite.stand-in=base"]);
    }
    const refs: Record<string, string> = {};
    for (const [service, image] of Object.entries(STAND_INS)) {
        const ref = `bklite-standin/${service}:${sha256(Buffer.from(JSON.stringify([digest, image]))).slice(0, 16)}`;
        if (!imageExists(ref)) {
            log(`making ${ref}, the stand-in for ${image.standsFor}`);
            const holder = `bklite-standin-make-${service}-${process.pid}-${crypto.randomBytes(3).toString("hex")}`;
            docker("create", "--name", holder, base, "/bin/true");
            try {
                const changes = [
                    `ENTRYPOINT ${JSON.stringify(image.entrypoint)}`,
                    ...(image.cmd ? [`CMD ${JSON.stringify(image.cmd)}`] : []),
                    `ENV PATH=/usr/local/bin:/usr/lib/postgresql/${postgresVersion()}/bin:/usr/bin:/bin`,
                    ...Object.entries(image.env ?? {}).map(([k, v]) => `ENV ${k}=${v}`),
                    ...(image.workdir ? [`WORKDIR ${image.workdir}`] : []),
                    `LABEL io.bklite.stand-in=${image.standsFor}`,
                ];
                docker("commit", ...changes.flatMap((c) => ["--change", c]), holder, ref);
            } finally {
                docker("rm", "--force", holder);
            }
        }
        refs[service] = ref;
    }
    return refs;
}
