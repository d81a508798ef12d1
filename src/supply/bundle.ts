/**
 * Image bundles: one `docker save` archive per image ref, `images.sha256` to verify them, and `images.json`
 * saying which refs each archive holds. Made on a connected machine, loaded on the offline host.
 */
import * as fs from "fs";
import * as path from "path";
import { readArchiveManifest } from "./archive";
import { CHECKSUM_FILE, formatChecksums, parseChecksums, sha256File } from "./checksums";
import { DockerImages, normaliseRef } from "./dockerCli";
import { resolveImageRef } from "./imageRefs";
import { compareStrings } from "../util/json";

export const MANIFEST_FILE = "images.json";

export interface BundleArchive {
    file: string;
    refs: string[];
    imageId: string;
}

export interface BundleManifest {
    version: 1;
    archives: BundleArchive[];
}

export type Log = (line: string) => void;

/** The archive file an image ref is saved to: the ref with anything but [A-Za-z0-9._-] folded to `_`. */
export function archiveName(ref: string): string {
    return `${ref.replace(/[^A-Za-z0-9._-]+/g, "_")}.tar`;
}

/** Human-readable byte count. */
export function formatBytes(bytes: number): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Reads a bundle's manifest, or undefined when the directory has none. */
export function readBundleManifest(dir: string): BundleManifest | undefined {
    const file = path.join(dir, MANIFEST_FILE);
    if (!fs.existsSync(file)) {
        return undefined;
    }
    const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as BundleManifest;
    if (manifest.version !== 1 || !Array.isArray(manifest.archives)) {
        throw new Error(`${file} is not a bundle manifest of version 1`);
    }
    return manifest;
}

/** The refs a bundle provides (from its manifest, when it has checksums to load by), normalised as Docker prints them. */
export function bundledRefs(dir: string): Set<string> {
    if (!fs.existsSync(path.join(dir, CHECKSUM_FILE))) {
        return new Set();
    }
    const manifest = readBundleManifest(dir);
    return new Set((manifest?.archives ?? []).flatMap((a) => a.refs.map(normaliseRef)));
}

function writeAtomically(file: string, content: string): void {
    const partial = `${file}.partial`;
    fs.writeFileSync(partial, content);
    fs.renameSync(partial, file);
}

export interface BundleResult {
    saved: string[];
    unchanged: string[];
    removed: string[];
}

/**
 * Saves every image into `dir` under the ref the stack runs (`target`). An image the machine lacks is made from its
 * `source` (pulled if needed, then tagged as the target), so a private registry and release tag never have to be
 * reachable from the connected machine. An archive whose own manifest already holds the image is kept as it is (no
 * save, no hash). Archives an earlier bundle listed that are no longer needed are removed, so the loader never meets
 * an unlisted archive. The checksums and manifest are rewritten after every archive, so an interrupted run never
 * leaves an archive beside a stale checksum.
 */
export async function bundleImages(options: {
    images: Array<{ source: string; target: string }>;
    dir: string;
    docker: DockerImages;
    log: Log;
}): Promise<BundleResult> {
    const { dir, docker, log } = options;
    // Code-unit order, not the locale's: the manifest must not depend on the machine it is made on.
    const images = [...new Map(options.images.map((i) => [i.target, i.source])).entries()].sort(([a], [b]) =>
        compareStrings(a, b),
    );
    fs.mkdirSync(dir, { recursive: true });
    const checksumPath = path.join(dir, CHECKSUM_FILE);
    const previous = fs.existsSync(checksumPath)
        ? parseChecksums(fs.readFileSync(checksumPath, "utf8"), checksumPath)
        : new Map<string, string>();
    const bundle: BundleState = {
        dir,
        previous,
        sums: new Map(),
        archives: [],
        needed: images.map(([t]) => archiveName(t)),
    };
    const result: BundleResult = { saved: [], unchanged: [], removed: [] };
    let local = await docker.inventory();
    for (const [target, source] of images) {
        if (!local.has(normaliseRef(target))) {
            await makeTarget(docker, source, target, local, log);
            local = await docker.inventory();
        }
        const imageId = local.get(normaliseRef(target));
        if (!imageId) {
            throw new Error(`${target} is not on this machine even after pulling ${source}`);
        }
        const saved = await saveArchive(bundle, docker, target, imageId, log);
        result[saved ? "saved" : "unchanged"].push(target);
    }
    for (const file of previous.keys()) {
        if (!bundle.sums.has(file) && fs.existsSync(path.join(dir, file))) {
            fs.rmSync(path.join(dir, file));
            result.removed.push(file);
            log(`removed  ${file} (no longer needed by the stack)`);
        }
    }
    persist(bundle);
    return result;
}

