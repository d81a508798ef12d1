/**
 * What `bklite verify` checks, as data: where the console and NATS answer, the regions and packages seeding wrote,
 * the streams, the services each installed app needs and how to reach them, and the firewall. The program renders
 * it from the stack config (render.ts) and hands it over on stdin; secrets never enter it (they come from the
 * BKLITE_* environment, as for `seed apply`).
 */
import { RUNTIMES } from "../config/keys";
import { isStackName } from "../config/stackName";
import type { ServiceAddress } from "../runtimes/runtime";
import type { ServiceProbe } from "../services/definition";
import { InputError } from "../util/inputError";
import { Problem, formatProblem, under } from "../util/problem";
import { isRecord } from "../util/json";
import { StreamSettings, StreamSpecError, parseStreamsSpec } from "../nats/streamSettings";
import { SecurityRule, parseSecurityConfig } from "../security/rules";
import { SeedPackage, SpecError, parseSeedSpec } from "../seed/spec";

export interface ServiceCheck {
    service: string;
    /** The bk-lite app that needs it, for messages. */
    app: string;
    probe: ServiceProbe;
    /** Absent for probes that go through NATS. */
    address?: ServiceAddress;
}

export interface VerifySpec {
    stack: string;
    runtime: "docker" | "kubernetes";
    /** The console's URL (NEXTAUTH_URL): the web app at `/`, the server at `/api/v1/`, both through the ingress. */
    consoleUrl: string;
    /** The console login to try; absent when system_mgmt (which owns the login) is not installed. */
    login?: { username: string };
    /** Where agents connect: `tls://host:port`. */
    natsEndpoint: string;
    /** Every region with the SidecarEnv seeding wrote, NATS_PASSWORD left out (it is BKLITE_NATS_PASSWORD). */
    regions: Array<{ name: string; env: Record<string, string> }>;
    packages: SeedPackage[];
    streams: StreamSettings[];
    services: ServiceCheck[];
    /** The host firewall's stack and rules (resolved port numbers), when the stack enforces them. */
    firewall?: { stack: string; rules: SecurityRule[] };
}

const SPEC_KEYS = [
    "stack",
    "runtime",
    "consoleUrl",
    "login",
    "natsEndpoint",
    "regions",
    "packages",
    "streams",
    "services",
    "firewall",
];

/** A verify spec that is not what it should be (exit code 2). */
export class VerifySpecError extends InputError {}

/** Checks a parsed spec and returns it typed; throws naming every problem at once. */
export function parseVerifySpec(raw: unknown): VerifySpec {
    if (!isRecord(raw)) {
        throw new VerifySpecError("the verify spec must be a JSON object");
    }
    const problems: Problem[] = Object.keys(raw)
        .filter((k) => !SPEC_KEYS.includes(k))
        .map((k) => ({ path: k, message: `is not part of a verify spec (${SPEC_KEYS.join(", ")})` }));
    problems.push(...addressProblems(raw));
    if (
        raw.login !== undefined &&
        !(isRecord(raw.login) && typeof raw.login.username === "string" && raw.login.username !== "")
    ) {
        problems.push({ path: "login", message: "must be {username}" });
    }
    const seed = seedPart(raw, problems);
    const streams = streamsPart(raw, problems);
    const services = Array.isArray(raw.services) ? raw.services : [];
    if (!Array.isArray(raw.services)) {
        problems.push({ path: "services", message: "must be a list" });
    }
    services.forEach((s: unknown, i: number) => problems.push(...under(`services[${i}]`, serviceProblems(s))));
    const firewall = raw.firewall === undefined ? undefined : firewallPart(raw.firewall, problems);
    if (problems.length > 0 || seed === undefined) {
        throw new VerifySpecError(
            `the verify spec has ${problems.length} problem(s); nothing was checked:\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`,
        );
    }
    return {
        stack: raw.stack as string,
        runtime: raw.runtime as VerifySpec["runtime"],
        consoleUrl: (raw.consoleUrl as string).replace(/\/$/, ""),
        ...(raw.login !== undefined ? { login: { username: (raw.login as { username: string }).username } } : {}),
        natsEndpoint: raw.natsEndpoint as string,
        regions: seed.regions.map((r) => ({
            name: r.name,
            env: Object.fromEntries(Object.entries(r.env).filter(([k]) => k !== "NATS_PASSWORD")),
        })),
        packages: seed.packages,
        streams,
        services: services as ServiceCheck[],
        ...(firewall ? { firewall } : {}),
    };
}

