/**
 * The pack's policies: the rules of src/audit/rules.ts applied to what the analyzer sees before a
 * deployment. Two things it cannot see, so the rules use what it can: secret values arrive unwrapped (a
 * property counts as secret when the resource declares it in additionalSecretOutputs), and retainOnDelete is
 * not sent at all (data must be `protect`ed, which the program sets together with retainOnDelete).
 */
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { stackImagePolicy } from "../src/audit/audit";
import {
    Finding,
    ImagePolicy,
    RULES,
    ResourceView,
    exposureFindings,
    imageFindings,
    plaintextSecretFindings,
    retentionFindings,
} from "../src/audit/rules";
import { parseUrn } from "../src/audit/stackExport";
import { PROJECT_ROOT } from "../src/util/shell";

/** What an unknown value (only known after deploy) is copied as; the rules skip it. */
const UNKNOWN = "(known after deploy)";

/** A plain copy of the analyzer's props: values that are unknown in a preview become UNKNOWN, not errors. */
export function knownProps(value: unknown): unknown {
    if (Array.isArray(value)) {
        return Array.from({ length: value.length }, (_, i) => readKnown(value, i));
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(
            Object.keys(value).map((key) => [key, readKnown(value as Record<string, unknown>, key)]),
        );
    }
    return value;
}

function readKnown(container: Record<string, unknown> | unknown[], key: string | number): unknown {
    try {
        return knownProps((container as Record<string | number, unknown>)[key]);
    } catch (e) {
        // @pulumi/policy's proxy throws UnknownValueError for values only known after deploy.
        if ((e as Error).name === "UnknownValueError" || (e as Error).constructor?.name === "UnknownValueError") {
            return UNKNOWN;
        }
        throw e;
    }
}

type AnalyzedResource =
    | Pick<ResourceValidationArgs, "type" | "props" | "urn" | "name" | "opts">
    | Pick<PolicyResource, "type" | "props" | "urn" | "name" | "opts">;

/** The rules' view of an analyzed resource. */
export function policyView(resource: AnalyzedResource): ResourceView {
    return {
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        props: knownProps(resource.props) as Record<string, unknown>,
        kept: resource.opts.protect === true,
        secretsMarked: false,
        additionalSecretOutputs: resource.opts.additionalSecretOutputs ?? [],
    };
}

export interface ImagePolicyConfig {
    registry?: string;
    offline?: boolean;
}

/** The image policy: the pack's config (--policy-pack-config) over the stack file of the resource's stack. */
export function imagePolicyFor(urn: string, config: ImagePolicyConfig): ImagePolicy {
    const fromStack = stackImagePolicy(PROJECT_ROOT, parseUrn(urn)?.stack ?? "");
    return {
        ...((config.registry ?? fromStack.registry) ? { registry: config.registry ?? fromStack.registry } : {}),
        offline: config.offline ?? fromStack.offline,
    };
}

function reportAll(findings: Finding[], report: ReportViolation, withUrn: boolean): void {
    for (const f of findings) {
        const message = f.where ? `${f.message} (${f.where})` : f.message;
        if (withUrn) {
            report(message, f.urn);
        } else {
            report(message);
        }
    }
}

export const imagesFromRegistry: ResourceValidationPolicy = {
    name: "bklite-images-from-registry",
    description: RULES["images-from-registry"],
    configSchema: { properties: { registry: { type: "string" }, offline: { type: "boolean" } } },
    validateResource: (args, report) => {
        const view = policyView(args);
        const findings = imageFindings(view, imagePolicyFor(args.urn, args.getConfig<ImagePolicyConfig>()));
        reportAll(
            findings.filter((f) => f.rule === "images-from-registry"),
            report,
            false,
        );
    },
};

export const noPullAlways: ResourceValidationPolicy = {
    name: "bklite-no-pull-always",
    description: RULES["no-pull-always"],
    validateResource: (args, report) => {
        reportAll(
            imageFindings(policyView(args), { offline: false }).filter((f) => f.rule === "no-pull-always"),
            report,
            false,
        );
    },
};

export const dataStoresOnLoopback: ResourceValidationPolicy = {
    name: "bklite-data-stores-on-loopback",
    description: RULES["data-stores-on-loopback"],
    validateResource: (args, report) => {
        reportAll(exposureFindings(policyView(args)), report, false);
    },
};

export const noPlaintextSecrets: ResourceValidationPolicy = {
    name: "bklite-no-plaintext-secrets",
    description: RULES["no-plaintext-secrets"],
    validateResource: (args, report) => {
        reportAll(plaintextSecretFindings(policyView(args)), report, false);
    },
};

/** A stack policy: whether a namespace holds claims depends on the other resources. */
export const dataRetained: StackValidationPolicy = {
    name: "bklite-data-retained",
    description: `${RULES["data-retained"]} The analyzer cannot see retainOnDelete, so data must be protected.`,
    validateStack: (args, report) => {
        reportAll(retentionFindings(args.resources.map(policyView), "protected"), report, true);
    },
};

export const policies = [imagesFromRegistry, noPullAlways, dataStoresOnLoopback, noPlaintextSecrets, dataRetained];
