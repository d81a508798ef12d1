/**
 * Security rules resolved: named ports to port numbers, merged per port with canonical sources, defaults when none
 * are given, and the warnings the output must carry. One table drives the host firewall, the cluster's
 * NetworkPolicies and the `securityRules` output for the cloud security group. Pure: the port numbers come in
 * (stackRules.ts gives a stack's).
 */
import * as net from "net";
import { NamedPort, SecurityRule, isWorldOpen } from "./rules";

export interface ResolvedRule {
    port: number;
    protocol: "tcp" | "udp";
    sources: string[];
    description: string;
    /** The named port this rule is for (http, nats, ...), or `port <n>`. */
    purpose: string;
}

/**
 * The rules as the firewall command and `bklite verify` take them (`{rules: [...]}`), each with its fields in one
 * order: the JSON is a trigger, and must not change unless a rule does.
 */
export function firewallRules(rules: ReadonlyArray<ResolvedRule>): ResolvedRule[] {
    return rules.map((r) => ({
        port: r.port,
        protocol: r.protocol,
        sources: r.sources,
        description: r.description,
        purpose: r.purpose,
    }));
}

export interface ResolvedSecurity {
    rules: ResolvedRule[];
    warnings: string[];
}

/** Anyone, in both address families. */
export const WORLD = ["0.0.0.0/0", "::/0"];

/** When no rule is given: the console and agent API, and NATS for agents, from anywhere. Nothing else. */
export const DEFAULT_RULES: SecurityRule[] = [
    { port: "http", protocol: "tcp", sources: WORLD, description: "console and agent API" },
    { port: "nats", protocol: "tcp", sources: WORLD, description: "agents to NATS (TLS)" },
];

/** Canonical CIDR: a bare address becomes /32 or /128, host bits are cleared. */
export function canonicalCidr(cidr: string): string {
    const [address, prefixText] = cidr.split("/");
    const family = net.isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (family === 4) {
        const value = address.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
        const mask = prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n);
        const network = value & mask;
        return `${[24n, 16n, 8n, 0n].map((shift) => ((network >> shift) & 255n).toString()).join(".")}/${prefix}`;
    }
    const groups = expandIpv6(address.toLowerCase());
    let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
    const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
    value &= mask;
    const parts = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
    return `${compressIpv6(parts)}/${prefix}`;
}

function expandIpv6(address: string): number[] {
    // An embedded IPv4 tail (::ffff:10.0.0.1, 64:ff9b::192.0.2.1) is two 16-bit groups.
    const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
    if (dotted) {
        const [a, b, c, d] = dotted.slice(1).map(Number);
        address = `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    }
    const [head, tail] = address.split("::");
    const parse = (s: string) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
    const left = parse(head);
    const right = tail === undefined ? [] : parse(tail);
    return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}

function compressIpv6(parts: number[]): string {
    let best = { start: -1, length: 0 };
    for (let i = 0; i < 8;) {
        if (parts[i] !== 0) {
            i++;
            continue;
        }
        let j = i;
        while (j < 8 && parts[j] === 0) {
            j++;
        }
        if (j - i > best.length && j - i > 1) {
            best = { start: i, length: j - i };
        }
        i = j;
    }
    const hex = parts.map((p) => p.toString(16));
    if (best.start < 0) {
        return hex.join(":");
    }
    return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/** Rules with named ports resolved, merged per port and protocol (sources unioned, canonical), in a stable order. */
export function resolveRules(
    declared: ReadonlyArray<SecurityRule>,
    numbers: Partial<Record<NamedPort, number>>,
): ResolvedSecurity {
    const merged = new Map<string, ResolvedRule>();
    for (const rule of declared) {
        const port = typeof rule.port === "number" ? rule.port : numbers[rule.port];
        if (port === undefined) {
            throw new Error(`the named port '${rule.port}' has no number here; give the port number`);
        }
        const purpose =
            typeof rule.port === "number"
                ? (Object.entries(numbers).find(([, n]) => n === rule.port)?.[0] ?? `port ${rule.port}`)
                : rule.port;
        const key = `${port}/${rule.protocol}`;
        const existing = merged.get(key);
        const sources = [...new Set([...(existing?.sources ?? []), ...rule.sources.map(canonicalCidr)])].sort();
        merged.set(key, {
            port,
            protocol: rule.protocol,
            sources,
            description: existing ? `${existing.description}; ${rule.description}` : rule.description,
            purpose,
        });
    }
    const rules = [...merged.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
    const warnings = rules
        .filter((r) => r.purpose === "nats" && r.sources.some(isWorldOpen))
        .map(
            (r) =>
                `NATS (port ${r.port}) is open to the whole world; list the agents' networks in bklite:security.rules if you can`,
        );
    return { rules, warnings };
}

/** The address a published port binds to: loopback when only the host itself may reach it. */
export function bindAddress(
    plan: ResolvedSecurity,
    hostPort: number,
    protocol: "tcp" | "udp" = "tcp",
): string | undefined {
    // Published on IPv4 (Docker's default bridge); an IPv6-only rule set still binds 0.0.0.0.
    const rule = plan.rules.find((r) => r.port === hostPort && r.protocol === protocol);
    if (!rule) {
        return undefined;
    }
    return rule.sources.every((s) => s.startsWith("127.") || s === "::1/128") ? "127.0.0.1" : "0.0.0.0";
}
