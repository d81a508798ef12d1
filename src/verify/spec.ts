/**
 * What `bklite verify` checks, as data: where the console and NATS answer, the regions and packages seeding wrote,
 * the streams, the services each installed app needs and how to reach them, and the firewall. The program renders
 * it from the stack config (render.ts) and hands it over on stdin; secrets never enter it (they come from the
 * BKLITE_* environment, as for `seed apply`).
 */
import type { ServiceAddress } from "../runtimes/runtime";
import type { ServiceProbe } from "../services/definition";
import { InputError } from "../util/inputError";
import { isRecord } from "../util/json";
import { StreamSettings, parseStreamsSpec } from "../nats/streamSettings";
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
    const problems: string[] = Object.keys(raw)
        .filter((k) => !SPEC_KEYS.includes(k))
        .map((k) => `${k}: is not part of a verify spec (${SPEC_KEYS.join(", ")})`);
    const text = (key: string, test: (v: string) => boolean, what: string) => {
        if (typeof raw[key] !== "string" || !test(raw[key] as string)) {
            problems.push(`${key}: must be ${what}`);
        }
    };
    text("stack", (v) => /^[A-Za-z0-9_.-]{1,100}$/.test(v), "a stack name");
    text("runtime", (v) => v === "docker" || v === "kubernetes", "docker or kubernetes");
    text(
        "consoleUrl",
        (v) => /^https?:\/\/[^/\s]+\/?$/.test(v),
        "the console's base URL, e.g. http://192.168.31.10:8080",
    );
    text(
        "natsEndpoint",
        (v) => /^tls:\/\/[^/\s]+:\d+$/.test(v),
        "the agents' NATS endpoint, e.g. tls://192.168.31.10:24222",
    );
    if (
        raw.login !== undefined &&
        !(isRecord(raw.login) && typeof raw.login.username === "string" && raw.login.username !== "")
    ) {
        problems.push("login: must be {username}");
    }
    // Regions and packages as the seed spec has them (its own checks), NATS_PASSWORD aside.
    let seedPart: ReturnType<typeof parseSeedSpec> | undefined;
    try {
        seedPart = parseSeedSpec({
            regions: Array.isArray(raw.regions)
                ? raw.regions.map((r) =>
                      isRecord(r) && isRecord(r.env)
                          ? { ...r, env: { ...r.env, NATS_PASSWORD: "(verified apart)" } }
                          : r,
                  )
                : raw.regions,
            packages: raw.packages,
        });
    } catch (err) {
        problems.push(
            ...(err instanceof SpecError
                ? err.problems.map((p) => `${p.path}: ${p.message}`)
                : [(err as Error).message]),
        );
    }
    let streams: StreamSettings[] = [];
    try {
        streams = parseStreamsSpec({ streams: raw.streams });
    } catch (err) {
        const lines = (err as Error).message.split("\n");
        problems.push(...(lines.length > 1 ? lines.slice(1).map((l) => l.replace(/^\s*-\s*/, "")) : lines));
    }
    const services = Array.isArray(raw.services) ? raw.services : [];
    if (!Array.isArray(raw.services)) {
        problems.push("services: must be a list");
    }
    services.forEach((s: unknown, i: number) => problems.push(...serviceProblems(s).map((p) => `services[${i}]${p}`)));
    let firewall: VerifySpec["firewall"];
    if (raw.firewall !== undefined) {
        const parsed = isRecord(raw.firewall) ? parseSecurityConfig({ rules: raw.firewall.rules }) : undefined;
        if (!isRecord(raw.firewall) || typeof raw.firewall.stack !== "string" || parsed === undefined) {
            problems.push("firewall: must be {stack, rules}");
        } else {
            problems.push(...parsed.problems.map((p) => `firewall.${p.path.replace(/^security\./, "")}: ${p.message}`));
            firewall = { stack: raw.firewall.stack, rules: parsed.security.rules };
        }
    }
    if (problems.length > 0 || seedPart === undefined) {
        throw new VerifySpecError(
            `the verify spec has ${problems.length} problem(s); nothing was checked:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
    return {
        stack: raw.stack as string,
        runtime: raw.runtime as VerifySpec["runtime"],
        consoleUrl: (raw.consoleUrl as string).replace(/\/$/, ""),
        ...(raw.login !== undefined ? { login: { username: (raw.login as { username: string }).username } } : {}),
        natsEndpoint: raw.natsEndpoint as string,
        regions: seedPart.regions.map((r) => ({
            name: r.name,
            env: Object.fromEntries(Object.entries(r.env).filter(([k]) => k !== "NATS_PASSWORD")),
        })),
        packages: seedPart.packages,
        streams,
        services: services as ServiceCheck[],
        ...(firewall ? { firewall } : {}),
    };
}

function serviceProblems(s: unknown): string[] {
    if (!isRecord(s) || typeof s.service !== "string" || typeof s.app !== "string" || !isRecord(s.probe)) {
        return [": must be {service, app, probe, address?}"];
    }
    const problems = Object.keys(s)
        .filter((k) => !["service", "app", "probe", "address"].includes(k))
        .map((k) => `.${k}: is not a service check setting`);
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
        problems.push(
            ".probe: must be {kind: http, port, path, status}, {kind: redis, port, passwordFrom} or {kind: nats-executor, instance}",
        );
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
        problems.push(".address: must be {host}, {container, network} or {kubeService} (none for a NATS probe)");
    }
    return problems;
}
