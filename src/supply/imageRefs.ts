/**
 * Image references: the one place where a service's default image becomes the ref a stack uses.
 * The program, `bklite images bundle|load --push` and the audit all call `resolveImageRef`, so a
 * bundle always holds exactly the refs the containers ask for.
 */

/** `images` config: every field optional. */
export interface ImagesConfig {
    /** Private registry prefix, e.g. `aiharbor.msxf.local/aihpc`. Every ref is rewritten under it. */
    registry?: string;
    /** One release tag applied to every image that has no tag of its own from an override. */
    tag?: string;
    /** Per service: a full replacement ref. */
    overrides?: Record<string, string>;
    /** Directory of the offline image bundle, relative to the project (default `assets/images`). */
    bundleDir?: string;
}

/** Where `bklite images bundle` puts the bundle and `pulumi up` looks for it, unless `images.bundleDir` says. */
export const DEFAULT_BUNDLE_DIR = "assets/images";

/** A parsed image reference. `registry` is undefined for Docker Hub refs written without a host. */
export interface ImageRef {
    registry?: string;
    repository: string;
    tag?: string;
    digest?: string;
}

const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST_PATTERN = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_PATTERN =
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$|^\[[0-9A-Fa-f:]+\](?::[0-9]+)?$/;

/** Docker Hub's implicit namespace for official images; dropped when a ref moves to a private registry. */
const DOCKER_HUB_OFFICIAL = "library/";

/** True when the first path component names a registry host (it has a dot or port, or is localhost). */
function looksLikeRegistry(component: string): boolean {
    return component.includes(".") || component.includes(":") || component === "localhost" || component.startsWith("[");
}

/** Parses `[registry/]repository[:tag][@digest]`; returns a problem text instead of throwing. */
export function parseImageRef(ref: string): ImageRef | string {
    if (ref.trim() !== ref || ref === "") {
        return "an image ref must be a non-empty string without surrounding spaces";
    }
    let rest = ref;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST_PATTERN.test(digest)) {
            return `'${digest}' is not a valid digest (expected algorithm:hex, e.g. sha256:…)`;
        }
    }
    let tag: string | undefined;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG_PATTERN.test(tag)) {
            return `'${tag}' is not a valid tag`;
        }
    }
    const components = rest.split("/");
    let registry: string | undefined;
    if (components.length > 1 && looksLikeRegistry(components[0])) {
        registry = components.shift();
        if (!REGISTRY_PATTERN.test(registry!)) {
            return `'${registry}' is not a valid registry host`;
        }
    }
    if (components.length === 0 || !components.every((c) => PATH_COMPONENT.test(c))) {
        return `'${components.join("/")}' is not a valid repository name (lowercase letters, digits and . _ - separators)`;
    }
    return { registry, repository: components.join("/"), tag, digest };
}

/** Formats a parsed ref back into its canonical string. */
export function formatImageRef(ref: ImageRef): string {
    return (
        (ref.registry ? `${ref.registry}/` : "") +
        ref.repository +
        (ref.tag ? `:${ref.tag}` : "") +
        (ref.digest ? `@${ref.digest}` : "")
    );
}

/** Validates a registry prefix such as `harbor.local/project`: a host, then optional path components. */
export function checkRegistryPrefix(prefix: string): string | undefined {
    const [host, ...path] = prefix.split("/");
    if (!REGISTRY_PATTERN.test(host) || !looksLikeRegistry(host)) {
        return `'${prefix}' must start with a registry host such as harbor.example.local or 10.0.0.5:5000`;
    }
    if (!path.every((c) => PATH_COMPONENT.test(c))) {
        return `'${prefix}' has an invalid path after the host (lowercase letters, digits and . _ - separators)`;
    }
    return undefined;
}

/** bk-lite's own images (`bklite/server`, `bklite/mlflow`, ...): the ones a release tag names. */
const OWN_REPOSITORY = /^bklite\/[^/]+$/;

/**
 * Whether a service's default image is one of bk-lite's own, seen past the registry it may already have been moved
 * under (`harbor.local/x/bklite/server` under `harbor.local/x`); third-party images keep their pinned tags.
 */
export function takesReleaseTag(defaultRef: string, registry?: string): boolean {
    const parsed = parseImageRef(defaultRef);
    if (typeof parsed === "string") {
        return false;
    }
    const prefix = registry?.replace(/\/+$/, "");
    const full = parsed.registry ? `${parsed.registry}/${parsed.repository}` : parsed.repository;
    const repository = prefix && full.startsWith(`${prefix}/`) ? full.slice(prefix.length + 1) : parsed.repository;
    return OWN_REPOSITORY.test(repository);
}

/**
 * Turns a service's default image into the ref the stack uses:
 * 1. `overrides[service]` replaces the default;
 * 2. `tag`, the release tag, replaces the tag of bk-lite's own images (takesReleaseTag), unless the ref came from
 *    an override that has its own tag; third-party images keep theirs;
 * 3. `registry` moves the repository under the registry prefix, dropping any other registry host and Docker
 *    Hub's `library/` namespace (`postgres:15` -> `<registry>/postgres:15`, `bklite/server:v1` ->
 *    `<registry>/bklite/server:v1`); a ref already under the prefix is left where it is.
 * Throws on a malformed ref; config validation reports those first, with the key to fix.
 */
export function resolveImageRef(service: string, defaultRef: string, images: ImagesConfig = {}): string {
    const override = images.overrides?.[service];
    const parsed = parseImageRef(override ?? defaultRef);
    if (typeof parsed === "string") {
        throw new Error(`image for service '${service}': ${parsed}`);
    }
    const ref: ImageRef = { ...parsed };
    if (images.tag && takesReleaseTag(defaultRef, images.registry) && !(override !== undefined && parsed.tag)) {
        ref.tag = images.tag;
    }
    if (images.registry) {
        const prefix = images.registry.replace(/\/+$/, "");
        if (!underRegistry(ref, prefix)) {
            const repository =
                ref.registry === undefined && ref.repository.startsWith(DOCKER_HUB_OFFICIAL)
                    ? ref.repository.slice(DOCKER_HUB_OFFICIAL.length)
                    : ref.repository;
            const [host, ...path] = prefix.split("/");
            ref.registry = host;
            ref.repository = [...path, repository].join("/");
        }
    }
    return formatImageRef(ref);
}

function underRegistry(ref: ImageRef, prefix: string): boolean {
    const current = ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
    return current.startsWith(`${prefix.replace(/\/+$/, "")}/`);
}

/** True when the ref is under the registry prefix (`<prefix>/...`); false for a malformed ref. */
export function isUnderRegistry(ref: string, prefix: string): boolean {
    const parsed = parseImageRef(ref);
    return typeof parsed !== "string" && underRegistry(parsed, prefix);
}

/** The tag a container runtime would use: an explicit tag, or `latest` when neither tag nor digest is given. */
export function effectiveTag(ref: string): string | undefined {
    const parsed = parseImageRef(ref);
    if (typeof parsed === "string") {
        return undefined;
    }
    if (parsed.tag) {
        return parsed.tag;
    }
    return parsed.digest ? undefined : "latest";
}

/** True when a ref resolves to `latest` (written or implied), which an offline site can never reproduce. */
export function isFloatingLatest(ref: string): boolean {
    return effectiveTag(ref) === "latest";
}
