/**
 * Runs the program (or a component) under Pulumi mocks and records every resource with its inputs and the
 * options the engine would see (parent, dependencies, retainOnDelete), which `Mocks.newResource` alone omits.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** Pulumi's marker key for special values (secrets, assets, resource references). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    /** Inputs as the engine received them: secret values still wrapped. */
    rawInputs: Record<string, unknown>;
    /** Inputs with secret wrappers removed. */
    inputs: Record<string, any>;
    parent: string;
    dependencies: string[];
    retainOnDelete: boolean;
    protect: boolean;
    /** The customTimeouts option, e.g. {create: "17m"}. */
    customTimeouts?: { create?: string; update?: string; pb_delete?: string };
    provider: string;
}

/** True when the value is, or contains, a secret-wrapped value. */
export function containsSecret(value: unknown): boolean {
    if (Array.isArray(value)) {
        return value.some(containsSecret);
    }
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SIG_KEY] === SECRET_SIG) {
            return true;
        }
        return Object.values(record).some(containsSecret);
    }
    return false;
}

/** Removes secret wrappers, recursively. */
export function unwrapSecrets(value: unknown): any {
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SIG_KEY] === SECRET_SIG) {
            return unwrapSecrets(record.value);
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

function digest(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/** Outputs a provider computes, synthesized per type (mocks otherwise echo inputs and drop the rest). */
function computedOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    switch (type) {
        case "docker:index/remoteImage:RemoteImage":
            return { imageId: `sha256:${digest(String(inputs.name))}`, repoDigest: `${inputs.name}@sha256:${digest(name)}` };
        case "random:index/randomPassword:RandomPassword":
            return { result: `mock${digest(name).slice(0, 28)}`, bcryptHash: `$2a$10$${digest(name).slice(0, 53)}` };
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: `-----BEGIN PRIVATE KEY-----\nmock-${name}\n-----END PRIVATE KEY-----\n`,
                publicKeyPem: `-----BEGIN PUBLIC KEY-----\nmock-${name}\n-----END PUBLIC KEY-----\n`,
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: `-----BEGIN CERTIFICATE-----\nmock-${name}\n-----END CERTIFICATE-----\n` };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\nmock-${name}\n-----END CERTIFICATE REQUEST-----\n` };
        default:
            // Kubernetes objects without a name get one from the engine (auto-naming): synthesize it, or inputs
            // derived from it would silently vanish.
            if (type.startsWith("kubernetes:") && inputs.metadata !== undefined && !inputs.metadata.name) {
                return { metadata: { ...inputs.metadata, name: `${name}-${digest(name).slice(0, 8)}` } };
            }
            return {};
    }
}

/** Records resources; use `record()` to start a run. */
export class ResourceRecorder implements pulumi.runtime.Mocks {
    public readonly resources: RecordedResource[] = [];
    private readonly options = new Map<string, Pick<RecordedResource, "parent" | "dependencies" | "retainOnDelete" | "protect" | "customTimeouts">>();

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const key = `${args.type}::${args.name}`;
        const opts = this.options.get(key) ?? { parent: "", dependencies: [], retainOnDelete: false, protect: false };
        const inputs = unwrapSecrets(args.inputs) as Record<string, any>;
        this.resources.push({
            type: args.type,
            name: args.name,
            urn: "",
            custom: args.custom ?? false,
            rawInputs: args.inputs,
            inputs,
            provider: args.provider ?? "",
            ...opts,
        });
        return { id: args.custom ? `${args.name}-id` : undefined, state: { ...args.inputs, ...computedOutputs(args.type, args.name, inputs) } };
    }

    call(_args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        return {};
    }

    /** Called by the wrapped monitor before `newResource`, with the request's options. */
    captureOptions(req: any): void {
        const key = `${req.getType()}::${req.getName()}`;
        this.options.set(key, {
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            retainOnDelete: typeof req.hasRetainondelete === "function" ? req.hasRetainondelete() && req.getRetainondelete() : !!req.getRetainondelete(),
            protect: typeof req.hasProtect === "function" ? req.hasProtect() && req.getProtect() : !!req.getProtect(),
            customTimeouts: req.getCustomtimeouts?.()?.toObject(),
        });
    }

    /** Resources of one type. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The single resource with this logical name. */
    named(name: string): RecordedResource {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) {
            throw new Error(`expected one resource named ${name}, found ${found.length}: ${this.resources.map((r) => r.name).join(", ")}`);
        }
        return found[0];
    }
}

/** Sets mocks for a run and wraps the mock monitor so resource options are captured too. */
export async function setRecordingMocks(stack: string, preview = false): Promise<ResourceRecorder> {
    const recorder = new ResourceRecorder();
    await pulumi.runtime.setMocks(recorder, "bklite", stack, preview);
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        recorder.captureOptions(req);
        return register(req, callback);
    };
    return recorder;
}

/** Waits until every queued resource registration has reached the mocks. */
export async function settle(): Promise<void> {
    // Internal to the SDK, but the only way to know the RPC queue has drained.
    const settings = require("@pulumi/pulumi/runtime/settings");
    await settings.waitForRPCs();
}

/** Resolves an output's value (undefined when unknown, as in preview). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
    return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 2000);
        output.apply((v) => {
            clearTimeout(timer);
            resolve(v);
            return v;
        });
    });
}

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Drops the project's own modules from the require cache so the program registers its resources again. */
export function forgetProjectModules(): void {
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(PROJECT_ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`)) {
            delete require.cache[key];
        }
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

