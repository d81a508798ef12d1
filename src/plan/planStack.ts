/**
 * `bklite plan`: the program's desired resources for one stack, rendered under Pulumi mocks from the committed
 * stack file alone (no backend, no passphrase, nothing read from the deploy host), as stable JSON two commits
 * can be compared by.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { StackFileValues, readStackFiles, stackFilePath } from "../config/stackFiles";
import { PROJECT_ROOT } from "../util/shell";
import { mapStrings } from "../util/json";
import { mapSecrets } from "../util/pulumiValues";
import { RecordedResource, ResourceInputs, setRecordingMocks, settle, stackOutputs } from "./mockRun";
import { InputError } from "../util/inputError";

/** Version of the plan document; `bklite plan diff` refuses others. */
export const PLAN_FORMAT = 1;

/** What every secret value (secure config, secret inputs and outputs) is rendered as. */
export const SECRET_MASK = "[secret]";

/** What the absolute project directory is rendered as, so plans made in different checkouts compare equal. */
export const PROJECT_DIR_MARK = "<project>";

/** Stands in for secure config values: the plan never has the passphrase. Passes the secret validation. */
const SECURE_PLACEHOLDER = "plan-placeholder-for-an-encrypted-value";

export interface PlannedResource {
    type: string;
    name: string;
    custom: boolean;
    /** The parent's URN; absent for top-level resources. */
    parent?: string;
    /** Inputs as the program sets them, secrets masked, keys sorted. */
    inputs: Record<string, unknown>;
    /** Options that change what a deployment does (only those set). */
    options: {
        protect?: true;
        retainOnDelete?: true;
        deleteBeforeReplace?: true;
        dependsOn?: string[];
        customTimeouts?: Record<string, string>;
        provider?: string;
    };
}

export interface Plan {
    format: typeof PLAN_FORMAT;
    project: string;
    stack: string;
    /** The stack's config as the program sees it (project defaults applied), secure values masked. */
    config: Record<string, unknown>;
    /** Every resource by URN. */
    resources: Record<string, PlannedResource>;
    /** Stack outputs, secret ones masked. */
    outputs: Record<string, unknown>;
}

/** Thrown when the stack cannot be planned because of its config (exit code 2). */
export class PlanError extends InputError {}

/** Marks a value only the real provider knows. */
function computed(what: string): string {
    return `(known after deploy: ${what})`;
}

/** Marks a secret only the real provider knows (a generated password or key). */
function computedSecret(what: string): string {
    return `(secret known after deploy: ${what})`;
}

/**
 * Every secret in a plan is a stand-in: secure config is replaced before the program runs, and generated
 * passwords and keys are `computedSecret` placeholders. So a secret value built from stand-ins can be shown with
 * just the stand-ins masked (`POSTGRES_PASSWORD=[secret]`), and a change to the rest of it is visible. A secret
 * value with no stand-in in it came from somewhere else and is masked whole.
 */
const STAND_IN = /\(secret known after deploy: [^)]*\)|plan-placeholder-for-an-encrypted-value/g;

function maskStandIns(value: unknown): { value: unknown; found: boolean } {
    let found = false;
    const masked = mapStrings(value, (text) => {
        const replaced = text.replace(STAND_IN, SECRET_MASK);
        found = found || replaced !== text;
        return replaced;
    });
    return { value: masked, found };
}

/** What a provider would compute, as named placeholders (the mocks otherwise echo inputs and drop the rest). */
function plannedOutputs(type: string, name: string, inputs: ResourceInputs): Record<string, unknown> {
    switch (type) {
        case "docker:index/remoteImage:RemoteImage":
            return {
                imageId: computed(`id of image ${inputs.name}`),
                repoDigest: computed(`digest of image ${inputs.name}`),
            };
        case "random:index/randomPassword:RandomPassword":
            return { result: computedSecret("random password"), bcryptHash: computedSecret("bcrypt hash") };
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: computedSecret(`private key ${name}`),
                publicKeyPem: computed(`public key ${name}`),
            };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: computed(`certificate ${name}`) };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: computed(`certificate request ${name}`) };
        case "command:local:Command":
            // What the command prints when `pulumi up` runs it (the seedSummary output is the seeding's).
            return { stdout: computed(`output of ${name}`), stderr: computed(`errors of ${name}`) };
        default:
            // Kubernetes objects without a name are named by the engine with a random suffix.
            if (type.startsWith("kubernetes:") && inputs.metadata !== undefined && !inputs.metadata.name) {
                return { metadata: { ...inputs.metadata, name: `${name}-${computed("random suffix")}` } };
            }
            return {};
    }
}

/** Secrets masked (see STAND_IN), the checkout's own directory replaced by a mark. */
function scrub(value: unknown, projectRoot: string): unknown {
    const masked = mapSecrets(value, (wrapper) => {
        const shown = maskStandIns(wrapper.value);
        return shown.found ? shown.value : SECRET_MASK;
    });
    // The program puts the project directory only where commands run (`dir`): replace values equal to it, and
    // nothing inside other strings (a checkout at /opt must not rewrite a container path under /opt). The test
    // that renders from a copy of the checkout catches any new place it appears.
    const relocated = mapStrings(masked, (text) => (text === projectRoot ? PROJECT_DIR_MARK : text));
    // Stand-ins outside secret wrappers too, where the program embedded them as they are (a stand-in the program
    // transformed, e.g. base64-encoded, is not recognised; it is placeholder text, never a real secret).
    return maskStandIns(relocated).value;
}

