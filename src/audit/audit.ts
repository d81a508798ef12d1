/**
 * `bklite audit`: what a stack export says about a deployment: resources by type, images, published ports, data
 * volumes, and findings. Plaintext secrets, data stores published beyond loopback and unretained data fail the
 * audit; image findings are reported as warnings.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_KEYS, CONFIG_NAMESPACE } from "../config/keys";
import { readStackFiles } from "../config/stackFiles";
import {
    DOCKER_IMAGE,
    DataVolume,
    Finding,
    ImagePolicy,
    PublishedPort,
    RULES,
    RuleName,
    assessImage,
    dataVolumes,
    exposureFindings,
    imageFindings,
    imageUses,
    plaintextSecretFindings,
    publishedPorts,
    retentionFindings,
} from "./rules";
import { StackExport, viewOf } from "./stackExport";

/** Findings that fail the audit (exit code 1). */
export const FAILING_RULES: ReadonlyArray<RuleName> = [
    "no-plaintext-secrets",
    "data-stores-on-loopback",
    "data-retained",
];

/** Where the image policy came from, for the report. */
export interface ImagePolicySource extends ImagePolicy {
    source: string;
}

/**
 * The stack's image policy from its stack file in `projectDir` (registry from `bklite:images`, `bklite:offline`
 * with the program's default), or offline without a registry when there is no stack file. Read raw, not
 * validated: an export may come from an older commit whose config today's validation would refuse.
 */
export function stackImagePolicy(projectDir: string, stack: string): ImagePolicySource {
    const offlineDefault = CONFIG_KEYS.offline.default !== false;
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!stack || !fs.existsSync(file) || !fs.existsSync(path.join(projectDir, "Pulumi.yaml"))) {
        return {
            offline: offlineDefault,
            source: `no Pulumi.${stack || "<stack>"}.yaml in ${projectDir}: offline, no registry`,
        };
    }
    const values = readStackFiles(projectDir, stack).values;
    let registry: string | undefined;
    try {
        const images = JSON.parse(values[`${CONFIG_NAMESPACE}:images`] ?? "{}") as { registry?: unknown };
        registry = typeof images.registry === "string" && images.registry !== "" ? images.registry : undefined;
    } catch {
        registry = undefined;
    }
    const offlineValue = values[`${CONFIG_NAMESPACE}:offline`];
    const offline = offlineValue === undefined ? offlineDefault : offlineValue !== "false";
    return { ...(registry ? { registry } : {}), offline, source: path.relative(process.cwd(), file) || file };
}

export interface AuditedImage {
    ref: string;
    resource: string;
    type: string;
    where: string;
    pinnedBy?: "digest" | "tag";
    fromRegistry?: boolean;
    pullPolicy?: string;
}

export interface AuditedPort extends PublishedPort {
    resource: string;
    type: string;
}

export interface AuditReport {
    file: string;
    stack: string;
    project: string;
    cliVersion?: string;
    secretsProvider?: string;
    imagePolicy: ImagePolicySource;
    resourcesByType: Record<string, number>;
    images: AuditedImage[];
    publishedPorts: AuditedPort[];
    dataVolumes: DataVolume[];
    /** Resources the state will delete (replaced ones, `delete: true`) and operations left unfinished. */
    pending: Array<{ urn: string; type: string; what: string }>;
    /** Findings that fail the audit. */
    errors: Finding[];
    /** Findings reported without failing it. */
    warnings: Finding[];
    passed: boolean;
}

