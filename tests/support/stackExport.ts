/**
 * Stack exports in the shape `pulumi stack export` writes (deployment version 3; pulumi/pulumi
 * sdk/go/common/apitype/core.go), made from a program run under mocks: the Stack root, a default provider per
 * package, every resource with its inputs, outputs and options, secrets as passphrase-style ciphertext.
 */
import * as crypto from "crypto";
import { RecordedResource } from "../../src/plan/mockRun";
import { SECRET_SIG, SIG_KEY, isSecretWrapper, mapSecrets } from "../../src/util/pulumiValues";
import { ProgramRun } from "./mocks";

const CLI_VERSION = "v3.205.0";

/** Deterministic stand-in for `v1:<nonce>:<ciphertext>` (the passphrase provider's AES-GCM format). */
function ciphertext(plaintext: unknown): string {
    const digest = crypto.createHash("sha256").update(JSON.stringify(plaintext)).digest();
    return `v1:${digest.subarray(0, 12).toString("base64")}:${digest.subarray(12).toString("base64")}`;
}

/** Secret wrappers as the state holds them: `{sig, ciphertext}`, or `{sig, plaintext}` with --show-secrets. */
export function encodeSecrets(value: unknown, showSecrets = false): unknown {
    return mapSecrets(value, (wrapper) =>
        showSecrets
            ? { [SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify(wrapper.value) }
            : { [SIG_KEY]: SECRET_SIG, ciphertext: ciphertext(wrapper.value) },
    );
}

function secret(value: unknown): unknown {
    return isSecretWrapper(value) ? value : { [SIG_KEY]: SECRET_SIG, value };
}

/** Outputs as the engine stores them: declared secret properties and those with a secret input are secret. */
function engineOutputs(r: RecordedResource): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(r.rawOutputs).map(([key, value]) => [
            key,
            r.additionalSecretOutputs.includes(key) || isSecretWrapper(r.rawInputs[key]) ? secret(value) : value,
        ]),
    );
}

export interface ExportOptions {
    /** Write secrets decrypted, as `pulumi stack export --show-secrets` does. */
    showSecrets?: boolean;
}

/** The export `pulumi stack export` would write after `pulumi up` of this run. */
export function exportOfRun(run: ProgramRun, stack: string, options: ExportOptions = {}): Record<string, unknown> {
    const stackUrn = `urn:pulumi:${stack}::bklite::pulumi:pulumi:Stack::bklite-${stack}`;
    const time = "2026-11-22T01:00:00.000000000Z";
    const packages = [
        ...new Set(
            run.recorder.resources
                .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
                .map((r) => r.type.split(":")[0]),
        ),
    ].sort();
    const providerRef = (pkg: string) =>
        `urn:pulumi:${stack}::bklite::pulumi:providers:${pkg}::default::${crypto
            .createHash("md5")
            .update(pkg)
            .digest("hex")
            .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5")}`;
    const resources: Record<string, unknown>[] = [
        {
            urn: stackUrn,
            custom: false,
            type: "pulumi:pulumi:Stack",
            outputs: encodeSecrets(
                Object.fromEntries(
                    Object.entries(run.outputs).map(([k, v]) => [k, run.secretOutputs.has(k) ? secret(v) : v]),
                ),
                options.showSecrets,
            ),
            created: time,
            modified: time,
        },
        ...packages.map((pkg) => ({
            urn: providerRef(pkg).split("::").slice(0, -1).join("::"),
            custom: true,
            id: providerRef(pkg).split("::").pop(),
            type: `pulumi:providers:${pkg}`,
            inputs: { __internal: { pluginDownloadURL: "" } },
            outputs: {},
            created: time,
            modified: time,
        })),
    ];
    for (const r of run.recorder.resources) {
        const explicitProvider = r.provider !== "";
        resources.push({
            urn: r.urn,
            custom: r.custom,
            ...(r.custom ? { id: `${r.name}-id` } : {}),
            type: r.type,
            inputs: encodeSecrets(r.rawInputs, options.showSecrets),
            outputs: encodeSecrets(r.custom ? engineOutputs(r) : {}, options.showSecrets),
            parent: r.parent || stackUrn,
            ...(r.protect ? { protect: true } : {}),
            ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
            ...(r.dependencies.length > 0 ? { dependencies: [...new Set(r.dependencies)] } : {}),
            ...(r.custom && !r.type.startsWith("pulumi:providers:")
                ? { provider: explicitProvider ? r.provider : providerRef(r.type.split(":")[0]) }
                : {}),
            ...(r.additionalSecretOutputs.length > 0 ? { additionalSecretOutputs: r.additionalSecretOutputs } : {}),
            created: time,
            modified: time,
        });
    }
    return {
        version: 3,
        deployment: {
            manifest: {
                time,
                magic: crypto.createHash("sha256").update(CLI_VERSION).digest("hex"),
                version: CLI_VERSION,
            },
            secrets_providers: {
                type: "passphrase",
                state: { salt: "v1:7eu6yZPdUjM=:v1:Jg9JXyNAtGyYxPr4:bUEh6RfPUwMV5Mn8Prg9mMNmD9fP2Q==" },
            },
            resources,
            metadata: {},
        },
    };
}