function plannedResource(r: RecordedResource, projectRoot: string): PlannedResource {
    const options: PlannedResource["options"] = {};
    if (r.protect) {
        options.protect = true;
    }
    if (r.retainOnDelete) {
        options.retainOnDelete = true;
    }
    if (r.deleteBeforeReplace) {
        options.deleteBeforeReplace = true;
    }
    const dependsOn = [...new Set(r.dependencies)].sort();
    if (dependsOn.length > 0) {
        options.dependsOn = dependsOn;
    }
    const timeouts = Object.fromEntries(Object.entries(r.customTimeouts ?? {}).filter(([, v]) => !!v)) as Record<
        string,
        string
    >;
    if (Object.keys(timeouts).length > 0) {
        options.customTimeouts = timeouts;
    }
    if (r.provider) {
        // `<provider urn>::<id>`: the URN names the provider; the id is the engine's.
        options.provider = r.provider.slice(0, r.provider.lastIndexOf("::"));
    }
    return {
        type: r.type,
        name: r.name,
        custom: r.custom,
        ...(r.parent ? { parent: r.parent } : {}),
        inputs: scrub(r.rawInputs, projectRoot) as Record<string, unknown>,
        options,
    };
}

/** The config section: structured values parsed, secure ones masked. */
function plannedConfig(values: Record<string, string>, encrypted: string[]): Record<string, unknown> {
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) {
        try {
            config[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
        } catch {
            config[key] = value;
        }
    }
    for (const key of encrypted) {
        config[key] = SECRET_MASK;
    }
    return config;
}

/** Drops the project's own modules from the require cache, so the program registers its resources again. */
export function forgetProjectModules(projectRoot: string = PROJECT_ROOT): void {
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(projectRoot + path.sep) && !key.includes(`${path.sep}node_modules${path.sep}`)) {
            delete require.cache[key];
        }
    }
}

export interface PlanOptions {
    /** Config changes on top of the stack file (namespaced keys; `undefined` removes a key). */
    overrides?: Record<string, unknown>;
    /** The stack's config from this file instead of Pulumi.<stack>.yaml. */
    configFile?: string;
}

/**
 * Renders the plan of `Pulumi.<stack>.yaml` with this checkout's program. Loads the program afresh each time,
 * so one process can render several plans (one after another, never at once: the mocks are global).
 */
export async function planStack(stack: string, options: PlanOptions = {}): Promise<Plan> {
    const projectRoot = PROJECT_ROOT;
    if (options.configFile !== undefined && !fs.existsSync(options.configFile)) {
        throw new PlanError(`the config file ${options.configFile} does not exist`);
    }
    if (options.configFile === undefined && !fs.existsSync(stackFilePath(projectRoot, stack))) {
        const stacks = fs.readdirSync(projectRoot).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []);
        throw new PlanError(
            `there is no Pulumi.${stack}.yaml in ${projectRoot}; stacks here: ${stacks.join(", ") || "none"}`,
        );
    }
    const file = readStackFiles(projectRoot, stack, options.overrides, options.configFile);
    const config: Record<string, string> = { ...file.values };
    for (const key of file.encrypted) {
        config[key] = SECURE_PLACEHOLDER;
    }
    pulumi.runtime.setAllConfig(config, file.encrypted);
    // Provider SDKs fill unset inputs from the environment (the Kubernetes provider reads KUBECONFIG, which may
    // hold credentials, and PULUMI_K8S_*): a plan must not carry this host's settings, so render with a bare one.
    const savedEnv = { ...process.env };
    for (const key of Object.keys(process.env)) {
        if (!PLAN_ENV.test(key)) {
            delete process.env[key];
        }
    }
    try {
        return await renderProgram(stack, projectRoot, file);
    } finally {
        for (const key of Object.keys(process.env)) {
            delete process.env[key];
        }
        Object.assign(process.env, savedEnv);
    }
}

/** What a plan keeps of the environment: where things are and how Node runs, nothing a provider reads. */
const PLAN_ENV = /^(PATH|HOME|TMPDIR|TMP|TEMP|LANG|LC_\w+|TZ|NODE_\w+|TS_NODE_\w+|BKLITE_DEBUG)$/;

async function renderProgram(stack: string, projectRoot: string, file: StackFileValues): Promise<Plan> {
    const recorder = await setRecordingMocks(stack, plannedOutputs);
    // The program is loaded afresh, with a fresh mode module: switch on the instance it will import.
    forgetProjectModules(projectRoot);
    (await import("./mode")).startPlanRendering();
    let program: Record<string, unknown>;
    try {
        // The program beside this module: index.ts under ts-node, dist/index.js in the compiled CLI.
        program = await import("../../index");
    } catch (e) {
        await settle().catch(() => undefined);
        if (e instanceof pulumi.RunError) {
            throw new PlanError(`stack '${stack}' cannot be planned:\n${e.message}`);
        }
        throw e;
    }
    await settle();
    const outputs = await stackOutputs(program);
    await settle();
    const resources: Record<string, PlannedResource> = {};
    for (const r of recorder.resources) {
        resources[r.urn] = plannedResource(r, projectRoot);
    }
    return {
        format: PLAN_FORMAT,
        project: pulumi.getProject(),
        stack,
        config: plannedConfig(file.values, file.encrypted),
        resources,
        outputs: Object.fromEntries(
            Object.entries(outputs.values).map(([k, v]) => [
                k,
                outputs.secret.has(k) ? SECRET_MASK : scrub(v, projectRoot),
            ]),
        ),
    };
}
