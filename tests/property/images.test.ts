import * as assert from "assert";
import * as fc from "fast-check";
import {
    formatImageRef,
    isFloatingLatest,
    parseImageRef,
    resolveImageRef,
    takesReleaseTag,
} from "../../src/supply/imageRefs";

const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,6})?$/);
const repository = fc.array(component, { minLength: 1, maxLength: 3 }).map((c) => c.join("/"));
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);
const host = fc.oneof(
    fc.tuple(component, component).map(([a, b]) => `${a}.${b}`.replace(/[._-]+/g, ".")),
    fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 65535 })).map(([n, p]) => `10.0.0.${n}:${p}`),
);
const registryPrefix = fc.tuple(host, fc.array(component, { maxLength: 2 })).map(([h, path]) => [h, ...path].join("/"));
const imageRef = fc
    .record({
        registry: fc.option(host, { nil: undefined }),
        repository,
        tag: fc.option(tag, { nil: undefined }),
        digest: fc.option(digest, { nil: undefined }),
    })
    .map((r) => formatImageRef(r));

describe("image refs (property)", () => {
    it("parse and format round-trip", () => {
        fc.assert(
            fc.property(imageRef, (ref) => {
                const parsed = parseImageRef(ref);
                assert.notStrictEqual(typeof parsed, "string", `${ref}: ${String(parsed)}`);
                assert.strictEqual(formatImageRef(parsed as Exclude<typeof parsed, string>), ref);
            }),
        );
    });

    it("with a registry, every resolved ref is under it", () => {
        fc.assert(
            fc.property(imageRef, registryPrefix, fc.option(tag, { nil: undefined }), (ref, registry, releaseTag) => {
                const resolved = resolveImageRef("server", ref, { registry, tag: releaseTag });
                assert.ok(resolved.startsWith(`${registry}/`), `${resolved} is under ${registry}`);
            }),
        );
    });

    it("resolving twice changes nothing (the CLI re-resolves what the program resolved)", () => {
        fc.assert(
            fc.property(
                imageRef,
                fc.option(registryPrefix, { nil: undefined }),
                fc.option(tag, { nil: undefined }),
                (ref, registry, releaseTag) => {
                    const images = { registry, tag: releaseTag };
                    const once = resolveImageRef("web", ref, images);
                    assert.strictEqual(resolveImageRef("web", once, images), once);
                },
            ),
        );
    });

    const bkliteRef = fc
        .record({
            name: component,
            tag: fc.option(tag, { nil: undefined }),
            digest: fc.option(digest, { nil: undefined }),
        })
        .map((r) => formatImageRef({ repository: `bklite/${r.name}`, tag: r.tag, digest: r.digest }));

    it("a release tag replaces the tag of bk-lite's own images, keeps the repository and any digest", () => {
        fc.assert(
            fc.property(bkliteRef, tag, fc.option(registryPrefix, { nil: undefined }), (ref, releaseTag, registry) => {
                const before = parseImageRef(ref) as Exclude<ReturnType<typeof parseImageRef>, string>;
                const after = parseImageRef(
                    resolveImageRef("server", ref, { tag: releaseTag, registry }),
                ) as typeof before;
                assert.strictEqual(after.tag, releaseTag);
                assert.ok(after.repository.endsWith(before.repository));
                assert.strictEqual(after.digest, before.digest);
            }),
        );
    });

    it("third-party images keep their pinned tags under a release tag, wherever the registry puts them", () => {
        fc.assert(
            fc.property(imageRef, tag, fc.option(registryPrefix, { nil: undefined }), (ref, releaseTag, registry) => {
                fc.pre(!takesReleaseTag(ref));
                const before = parseImageRef(ref) as Exclude<ReturnType<typeof parseImageRef>, string>;
                const after = parseImageRef(
                    resolveImageRef("nats", ref, { tag: releaseTag, registry }),
                ) as typeof before;
                assert.strictEqual(after.tag, before.tag);
                assert.strictEqual(after.digest, before.digest);
            }),
        );
        // A registry whose path is itself `bklite` is not mistaken for bk-lite's own repository.
        assert.strictEqual(
            resolveImageRef("postgres", "postgres:15.10", { registry: "harbor.local/bklite", tag: "huangpu-v1.0" }),
            "harbor.local/bklite/postgres:15.10",
        );
        const moved = "harbor.local/bklite/postgres:15.10";
        assert.strictEqual(resolveImageRef("postgres", moved, { registry: "harbor.local/bklite", tag: "x" }), moved);
    });

    it("an override replaces the default image and keeps its own tag over the release tag", () => {
        fc.assert(
            fc.property(bkliteRef, repository, tag, tag, (defaultRef, overrideRepo, overrideTag, releaseTag) => {
                const override = `${overrideRepo}:${overrideTag}`;
                const resolved = resolveImageRef("server", defaultRef, {
                    tag: releaseTag,
                    overrides: { server: override },
                });
                assert.strictEqual(resolved, override);
                const other = resolveImageRef("web", defaultRef, { tag: releaseTag, overrides: { server: override } });
                assert.strictEqual((parseImageRef(other) as { tag?: string }).tag, releaseTag);
            }),
        );
    });

    it("drops Docker Hub's library/ namespace and any other registry host under a private registry", () => {
        assert.strictEqual(
            resolveImageRef("postgres", "postgres:15.10", { registry: "aiharbor.msxf.local/aihpc", tag: "v0.3.5" }),
            "aiharbor.msxf.local/aihpc/postgres:15.10",
        );
        assert.strictEqual(
            resolveImageRef("postgres", "library/postgres:15", { registry: "r.local" }),
            "r.local/postgres:15",
        );
        assert.strictEqual(
            resolveImageRef("server", "ghcr.io/tencentblueking/bk-lite/server:v1", { registry: "r.local:5000/x" }),
            "r.local:5000/x/tencentblueking/bk-lite/server:v1",
        );
    });

    it("treats a ref without tag or digest as latest", () => {
        fc.assert(
            fc.property(repository, (repo) => {
                assert.strictEqual(isFloatingLatest(repo), true);
                assert.strictEqual(isFloatingLatest(`${repo}:latest`), true);
                assert.strictEqual(isFloatingLatest(`${repo}:v1.2.3`), false);
            }),
        );
    });
});
