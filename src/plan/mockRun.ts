/**
 * Running the program under Pulumi mocks and recording every resource with its inputs, its state and the options
 * the engine would see (parent, dependencies, retainOnDelete, protect), which `Mocks.newResource` alone omits.
 * `bklite plan` renders its plan from this; the tests assert on it.
 */
import * as pulumi from "@pulumi/pulumi";
import { unwrapSecrets } from "../util/pulumiValues";

/**
 * A resource's inputs: whatever JSON its provider takes, which tests and the audit walk by property path.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- provider inputs have no one type; callers navigate them by path
export type ResourceInputs = Record<string, any>;

export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    /** Inputs as the engine received them: secret values still wrapped. */
    rawInputs: Record<string, unknown>;
    /** Inputs with secret wrappers removed. */
    inputs: ResourceInputs;
    /** State the mock provider returned (inputs plus computed outputs), secret values still wrapped. */
    rawOutputs: Record<string, unknown>;
    parent: string;
    dependencies: string[];
    retainOnDelete: boolean;
    protect: boolean;
    /** Replaced by deleting the old one first (needed by anything with a fixed name or host port). */
    deleteBeforeReplace: boolean;
    /** The customTimeouts option, e.g. {create: "17m"}. */
    customTimeouts?: { create?: string; update?: string; pb_delete?: string };
    /** Properties the SDK or the program declares secret. */
    additionalSecretOutputs: string[];
    provider: string;
}

/** Outputs a provider would compute for a resource, which mocks cannot know: synthesized per type. */
export type ComputedOutputs = (type: string, name: string, inputs: ResourceInputs) => Record<string, unknown>;

type CapturedOptions = Pick<
    RecordedResource,
    | "parent"
    | "dependencies"
    | "retainOnDelete"
    | "protect"
    | "deleteBeforeReplace"
    | "customTimeouts"
    | "additionalSecretOutputs"
>;

/** Records resources; `setRecordingMocks` starts a run with one. */
export class ResourceRecorder implements pulumi.runtime.Mocks {
    public readonly resources: RecordedResource[] = [];
    private readonly options = new Map<string, CapturedOptions>();
    /** The mock monitor's URNs (type qualified by the parent's type only) to the engine's (by the whole chain). */
    private readonly engineUrns = new Map<string, string>();

    constructor(private readonly computed: ComputedOutputs) {}

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const key = `${args.type}::${args.name}`;
        const opts = this.options.get(key) ?? {
            parent: "",
            dependencies: [],
            retainOnDelete: false,
            protect: false,
            deleteBeforeReplace: false,
            additionalSecretOutputs: [],
        };
        const inputs = unwrapSecrets(args.inputs) as ResourceInputs;
        const state = { ...args.inputs, ...this.computed(args.type, args.name, inputs) };
        const engineUrn = (urn: string) => this.engineUrns.get(urn) ?? urn;
        const parent = opts.parent ? engineUrn(opts.parent) : "";
        const urn = urnOf(parent, args.type, args.name);
        this.engineUrns.set(mockUrnOf(opts.parent, args.type, args.name), urn);
        // A provider reference is `<urn>::<id>`.
        const provider = args.provider
            ? `${engineUrn(args.provider.slice(0, args.provider.lastIndexOf("::")))}${args.provider.slice(args.provider.lastIndexOf("::"))}`
            : "";
        this.resources.push({
            type: args.type,
            name: args.name,
            urn,
            custom: args.custom ?? false,
            rawInputs: args.inputs,
            inputs,
            rawOutputs: state,
            ...opts,
            provider,
            parent,
            dependencies: opts.dependencies.map(engineUrn),
        });
        return { id: args.custom ? `${args.name}-id` : undefined, state };
    }

    call(): Record<string, unknown> {
        return {};
    }

    /** Called by the wrapped monitor before `newResource`, with the request's options. */
    captureOptions(req: RegisterResourceRequest): void {
        const key = `${req.getType()}::${req.getName()}`;
        this.options.set(key, {
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            retainOnDelete:
                typeof req.hasRetainondelete === "function"
                    ? req.hasRetainondelete() && req.getRetainondelete()
                    : !!req.getRetainondelete(),
            protect: typeof req.hasProtect === "function" ? req.hasProtect() && req.getProtect() : !!req.getProtect(),
            deleteBeforeReplace: !!req.getDeletebeforereplace?.(),
            customTimeouts: req.getCustomtimeouts?.()?.toObject(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
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
            throw new Error(
                `expected one resource named ${name}, found ${found.length}: ${this.resources.map((r) => r.name).join(", ")}`,
            );
        }
        return found[0];
    }
}

/** The URN the engine gives a resource: its type qualified by its parent's qualified type (the whole chain). */
function urnOf(parentUrn: string, type: string, name: string): string {
    const qualified = parentUrn ? `${parentUrn.split("::")[2]}$${type}` : type;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

/** The URN the mock monitor gives it (qualified by the parent's own type only), as requests refer to it. */
function mockUrnOf(parentUrn: string, type: string, name: string): string {
    const qualified = parentUrn ? `${parentUrn.split("::")[2].split("$").pop()}$${type}` : type;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

/** What the mock monitor's registerResource receives: the SDK's protobuf request, of which the options are read. */
interface RegisterResourceRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getDependenciesList(): string[];
    hasRetainondelete?(): boolean;
    getRetainondelete(): boolean;
    hasProtect?(): boolean;
    getProtect(): boolean;
    getDeletebeforereplace?(): boolean;
    getCustomtimeouts?(): { toObject(): { create?: string; update?: string; pb_delete?: string } } | undefined;
    getAdditionalsecretoutputsList?(): string[];
}

/** Sets mocks for a run and wraps the mock monitor so resource options are captured too. */
export async function setRecordingMocks(
    stack: string,
    computed: ComputedOutputs,
    preview = false,
): Promise<ResourceRecorder> {
    const recorder = new ResourceRecorder(computed);
    await pulumi.runtime.setMocks(recorder, "bklite", stack, preview);
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterResourceRequest, callback: unknown): unknown;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        recorder.captureOptions(req);
        return register(req, callback);
    };
    return recorder;
}

/** Waits until every queued resource registration has reached the mocks. */
export async function settle(): Promise<void> {
    // Internal to the SDK (missing from its typings), but the only way to know the RPC queue has drained.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped internal module of the SDK
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
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

/** A program's stack outputs: values with secrets unwrapped, and which of them are secret. */
export async function stackOutputs(
    program: Record<string, unknown>,
): Promise<{ values: Record<string, unknown>; secret: Set<string> }> {
    const values: Record<string, unknown> = {};
    const secret = new Set<string>();
    for (const [key, value] of Object.entries(program)) {
        if (pulumi.Output.isInstance(value)) {
            values[key] = await valueOf(value as pulumi.Output<unknown>);
            if (await pulumi.isSecret(value as pulumi.Output<unknown>)) {
                secret.add(key);
            }
        }
    }
    return { values, secret };
}