/** A bundle being written: the checksums it had, those of the archives done so far, and what it needs. */
interface BundleState {
    dir: string;
    previous: ReadonlyMap<string, string>;
    sums: Map<string, string>;
    archives: BundleArchive[];
    /** The archive files the stack's images need. */
    needed: string[];
}

/** Writes what is known so far: finished archives, plus earlier entries not yet reached (still valid). */
function persist(bundle: BundleState): void {
    const pending = new Map(
        [...bundle.previous].filter(([file]) => !bundle.sums.has(file) && bundle.needed.includes(file)),
    );
    writeAtomically(path.join(bundle.dir, CHECKSUM_FILE), formatChecksums(new Map([...pending, ...bundle.sums])));
    const manifest: BundleManifest = {
        version: 1,
        archives: [...bundle.archives].sort((a, b) => compareStrings(a.file, b.file)),
    };
    writeAtomically(path.join(bundle.dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Makes `target` from `source` on this machine: pulled if missing, then tagged as the ref the stack runs. */
async function makeTarget(
    docker: DockerImages,
    source: string,
    target: string,
    local: ReadonlyMap<string, string>,
    log: Log,
) {
    if (!local.has(normaliseRef(source))) {
        log(`pulling  ${source}`);
        await docker.pull(source);
    }
    if (source !== target) {
        await docker.tag(source, target);
        log(`tagged   ${source} as ${target}`);
    }
}

/**
 * The image's archive: kept when it holds this image and still matches its checksum (an archive damaged in place is
 * redone), saved otherwise. True when it was saved.
 */
async function saveArchive(bundle: BundleState, docker: DockerImages, target: string, imageId: string, log: Log) {
    const file = archiveName(target);
    const archivePath = path.join(bundle.dir, file);
    const before = bundle.previous.get(file);
    if (
        before !== undefined &&
        fs.existsSync(archivePath) &&
        holds(archivePath, target, imageId) &&
        (await sha256File(archivePath)) === before
    ) {
        bundle.sums.set(file, before);
        bundle.archives.push({ file, refs: [target], imageId });
        log(`unchanged ${target} (${file})`);
        return false;
    }
    const started = Date.now();
    const partial = `${archivePath}.partial`;
    try {
        await docker.save([target], partial);
        bundle.sums.set(file, await sha256File(partial));
        fs.renameSync(partial, archivePath);
    } finally {
        fs.rmSync(partial, { force: true });
    }
    bundle.archives.push({ file, refs: [target], imageId });
    persist(bundle);
    const size = formatBytes(fs.statSync(archivePath).size);
    log(`saved    ${target} -> ${file} (${size}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return true;
}

/** True when the archive's own manifest restores `ref` as `imageId`. */
function holds(archivePath: string, ref: string, imageId: string): boolean {
    try {
        return readArchiveManifest(archivePath).some(
            (image) => image.imageId === imageId && image.repoTags.map(normaliseRef).includes(normaliseRef(ref)),
        );
    } catch {
        return false;
    }
}

export type LoadStatus = "loaded" | "present" | "failed" | "pushed";

export interface LoadLine {
    status: LoadStatus;
    /** The image ref, or the archive when the archive itself is at fault. */
    subject: string;
    detail: string;
}

/**
 * Loads a bundle: an archive whose manifest shows every image it holds already on the host is skipped without
 * hashing; any other archive is verified against images.sha256 first and loaded only if it matches. Unlisted and
 * corrupted archives fail by name and nothing from them is loaded. With `pushTo`, every image is then tagged the
 * way the program rewrites refs for that registry, and pushed.
 */
export async function loadBundle(options: {
    dir: string;
    docker: DockerImages;
    log: (line: LoadLine) => void;
    pushTo?: string;
}): Promise<LoadLine[]> {
    const { dir, docker } = options;
    const lines: LoadLine[] = [];
    const report = (line: LoadLine) => {
        lines.push(line);
        options.log(line);
    };
    const checksumPath = path.join(dir, CHECKSUM_FILE);
    if (!fs.existsSync(checksumPath)) {
        throw new Error(
            `${checksumPath} does not exist: make the bundle with \`bklite images bundle --stack <stack> --dir ${dir}\` on a connected machine`,
        );
    }
    const sums = parseChecksums(fs.readFileSync(checksumPath, "utf8"), checksumPath);
    for (const file of fs
        .readdirSync(dir)
        .filter((f) => /\.tar(\.gz)?$/.test(f) && !sums.has(f))
        .sort()) {
        report({
            status: "failed",
            subject: file,
            detail: `not listed in ${CHECKSUM_FILE}; nothing loaded from it (remove it, or re-make the bundle)`,
        });
    }
    const local = await docker.inventory();
    const available: string[] = [];
    for (const [file, expected] of sums) {
        available.push(...(await loadArchive(dir, file, expected, docker, local, report)));
    }
    if (options.pushTo !== undefined) {
        await pushAll(docker, available, options.pushTo, report);
    }
    return lines;
}

/**
 * One archive: skipped without hashing when the host has every image it holds; loaded when it matches its checksum;
 * failed by name otherwise. Returns the refs it made available.
 */
async function loadArchive(
    dir: string,
    file: string,
    expected: string,
    docker: DockerImages,
    local: ReadonlyMap<string, string>,
    report: (line: LoadLine) => void,
): Promise<string[]> {
    const archivePath = path.join(dir, file);
    if (!fs.existsSync(archivePath)) {
        report({ status: "failed", subject: file, detail: `listed in ${CHECKSUM_FILE} but missing from ${dir}` });
        return [];
    }
    let images: ReturnType<typeof readArchiveManifest> | undefined;
    let unreadable: string | undefined;
    try {
        images = readArchiveManifest(archivePath);
    } catch (err) {
        unreadable = (err as Error).message;
    }
    const tags = (images ?? []).flatMap((i) => i.repoTags);
    if (
        images &&
        tags.length > 0 &&
        images.every((i) => i.repoTags.every((t) => local.get(normaliseRef(t)) === i.imageId))
    ) {
        tags.forEach((tag) =>
            report({ status: "present", subject: tag, detail: `already on the host (${file} not hashed)` }),
        );
        return tags;
    }
    const started = Date.now();
    const actual = await sha256File(archivePath);
    const refused =
        actual !== expected
            ? `corrupted: its sha256 is ${actual}, ${CHECKSUM_FILE} says ${expected}; nothing loaded from it`
            : unreadable !== undefined || tags.length === 0
              ? `matches ${CHECKSUM_FILE} but ${unreadable ?? "tags no image"}; nothing loaded from it`
              : undefined;
    if (refused !== undefined) {
        report({ status: "failed", subject: file, detail: refused });
        return [];
    }
    try {
        await docker.load(archivePath);
    } catch (err) {
        report({ status: "failed", subject: file, detail: (err as Error).message });
        return [];
    }
    const size = formatBytes(fs.statSync(archivePath).size);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    tags.forEach((tag) => report({ status: "loaded", subject: tag, detail: `from ${file} (${size}, ${seconds} s)` }));
    return tags;
}

/** Tags every available image the way the program rewrites refs for `registry`, and pushes it. */
async function pushAll(docker: DockerImages, available: string[], registry: string, report: (line: LoadLine) => void) {
    for (const ref of [...new Set(available)].sort()) {
        const target = resolveImageRef("", ref, { registry });
        try {
            if (target !== ref) {
                await docker.tag(ref, target);
            }
            await docker.push(target);
            report({ status: "pushed", subject: target, detail: `from ${ref}` });
        } catch (err) {
            report({ status: "failed", subject: target, detail: `push failed: ${(err as Error).message}` });
        }
    }
}