/** The stack, its runtime, and where the console and NATS answer. */
function addressProblems(raw: Record<string, unknown>): Problem[] {
    const fields: Array<[string, (v: string) => boolean, string]> = [
        ["stack", isStackName, "a stack name (1 to 100 of A-Z a-z 0-9 _ . -, starting with a letter or digit)"],
        ["runtime", (v) => (RUNTIMES as ReadonlyArray<string>).includes(v), RUNTIMES.join(" or ")],
        [
            "consoleUrl",
            (v) => /^https?:\/\/[^/\s]+\/?$/.test(v),
            "the console's base URL, e.g. http://192.168.31.10:8080",
        ],
        [
            "natsEndpoint",
            (v) => /^tls:\/\/[^/\s]+:\d+$/.test(v),
            "the agents' NATS endpoint, e.g. tls://192.168.31.10:24222",
        ],
    ];
    return fields
        .filter(([key, test]) => typeof raw[key] !== "string" || !test(raw[key] as string))
        .map(([key, , what]) => ({ path: key, message: `must be ${what}` }));
}

/** Regions and packages as the seed spec has them (its own checks), NATS_PASSWORD aside. */
function seedPart(raw: Record<string, unknown>, problems: Problem[]): ReturnType<typeof parseSeedSpec> | undefined {
    const withPassword = (r: unknown) =>
        isRecord(r) && isRecord(r.env) ? { ...r, env: { ...r.env, NATS_PASSWORD: "(verified apart)" } } : r;
    try {
        return parseSeedSpec({
            regions: Array.isArray(raw.regions) ? raw.regions.map(withPassword) : raw.regions,
            packages: raw.packages,
        });
    } catch (err) {
        problems.push(...(err instanceof SpecError ? err.problems : [{ path: "", message: (err as Error).message }]));
        return undefined;
    }
}

function streamsPart(raw: Record<string, unknown>, problems: Problem[]): StreamSettings[] {
    try {
        return parseStreamsSpec({ streams: raw.streams });
    } catch (err) {
        problems.push(
            ...(err instanceof StreamSpecError ? err.problems : [{ path: "", message: (err as Error).message }]),
        );
        return [];
    }
}

function firewallPart(value: unknown, problems: Problem[]): VerifySpec["firewall"] {
    const parsed = isRecord(value) ? parseSecurityConfig({ rules: value.rules }) : undefined;
    if (!isRecord(value) || typeof value.stack !== "string" || parsed === undefined) {
        problems.push({ path: "firewall", message: "must be {stack, rules}" });
        return undefined;
    }
    problems.push(...parsed.problems.map((p) => ({ ...p, path: `firewall.${p.path.replace(/^security\./, "")}` })));
    return { stack: value.stack, rules: parsed.security.rules };
}

function serviceProblems(s: unknown): Problem[] {
    if (!isRecord(s) || typeof s.service !== "string" || typeof s.app !== "string" || !isRecord(s.probe)) {
        return [{ path: "", message: "must be {service, app, probe, address?}" }];
    }
    const problems: Problem[] = Object.keys(s)
        .filter((k) => !["service", "app", "probe", "address"].includes(k))
        .map((k) => ({ path: k, message: "is not a service check setting" }));
    const p = s.probe;
    const port = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0 && v < 65536;
    const fine =
        (p.kind === "http" &&
            port(p.port) &&
            typeof p.path === "string" &&
            p.path.startsWith("/") &&
            typeof p.status === "number") ||
        (p.kind === "redis" && port(p.port) && p.passwordFrom === "falkordbPassword") ||
        (p.kind === "nats-executor" && typeof p.instance === "string" && /^[A-Za-z0-9_-]+$/.test(p.instance));
    if (!fine) {
        problems.push({
            path: "probe",
            message:
                "must be {kind: http, port, path, status}, {kind: redis, port, passwordFrom} or {kind: nats-executor, instance}",
        });
    }
    const a = s.address;
    const addressFine =
        a === undefined
            ? p.kind === "nats-executor"
            : isRecord(a) &&
              ((typeof a.host === "string" && a.host !== "") ||
                  (typeof a.container === "string" && typeof a.network === "string") ||
                  typeof a.kubeService === "string");
    if (!addressFine) {
        problems.push({
            path: "address",
            message: "must be {host}, {container, network} or {kubeService} (none for a NATS probe)",
        });
    }
    return problems;
}
