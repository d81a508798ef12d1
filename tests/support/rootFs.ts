/**
 * Images made here without a registry: a root filesystem described file by file (host files with the shared
 * libraries they load, contents, links, directories), imported as an image tagged by a digest of its content.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { docker } from "./docker";
import { tempDir } from "./processes";

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
