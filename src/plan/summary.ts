/**
 * A plan for a person: what the stack runs and where it is reached, in a screen. Read from the plan alone (its config,
 * outputs and resources), so it says the same for either runtime and for a plan file read back.
 */
import { Plan } from "./planStack";

interface PublishedPort {
    port: number;
    protocol: string;
    description: string;
    sources: string[];
}

/** Names and values in two aligned columns. */
function columns(rows: Array<[string, string]>, indent = "  "): string[] {
    const width = Math.max(0, ...rows.map(([name]) => name.length));
    return rows.map(([name, value]) => `${indent}${name.padEnd(width)}  ${value}`.trimEnd());
}

/** How many resources each provider (the type's package) registers, components last. */
function resourceCounts(plan: Plan): string {
    const counts = new Map<string, number>();
    for (const resource of Object.values(plan.resources)) {
        const provider = resource.custom ? resource.type.split(":")[0] : "components";
        counts.set(provider, (counts.get(provider) ?? 0) + 1);
    }
    const sorted = [...counts].sort(([a], [b]) => (a === "components" ? 1 : b === "components" ? -1 : a < b ? -1 : 1));
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return `${total} (${sorted.map(([name, n]) => `${name} ${n}`).join(", ")})`;
}

/** The generated secrets (RandomPassword resources), by the secret's name. */
function generatedSecrets(plan: Plan): string[] {
    return Object.values(plan.resources)
        .filter((r) => r.type === "random:index/randomPassword:RandomPassword")
        .map((r) => r.name.replace(/^.*-secrets-/, ""))
        .sort();
}

/** The secrets the stack's config gives (masked in the plan). */
function givenSecrets(plan: Plan): string[] {
    return Object.entries(plan.config)
        .filter(([, value]) => typeof value === "string" && value.includes("[secret]"))
        .map(([key]) => key.replace(/^[^:]*:/, ""))
        .sort();
}

function stackLines(plan: Plan): string[] {
    const config = plan.config;
    const apps = Array.isArray(config["bklite:installApps"]) ? (config["bklite:installApps"] as string[]) : [];
    return [
        `stack ${plan.stack} (project ${plan.project}), runtime ${String(config["bklite:runtime"] ?? "docker")}`,
        `apps: ${apps.join(", ") || "(default)"}`,
        ...columns(
            [
                ["console", String(plan.outputs.consoleUrl ?? "")],
                ["agents' NATS", String(plan.outputs.natsEndpoint ?? "")],
                ["login", `${String(plan.outputs.adminUser ?? "admin")} / adminPassword (secret output)`],
            ],
            "",
        ),
    ];
}

function serviceLines(plan: Plan): string[] {
    const images = (plan.outputs.images ?? {}) as Record<string, string>;
    const rules = (plan.outputs.securityRules ?? []) as PublishedPort[];
    return [
        `services (${Object.keys(images).length}):`,
        ...columns(Object.entries(images).sort(([a], [b]) => (a < b ? -1 : 1))),
        `published ports:`,
        ...columns(
            rules.map((r) => [
                `${r.port}/${r.protocol}`,
                `${r.description}, from ${r.sources.join(", ") || "nowhere"}`,
            ]),
        ),
    ];
}

/** The summary, one screen for the dev stack. */
export function planSummary(plan: Plan): string {
    const volumes = (plan.outputs.dataVolumes ?? []) as string[];
    const outputs = Object.entries(plan.outputs).map(([name, value]) =>
        value === "[secret]" ? `${name} (secret)` : name,
    );
    const given = givenSecrets(plan);
    return [
        ...stackLines(plan),
        ...serviceLines(plan),
        `data volumes, kept on destroy (${volumes.length}): ${volumes.join(", ")}`,
        `secrets generated unless given: ${generatedSecrets(plan).join(", ")}`,
        ...(given.length > 0 ? [`secrets given in the stack's config: ${given.join(", ")}`] : []),
        `outputs: ${outputs.sort().join(", ")}`,
        `resources: ${resourceCounts(plan)}`,
        "The whole plan as JSON: --format json (or --out FILE).",
        "",
    ].join("\n");
}
