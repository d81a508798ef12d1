/**
 * Reading `pulumi stack export` files (deployment version 3) into the ResourceViews the audit rules check.
 * Secret values are told apart by Pulumi's secret signature: `ciphertext` (a normal export) is hidden;
 * `plaintext` (an export made with --show-secrets) is hidden too, but counted: the file itself then holds secrets.
 */
import * as fs from "fs";
import { MiB, readBounded } from "../util/boundedRead";
import { isRecord } from "../util/json";
import { isSecretWrapper, mapSecrets } from "../util/pulumiValues";
import { HIDDEN_SECRET, ResourceView } from "./rules";
import { InputError } from "../util/inputError";

/** The deployment version `pulumi stack export` writes (apitype.DeploymentSchemaVersionCurrent). */
export const DEPLOYMENT_VERSION = 3;

/** A ResourceV3 as far as the audit reads it. */
export interface ExportedResource {
    urn: string;
    custom: boolean;
    type: string;
    delete?: boolean;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
    protect?: boolean;
    retainOnDelete?: boolean;
    additionalSecretOutputs?: string[];
}

export interface StackExport {
    file: string;
    stack: string;
    project: string;
    /** Pulumi CLI version that wrote it (manifest.version). */
    cliVersion?: string;
    secretsProvider?: string;
    resources: ExportedResource[];
    /** Secret values the file holds decrypted (`--show-secrets`), by resource URN. */
    decryptedSecrets: Map<string, number>;
    /** Operations an interrupted update left unfinished (`pending_operations`). */
    pendingOperations: Array<{ urn: string; type: string; operation: string }>;
}

/** A stack export that cannot be read; the message names the file and what to do. */
export class ExportError extends InputError {}

/** `urn:pulumi:<stack>::<project>::<type>::<name>` */
export function parseUrn(urn: string): { stack: string; project: string; name: string } | undefined {
    const match = /^urn:pulumi:([^:]*)::([^:]*)::(.*)::(.*)$/s.exec(urn);
    return match ? { stack: match[1], project: match[2], name: match[4] } : undefined;
}

/** Parses an export; refuses anything but a version-3 deployment, naming what it found. */
export function parseStackExport(text: string, file: string): StackExport {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch {
        // Not the parser's message: it quotes the file, which may be anything (an env file given by mistake).
        throw new ExportError(`${file} is not valid JSON; give the file \`pulumi stack export --file ${file}\` wrote`);
    }
    if (!isRecord(doc) || (!("deployment" in doc) && !("checkpoint" in doc))) {
        throw new ExportError(
            `${file} is not a stack export: it has no 'deployment'; make one with \`pulumi stack export --stack <stack> --file ${file}\``,
        );
    }
    if (doc.version !== DEPLOYMENT_VERSION) {
        const features =
            Array.isArray(doc.features) && doc.features.length > 0 ? ` (features: ${doc.features.join(", ")})` : "";
        const fix =
            typeof doc.version === "number" && doc.version < DEPLOYMENT_VERSION
                ? "it was written by an old Pulumi CLI: export the stack again with a current one, which upgrades the state as it reads it"
                : "this bklite does not know that format: export with a Pulumi CLI whose stacks use no newer features, or upgrade bklite";
        throw new ExportError(
            `${file} is a deployment of version ${JSON.stringify(doc.version)}${features}; bklite audit reads version ${DEPLOYMENT_VERSION} only; ${fix}`,
        );
    }
    // A DIY backend's checkpoint file holds the same deployment under checkpoint.latest.
    const deployment =
        "deployment" in doc ? doc.deployment : isRecord(doc.checkpoint) ? doc.checkpoint.latest : undefined;
    if (!isRecord(deployment)) {
        throw new ExportError(`${file}: 'deployment' must be an object`);
    }
    const raw = deployment.resources ?? [];
    if (!Array.isArray(raw)) {
        throw new ExportError(`${file}: deployment.resources must be a list`);
    }
    const problems: string[] = [];
    const resources: ExportedResource[] = [];
    raw.forEach((r, i) => {
        if (!isRecord(r) || typeof r.urn !== "string" || typeof r.type !== "string" || !parseUrn(r.urn)) {
            problems.push(`deployment.resources[${i}] has no valid urn and type`);
        } else {
            resources.push(r as unknown as ExportedResource);
        }
    });
    if (problems.length > 0) {
        throw new ExportError(`${file} is not a valid stack export:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    const first = resources.length > 0 ? parseUrn(resources[0].urn) : undefined;
    const manifest = isRecord(deployment.manifest) ? deployment.manifest : {};
    const secrets = isRecord(deployment.secrets_providers) ? deployment.secrets_providers : {};
    const decryptedSecrets = new Map<string, number>();
    for (const r of resources) {
        const count = countPlaintextSecrets(r.inputs) + countPlaintextSecrets(r.outputs);
        if (count > 0) {
            decryptedSecrets.set(r.urn, count);
        }
    }
    const pendingOperations = (Array.isArray(deployment.pending_operations) ? deployment.pending_operations : [])
        .filter(isRecord)
        .map((op) => {
            const resource = isRecord(op.resource) ? op.resource : {};
            return {
                urn: String(resource.urn ?? ""),
                type: String(resource.type ?? ""),
                operation: String(op.type ?? ""),
            };
        });
    return {
        file,
        pendingOperations,
        stack: first?.stack ?? "",
        project: first?.project ?? "",
        ...(typeof manifest.version === "string" ? { cliVersion: manifest.version } : {}),
        ...(typeof secrets.type === "string" ? { secretsProvider: secrets.type } : {}),
        resources,
        decryptedSecrets,
    };
}

/** The largest stack export read. */
const MAX_EXPORT_BYTES = 512 * MiB;

export function readStackExport(file: string): StackExport {
    if (!fs.existsSync(file)) {
        throw new ExportError(
            `${file} does not exist; make it with \`pulumi stack export --stack <stack> --file ${file}\``,
        );
    }
    return parseStackExport(
        readBounded(file, MAX_EXPORT_BYTES, file, "a stack export of this program is a few MiB"),
        file,
    );
}

function countPlaintextSecrets(value: unknown): number {
    if (isSecretWrapper(value)) {
        return "plaintext" in value ? 1 : 0;
    }
    if (Array.isArray(value)) {
        return value.reduce((n: number, v) => n + countPlaintextSecrets(v), 0);
    }
    if (isRecord(value)) {
        return Object.values(value).reduce((n: number, v) => n + countPlaintextSecrets(v), 0);
    }
    return 0;
}

/** The value with every secret (encrypted or shown) replaced by HIDDEN_SECRET. */
export function hideSecrets(value: unknown): unknown {
    return mapSecrets(value, () => HIDDEN_SECRET);
}

/** What the rules see of an exported resource: secrets hidden, kept = retainOnDelete. */
export function viewOf(r: ExportedResource): ResourceView {
    return {
        urn: r.urn,
        type: r.type,
        name: parseUrn(r.urn)?.name ?? r.urn,
        props: (hideSecrets(r.inputs ?? {}) as Record<string, unknown>) ?? {},
        outputs: (hideSecrets(r.outputs ?? {}) as Record<string, unknown>) ?? {},
        kept: r.retainOnDelete === true,
        secretsMarked: true,
        additionalSecretOutputs: r.additionalSecretOutputs ?? [],
    };
}
