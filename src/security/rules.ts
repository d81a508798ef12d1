/**
 * Security rules as declared in `bklite:security.rules`: which ports are reachable from where. This module
 * parses and checks them; enforcing them (host firewall, NetworkPolicies) builds on the same types.
 */
import * as net from "net";
import { Problem } from "../util/problem";

/** Ports of the stack that rules may name instead of a number. */
export const NAMED_PORTS = ["http", "https", "nats", "postgres"] as const;
export type NamedPort = (typeof NAMED_PORTS)[number];

export interface SecurityRule {
    port: number | NamedPort;
    protocol: "tcp" | "udp";
    sources: string[];
    description: string;
    /** What the port is (http, nats, postgres, redis, ...): the program writes it into the rules it hands the firewall. */
    purpose?: string;
    /** Where the rule stands in the list it was read from, for messages (the list may hold rules that were refused). */
    at?: number;
}

const RULE_KEYS = ["port", "protocol", "sources", "description", "purpose"];

export interface SecurityConfig {
    rules: SecurityRule[];
    /** Enforce the rules with iptables on the Docker host (`bklite firewall apply`, run by the program as root). */
    hostFirewall: boolean;
}

/** Checks a CIDR (`10.0.0.0/8`, `192.168.1.7`, `fd00::/8`); a bare address means a single host. */
export function checkCidr(cidr: string): string | undefined {
    if (cidr.includes("%")) {
        return `'${cidr}' has a zone index; give an address without %zone`;
    }
    const [address, prefix, ...rest] = cidr.split("/");
    const family = net.isIP(address);
    if (family === 0 || rest.length > 0) {
        return `'${cidr}' is not an IPv4 or IPv6 address or CIDR`;
    }
    if (prefix !== undefined) {
        const bits = family === 4 ? 32 : 128;
        if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > bits) {
            return `'${cidr}' has a prefix length outside 0-${bits}`;
        }
    }
    return undefined;
}

/** True for any /0 range (0.0.0.0/0, ::/0, ::0/0, 1.2.3.4/0, ...): the whole world of that family. */
export function isWorldOpen(cidr: string): boolean {
    return /\/0+$/.test(cidr.trim());
}

