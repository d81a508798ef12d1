/**
 * Runs the program (or a component) under Pulumi mocks and records every resource with its inputs and the
 * options the engine would see (parent, dependencies, retainOnDelete), which `Mocks.newResource` alone omits.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { ConfigSource } from "../../src/config/types";
import { ResourceRecorder, setRecordingMocks as setMocksWith, settle, stackOutputs } from "../../src/plan/mockRun";
import { forgetProjectModules } from "../../src/plan/planStack";

export { ComputedOutputs, RecordedResource, ResourceRecorder, settle, valueOf } from "../../src/plan/mockRun";
export { SECRET_SIG, SIG_KEY, containsSecret, unwrapSecrets } from "../../src/util/pulumiValues";

function digest(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/** The password the mocks generate for the RandomPassword resource `name`. */
export function mockSecret(name: string): string {
    return `mock${digest(name).slice(0, 28)}`;
}

/** Outputs a provider computes, synthesized per type (mocks otherwise echo inputs and drop the rest). */
function computedOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    switch (type) {
        case "docker:index/remoteImage:RemoteImage":
            return {
                imageId: `sha256:${digest(String(inputs.name))}`,
                repoDigest: `${inputs.name}@sha256:${digest(name)}`,
            };
        case "random:index/randomPassword:RandomPassword":
            return { result: mockSecret(name), bcryptHash: `$2a$10$${digest(name).slice(0, 53)}` };
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: `-----BEGIN PRIVATE KEY-----\nmock-${name}\n-----END PRIVATE KEY-----\n`,
                publicKeyPem: `-----BEGIN PUBLIC KEY-----\nmock-${name}\n-----END PUBLIC KEY-----\n`,
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: `-----BEGIN CERTIFICATE-----\nmock-${name}\n-----END CERTIFICATE-----\n` };
        case "tls:index/certRequest:CertRequest":
            return {
                certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\nmock-${name}\n-----END CERTIFICATE REQUEST-----\n`,
            };
        default:
            // Kubernetes objects without a name get one from the engine (auto-naming): synthesize it, or inputs
            // derived from it would silently vanish.
            if (type.startsWith("kubernetes:") && inputs.metadata !== undefined && !inputs.metadata.name) {
                return { metadata: { ...inputs.metadata, name: `${name}-${digest(name).slice(0, 8)}` } };
            }
            return {};
    }
}

/** Sets mocks for a run (with the tests' synthesized provider outputs) and captures resource options too. */
export function setRecordingMocks(stack: string, preview = false): Promise<ResourceRecorder> {
    return setMocksWith(stack, computedOutputs, preview);
}

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Runs `fn` with `pulumi.log.warn` captured; returns what `fn` returned and every warning it logged. */
export async function capturingWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
    const warnings: string[] = [];
    const warn = pulumi.log.warn;
    pulumi.log.warn = async (message: string) => void warnings.push(message);
    try {
        return { result: await fn(), warnings };
    } finally {
        pulumi.log.warn = warn;
    }
}

/** The recorder of the latest runProgram, also when the program threw. */
export let lastRecorder: ResourceRecorder | undefined;

export interface ProgramRun {
    recorder: ResourceRecorder;
    /** Stack outputs with secrets unwrapped. */
    outputs: Record<string, unknown>;
    /** Which stack outputs are secret. */
    secretOutputs: Set<string>;
}

/** A config source over namespaced keys (`bklite:hostAddress`) and their string values, as the program reads them. */
export function configSource(config: Record<string, string>, secretKeys?: string[]): ConfigSource {
    const prefix = "bklite:";
    return {
        get: (key) => config[`${prefix}${key}`],
        keys: () =>
            Object.keys(config)
                .filter((k) => k.startsWith(prefix))
                .map((k) => k.slice(prefix.length)),
        isSecret: (key) => secretKeys === undefined || secretKeys.includes(`${prefix}${key}`),
        otherKeys: () => Object.keys(config).filter((k) => !k.startsWith(prefix)),
    };
}

/** The images a stack's config needs (empty when the config is invalid). */
function neededImages(config: Record<string, string>): string[] {
    const { parseStackConfig } = require("../../src/config/parse") as typeof import("../../src/config/parse");
    const { stackImages } = require("../../src/services/stack") as typeof import("../../src/services/stack");
    const result = parseStackConfig(configSource(config));
    return result.config ? stackImages(result.config) : [];
}

/**
 * Points the program's docker CLI at a stand-in whose `image ls` lists `images` (each with a fake id), so the
 * image preflight sees a Docker host with exactly those images. Returns the function that undoes it.
 */
export function fakeDockerHost(images: string[]): () => void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bklite-fake-docker-"));
    const listing = path.join(dir, "images.txt");
    fs.writeFileSync(listing, images.map((ref) => `${ref} sha256:${digest(ref)}\n`).join(""));
    const restore = setEnv({ BKLITE_DOCKER: path.join(__dirname, "bin", "docker"), FAKE_DOCKER_IMAGES: listing });
    return () => {
        restore();
        fs.rmSync(dir, { recursive: true, force: true });
    };
}

/** Sets (or, for undefined, unsets) environment variables; returns the function that puts back what was there. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
    const saved = Object.keys(vars).map((key) => [key, process.env[key]] as const);
    const put = (key: string, value: string | undefined) =>
        value === undefined ? delete process.env[key] : (process.env[key] = value);
    Object.entries(vars).forEach(([key, value]) => put(key, value));
    return () => saved.forEach(([key, value]) => put(key, value));
}

/**
 * Unless a test points BKLITE_KUBECTL at a cluster of its own, the program's cluster preflight (which fails closed)
 * reads an empty cluster from the fake kubectl: no IngressClasses, claims or StorageClasses.
 */
function fakeEmptyCluster(): () => void {
    if (process.env.BKLITE_KUBECTL !== undefined) {
        return () => undefined;
    }
    return setEnv({ BKLITE_KUBECTL: path.join(__dirname, "bin", "kubectl"), FAKE_KUBECTL_OBJECTS: "{}" });
}

/**
 * Runs index.ts for a stack with the given config (namespaced keys to strings) and records everything. The
 * Docker host holds every image the stack needs unless `hostImages` says otherwise.
 */
export async function runProgram(
    stack: string,
    config: Record<string, string>,
    options: { secretKeys?: string[]; preview?: boolean; hostImages?: string[] } = {},
): Promise<ProgramRun> {
    const restoreDocker = fakeDockerHost(options.hostImages ?? neededImages(config));
    const restoreCluster = fakeEmptyCluster();
    pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);
    const recorder = await setRecordingMocks(stack, options.preview ?? false);
    lastRecorder = recorder;
    forgetProjectModules();
    let program: Record<string, unknown>;
    try {
        program = await import(path.join(PROJECT_ROOT, "index"));
    } finally {
        restoreDocker();
        restoreCluster();
        await settle();
    }
    const { values: outputs, secret: secretOutputs } = await stackOutputs(program);
    await settle();
    return { recorder, outputs, secretOutputs };
}