/** Audits an export against an image policy. */
export function auditExport(exported: StackExport, imagePolicy: ImagePolicySource): AuditReport {
    const live = exported.resources.filter((r) => !r.delete);
    const views = live.map(viewOf);
    const resourcesByType: Record<string, number> = {};
    for (const r of live) {
        resourcesByType[r.type] = (resourcesByType[r.type] ?? 0) + 1;
    }
    // Docker containers name their image by id; the RemoteImage that pulled it has the ref.
    const refById = new Map<string, string>();
    for (const view of views.filter((v) => v.type === DOCKER_IMAGE)) {
        const id = view.outputs?.imageId ?? view.outputs?.repoDigest;
        if (typeof id === "string" && typeof view.props.name === "string") {
            refById.set(id, view.props.name);
        }
    }
    const imageOf = (id: string) => refById.get(id);
    const findings: Finding[] = [];
    const images: AuditedImage[] = [];
    const ports: AuditedPort[] = [];
    for (const view of views) {
        for (const use of imageUses(view)) {
            const assessment = assessImage(use.ref, imagePolicy);
            images.push({
                ref: use.ref,
                resource: view.name,
                type: view.type,
                where: use.where,
                ...(assessment.pinnedBy ? { pinnedBy: assessment.pinnedBy } : {}),
                ...(assessment.fromRegistry !== undefined ? { fromRegistry: assessment.fromRegistry } : {}),
                ...(use.pullPolicy ? { pullPolicy: use.pullPolicy } : {}),
            });
        }
        for (const port of publishedPorts(view, imageOf)) {
            ports.push({ ...port, resource: view.name, type: view.type });
        }
        findings.push(
            ...imageFindings(view, imagePolicy),
            ...exposureFindings(view, imageOf),
            ...plaintextSecretFindings(view),
        );
    }
    findings.push(...retentionFindings(views, "retainOnDelete"));
    for (const [urn, count] of exported.decryptedSecrets) {
        const view = views.find((v) => v.urn === urn);
        findings.push({
            rule: "no-plaintext-secrets",
            urn,
            type: view?.type ?? "",
            name: view?.name ?? urn,
            message: `the export file holds ${count} secret value${count === 1 ? "" : "s"} of this resource decrypted (made with --show-secrets); keep exports without --show-secrets`,
        });
    }
    const errors = findings.filter((f) => FAILING_RULES.includes(f.rule));
    const warnings = findings.filter((f) => !FAILING_RULES.includes(f.rule));
    return {
        file: exported.file,
        stack: exported.stack,
        project: exported.project,
        ...(exported.cliVersion ? { cliVersion: exported.cliVersion } : {}),
        ...(exported.secretsProvider ? { secretsProvider: exported.secretsProvider } : {}),
        imagePolicy,
        resourcesByType: Object.fromEntries(Object.entries(resourcesByType).sort(([a], [b]) => a.localeCompare(b))),
        images,
        publishedPorts: ports,
        dataVolumes: dataVolumes(views, "retainOnDelete"),
        pending: [
            ...exported.resources
                .filter((r) => r.delete)
                .map((r) => ({ urn: r.urn, type: r.type, what: "replaced; deleted by the next update" })),
            ...exported.pendingOperations.map((op) => ({
                urn: op.urn,
                type: op.type,
                what: `${op.operation} was interrupted; run \`pulumi refresh\``,
            })),
        ],
        errors,
        warnings,
        passed: errors.length === 0,
    };
}

// ---- Markdown

function code(text: string | number): string {
    return `\`${String(text).replace(/`/g, "ˋ")}\``;
}

function cellText(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function table(header: string[], rows: string[][]): string[] {
    if (rows.length === 0) {
        return ["(none)"];
    }
    return [
        `| ${header.join(" | ")} |`,
        `|${header.map(() => "---").join("|")}|`,
        ...rows.map((r) => `| ${r.map(cellText).join(" | ")} |`),
    ];
}

function findingRows(findings: Finding[]): string[][] {
    return findings.map((f) => [code(f.rule), code(f.name), f.where ? code(f.where) : "", f.message]);
}

export function auditMarkdown(report: AuditReport): string {
    const policy = report.imagePolicy;
    const lines = [
        `# bklite audit: stack ${code(report.stack || "(empty)")} ${report.passed ? "passed" : "FAILED"}`,
        "",
        `Export ${code(report.file)}${report.cliVersion ? `, written by Pulumi ${report.cliVersion}` : ""}${report.secretsProvider ? `, secrets provider ${code(report.secretsProvider)}` : ""}.`,
        `Image policy: ${policy.offline ? "offline" : "online"}, registry ${policy.registry ? code(policy.registry) : "none"} (from ${policy.source}).`,
        "",
        `## Findings: ${report.errors.length} failing, ${report.warnings.length} warning${report.warnings.length === 1 ? "" : "s"}`,
        "",
        ...table(["rule", "resource", "where", "finding"], findingRows([...report.errors, ...report.warnings])),
        "",
        "## Resources by type",
        "",
        ...table(
            ["type", "count"],
            Object.entries(report.resourcesByType).map(([type, n]) => [code(type), String(n)]),
        ),
        "",
        "## Images",
        "",
        ...table(
            ["image", "resource", "pinned", "from the registry", "pull policy"],
            report.images.map((i) => [
                code(i.ref),
                code(i.resource),
                i.pinnedBy ? `yes (${i.pinnedBy})` : "no (latest)",
                i.fromRegistry === undefined ? "(no registry configured)" : i.fromRegistry ? "yes" : "no",
                i.pullPolicy ?? "",
            ]),
        ),
        "",
        "## Published ports",
        "",
        ...table(
            ["resource", "port", "published as", "bind address", "data store"],
            report.publishedPorts.map((p) => [
                code(p.resource),
                `${p.port}/${p.protocol}`,
                String(p.hostPort),
                p.bind,
                p.dataStore ?? "",
            ]),
        ),
        "",
        "## Data volumes and claims",
        "",
        ...table(
            ["resource", "kind", "kept on destroy", "how"],
            report.dataVolumes.map((v) => [code(v.name), v.kind, v.kept ? "yes" : "**no**", v.how]),
        ),
        "",
        "## Pending",
        "",
        ...table(
            ["resource", "type", "state"],
            report.pending.map((p) => [code(p.urn.split("::").pop() ?? p.urn), code(p.type), p.what]),
        ),
        "",
        "## Rules",
        "",
        ...Object.entries(RULES).map(
            ([rule, text]) =>
                `- ${code(rule)}${FAILING_RULES.includes(rule as RuleName) ? " (fails the audit)" : ""}: ${text}`,
        ),
    ];
    return `${lines.join("\n")}\n`;
}