/** The first address and size of a CIDR, as numbers of its family's width. */
function cidrRange(cidr: string): { family: 4 | 6; start: bigint; size: bigint } {
    const [address, prefix] = cidr.trim().split("/");
    const family = net.isIP(address) as 4 | 6;
    const bits = family === 4 ? 32 : 128;
    let value = 0n;
    if (family === 4) {
        for (const part of address.split(".")) {
            value = (value << 8n) | BigInt(Number(part));
        }
    } else {
        // Expand `::`, and an embedded IPv4 tail, into eight 16-bit groups.
        let text = address.toLowerCase();
        const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
        if (v4) {
            const [a, b, c, d] = v4[1].split(".").map(Number);
            text = `${text.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        }
        const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
        const left = head ? head.split(":") : [];
        const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
        const groups =
            tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
        for (const group of groups) {
            value = (value << 16n) | BigInt(parseInt(group, 16));
        }
    }
    const length = BigInt(prefix === undefined ? bits : Number(prefix));
    const size = 1n << (BigInt(bits) - length);
    return { family, start: (value / size) * size, size };
}

/**
 * The address families whose whole space these sources cover together: `0.0.0.0/0`, but also `0.0.0.0/1` with
 * `128.0.0.0/1`, or any other set of ranges that leaves no address out.
 */
export function worldCoveredBy(sources: ReadonlyArray<string>): Array<4 | 6> {
    const covered: Array<4 | 6> = [];
    for (const family of [4, 6] as const) {
        const whole = 1n << (family === 4 ? 32n : 128n);
        const ranges = sources
            .filter((s) => checkCidr(s) === undefined)
            .map(cidrRange)
            .filter((r) => r.family === family)
            .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
        let reached = 0n;
        for (const r of ranges) {
            if (r.start > reached) {
                break;
            }
            reached = r.start + r.size > reached ? r.start + r.size : reached;
        }
        if (reached >= whole) {
            covered.push(family);
        }
    }
    return covered;
}

/** Parses the raw `security` config value: the rules it gives, and every problem of it. */
export function parseSecurityConfig(raw: unknown): { security: SecurityConfig; problems: Problem[] } {
    const problems: Problem[] = [];
    const rules: SecurityRule[] = [];
    const security: SecurityConfig = { rules, hostFirewall: false };
    if (raw === undefined) {
        return { security, problems };
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        problems.push({
            path: "security",
            value: JSON.stringify(raw),
            message: "must be an object with a `rules` list",
        });
        return { security, problems };
    }
    for (const key of Object.keys(raw).filter((k) => k !== "rules" && k !== "hostFirewall")) {
        problems.push({ path: `security.${key}`, message: "is not a security setting (rules, hostFirewall)" });
    }
    const hostFirewall = (raw as { hostFirewall?: unknown }).hostFirewall;
    if (typeof hostFirewall === "boolean") {
        security.hostFirewall = hostFirewall;
    } else if (hostFirewall !== undefined) {
        problems.push({
            path: "security.hostFirewall",
            value: JSON.stringify(hostFirewall),
            message: "must be true or false",
        });
    }
    const rawRules = (raw as { rules?: unknown }).rules ?? [];
    if (!Array.isArray(rawRules)) {
        problems.push({ path: "security.rules", value: JSON.stringify(rawRules), message: "must be a list of rules" });
        return { security, problems };
    }
    rawRules.forEach((r: unknown, i: number) => {
        const rule = parseRule(r, i, problems);
        if (rule !== undefined) {
            rules.push(rule);
        }
    });
    return { security, problems };
}

/** One rule (`security.rules[i]`), or undefined when it cannot be enforced; its problems go on `problems`. */
function parseRule(r: unknown, i: number, problems: Problem[]): SecurityRule | undefined {
    const path = `security.rules[${i}]`;
    const problem = (at: string, value: unknown, message: string) =>
        problems.push({
            path: `${path}${at}`,
            ...(value === undefined ? {} : { value: JSON.stringify(value) }),
            message,
        });
    if (typeof r !== "object" || r === null) {
        problem("", r, "must be an object {port, protocol, sources, description}");
        return undefined;
    }
    const rule = r as Record<string, unknown>;
    for (const key of Object.keys(rule).filter((k) => !RULE_KEYS.includes(k))) {
        problem(`.${key}`, undefined, "is not a rule setting (port, protocol, sources, description)");
    }
    const port = parseRulePort(rule.port);
    if (port === undefined) {
        problem(".port", rule.port, `must be a port number 1-65535 or one of ${NAMED_PORTS.join(", ")}`);
    }
    const protocol = rule.protocol ?? "tcp";
    if (protocol !== "tcp" && protocol !== "udp") {
        problem(".protocol", protocol, "must be tcp or udp");
    }
    const sources = rule.sources;
    if (!Array.isArray(sources) || sources.length === 0 || !sources.every((s) => typeof s === "string")) {
        problem(".sources", sources, "must be a non-empty list of CIDRs, e.g. [10.0.0.0/8]");
    } else {
        sources.forEach((s: string, j: number) => {
            const bad = checkCidr(s);
            if (bad) {
                problems.push({ path: `${path}.sources[${j}]`, value: s, message: bad });
            }
        });
    }
    if (typeof rule.description !== "string" || rule.description.trim() === "") {
        problem(".description", rule.description, "must say what the rule is for");
    }
    if (rule.purpose !== undefined && typeof rule.purpose !== "string") {
        problem(".purpose", rule.purpose, "must name what the port is, e.g. postgres");
    }
    if (port === undefined || (protocol !== "tcp" && protocol !== "udp") || !Array.isArray(sources)) {
        return undefined;
    }
    return {
        port,
        protocol,
        sources: sources as string[],
        description: String(rule.description ?? ""),
        ...(typeof rule.purpose === "string" ? { purpose: rule.purpose } : {}),
        at: i,
    };
}

function parseRulePort(port: unknown): number | NamedPort | undefined {
    if (typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535) {
        return port;
    }
    return typeof port === "string" && (NAMED_PORTS as ReadonlyArray<string>).includes(port)
        ? (port as NamedPort)
        : undefined;
}

/** Redis's port: never published, and never to be opened to the world by a rule either. */
export const REDIS_PORT = 6379;

/**
 * The data stores rules must never open to the world: PostgreSQL by name or by its host port, Redis by its port, and
 * any rule whose purpose says it is one (the rules the program hands `bklite firewall apply` carry their purpose).
 */
export function dataStorePorts(postgresPorts: ReadonlyArray<number>): (rule: SecurityRule) => string | undefined {
    return (rule) =>
        rule.port === "postgres" || postgresPorts.includes(rule.port as number) || rule.purpose === "postgres"
            ? "postgres"
            : rule.port === REDIS_PORT || rule.purpose === "redis"
              ? "redis"
              : undefined;
}

/**
 * Problems with rules that open a data store to the whole world, however the world is written: a /0 in any form,
 * or ranges that together leave no address out (`0.0.0.0/1` and `128.0.0.0/1`), within one rule or across the
 * rules for the same port. The stack config and `bklite firewall apply` both refuse them through this.
 */
export function checkDataStoreExposure(
    rules: ReadonlyArray<SecurityRule>,
    storeOf: (rule: SecurityRule) => string | undefined,
): Problem[] {
    const problems: Problem[] = [];
    const byPort = new Map<string, number[]>();
    rules.forEach((rule, i) => {
        if (storeOf(rule) !== undefined) {
            byPort.set(`${rule.port}/${rule.protocol}`, [...(byPort.get(`${rule.port}/${rule.protocol}`) ?? []), i]);
        }
    });
    for (const indexes of byPort.values()) {
        const store = storeOf(rules[indexes[0]])!;
        const message = `opens ${store} (port ${rules[indexes[0]].port}) to the whole world; list the hosts that need it (the stack itself reaches it on loopback)`;
        let named = false;
        for (const i of indexes) {
            rules[i].sources.forEach((source, j) => {
                if (isWorldOpen(source)) {
                    problems.push({
                        path: `security.rules[${rules[i].at ?? i}].sources[${j}]`,
                        value: source,
                        message,
                    });
                    named = true;
                }
            });
        }
        const families = worldCoveredBy(indexes.flatMap((i) => rules[i].sources));
        if (families.length > 0 && !named) {
            for (const i of indexes) {
                problems.push({
                    path: `security.rules[${rules[i].at ?? i}].sources`,
                    value: rules[i].sources.join(", "),
                    message: `${message}: together these ranges cover every IPv${families.join(" and IPv")} address`,
                });
            }
        }
    }
    return problems;
}
