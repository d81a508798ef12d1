/** `bklite:images`: where images come from (a registry, one release tag, per-service overrides, the bundle). */
import { DEFAULT_IMAGES, SERVICES, SERVICE_NAMES } from "../../services/catalog";
import { isRecord } from "../../util/json";
import {
    ImagesConfig,
    checkRegistryPrefix,
    isFloatingLatest,
    parseImageRef,
    resolveImageRef,
} from "../../supply/imageRefs";
import { AddProblem } from "../problems";

const IMAGE_KEYS = ["registry", "tag", "overrides", "bundleDir"];

export function parseImages(value: unknown, offline: boolean, add: AddProblem): ImagesConfig {
    if (!isRecord(value)) {
        add("images", "must be an object {registry?, tag?, overrides?}", value);
        return {};
    }
    for (const key of Object.keys(value).filter((k) => !IMAGE_KEYS.includes(k))) {
        add(`images.${key}`, "is not a known images setting (registry, tag, overrides, bundleDir)");
    }
    const images: ImagesConfig = {};
    if (value.registry !== undefined) {
        const problem = typeof value.registry === "string" ? checkRegistryPrefix(value.registry) : "must be a string";
        if (problem) {
            add("images.registry", problem, value.registry);
        } else {
            images.registry = value.registry as string;
        }
    }
    if (value.bundleDir !== undefined) {
        const dir = value.bundleDir;
        if (typeof dir !== "string" || dir.trim() === "" || /[\n\r\0]/.test(dir)) {
            add("images.bundleDir", "must be a directory path, e.g. assets/images", dir);
        } else {
            images.bundleDir = dir;
        }
    }
    if (value.tag !== undefined) {
        if (typeof value.tag !== "string" || typeof parseImageRef(`x:${value.tag}`) === "string") {
            add("images.tag", "is not a valid image tag", value.tag);
        } else {
            images.tag = value.tag;
        }
    }
    if (value.overrides !== undefined) {
        const overrides = parseOverrides(value.overrides, add);
        if (overrides !== undefined) {
            images.overrides = overrides;
        }
    }
    if (offline) {
        floatingImages(images, add);
    }
    return images;
}

/** Per-service refs: each names a service, parses, and fits what the service's workload needs of its image. */
function parseOverrides(value: unknown, add: AddProblem): Record<string, string> | undefined {
    if (!isRecord(value)) {
        add("images.overrides", "must map service names to image refs", value);
        return undefined;
    }
    const overrides: Record<string, string> = {};
    for (const [service, ref] of Object.entries(value)) {
        const key = `images.overrides.${service}`;
        if (!(SERVICE_NAMES as ReadonlyArray<string>).includes(service)) {
            add(key, `names no service of the stack; services are ${SERVICE_NAMES.join(", ")}`, ref);
            continue;
        }
        const parsed = typeof ref === "string" ? parseImageRef(ref) : "must be an image ref string";
        const unfit =
            typeof parsed === "string" ? parsed : SERVICES.find((s) => s.name === service)!.checkImage?.(parsed);
        if (unfit !== undefined) {
            add(key, unfit, ref);
        } else {
            overrides[service] = ref as string;
        }
    }
    return overrides;
}

/** An offline site runs only what was bundled: one problem per key to change, naming every service it floats. */
function floatingImages(images: ImagesConfig, add: AddProblem): void {
    const latest = new Map<string, string[]>();
    for (const service of SERVICE_NAMES) {
        let resolved: string;
        try {
            resolved = resolveImageRef(service, DEFAULT_IMAGES[service], images);
        } catch {
            continue; // a malformed override, reported above
        }
        if (isFloatingLatest(resolved)) {
            const where = images.overrides?.[service] !== undefined ? `images.overrides.${service}` : "images.tag";
            latest.set(where, [...(latest.get(where) ?? []), `${service} -> ${resolved}`]);
        }
    }
    for (const [where, resolved] of latest) {
        const given = where === "images.tag" ? images.tag : images.overrides?.[where.slice("images.overrides.".length)];
        add(
            where,
            `resolves to latest (${resolved.join(", ")}); an offline site needs the pinned tag that was bundled, e.g. v0.3.5`,
            given,
        );
    }
}