/** The images a stack's config needs (empty when the config is invalid). */
function neededImages(config: Record<string, string>): string[] {
    const { parseStackConfig } = require("../../components/config/validate") as typeof import("../../components/config/validate");
    const { serviceImages } = require("../../components/app/services") as typeof import("../../components/app/services");
    const prefix = "bklite:";
    const result = parseStackConfig({
        get: (key) => config[`${prefix}${key}`],
        keys: () => Object.keys(config).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
        isSecret: () => true,
    });
    return result.config ? serviceImages(result.config) : [];
}

/**
 * Points the program's docker CLI at a stand-in whose `image ls` lists `images` (each with a fake id), so the
 * image preflight sees a Docker host with exactly those images. Returns the function that undoes it.
 */
export function fakeDockerHost(images: string[]): () => void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bklite-fake-docker-"));
    const listing = path.join(dir, "images.txt");
    fs.writeFileSync(listing, images.map((ref) => `${ref} sha256:${digest(ref)}\n`).join(""));
    const saved = { docker: process.env.BKLITE_DOCKER, images: process.env.FAKE_DOCKER_IMAGES };
    process.env.BKLITE_DOCKER = path.join(__dirname, "bin", "docker");
    process.env.FAKE_DOCKER_IMAGES = listing;
    return () => {
        for (const [key, value] of [["BKLITE_DOCKER", saved.docker], ["FAKE_DOCKER_IMAGES", saved.images]] as const) {
            if (value === undefined) {
                delete process.env[key];
            } else {
                process.env[key] = value;
            }
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
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
    pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);
    const recorder = await setRecordingMocks(stack, options.preview ?? false);
    lastRecorder = recorder;
    forgetProjectModules();
    let program: Record<string, unknown>;
    try {
        program = await import(path.join(PROJECT_ROOT, "index"));
    } finally {
        restoreDocker();
        await settle();
    }
    const outputs: Record<string, unknown> = {};
    const secretOutputs = new Set<string>();
    for (const [key, value] of Object.entries(program)) {
        if (pulumi.Output.isInstance(value)) {
            outputs[key] = await valueOf(value as pulumi.Output<unknown>);
            if (await pulumi.isSecret(value as pulumi.Output<unknown>)) {
                secretOutputs.add(key);
            }
        }
    }
    await settle();
    return { recorder, outputs, secretOutputs };
}
