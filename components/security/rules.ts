/**
 * Security rules as declared in `bklite:security.rules`: which ports are reachable from where. This module
 * parses and checks them; enforcing them (host firewall, NetworkPolicies) builds on the same types.
 */
import * as net from "net";

/** Ports of the stack that rules may name instead of a number. */
export const NAMED_PORTS = ["http", "https", "nats", "postgres"] as const;
export type NamedPort = (typeof NAMED_PORTS)[number];

/** Data stores that must never be reachable from the whole world. */
export const HOST_ONLY_PORTS: ReadonlyArray<NamedPort> = ["postgres"];

export interface SecurityRule {
    port: number | NamedPort;
    protocol: "tcp" | "udp";
    sources: string[];
    description: string;
}

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

/** Parses the raw `security` config value; problems are [path, value, message]. */
export function parseSecurityConfig(raw: unknown): {
    security: SecurityConfig;
    problems: Array<{ path: string; value?: string; message: string }>;
} {
    const problems: Array<{ path: string; value?: string; message: string }> = [];
    const rules: SecurityRule[] = [];
    const security: SecurityConfig = { rules, hostFirewall: false };
    if (raw === undefined) {
        return { security, problems };
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        problems.push({ path: "security", value: JSON.stringify(raw), message: "must be an object with a `rules` list" });
        return { security, problems };
    }
    for (const key of Object.keys(raw)) {
        if (key !== "rules" && key !== "hostFirewall") {
            problems.push({ path: `security.${key}`, message: "is not a security setting (rules, hostFirewall)" });
        }
    }
    const hostFirewall = (raw as { hostFirewall?: unknown }).hostFirewall;
    if (hostFirewall !== undefined) {
        if (typeof hostFirewall !== "boolean") {
            problems.push({ path: "security.hostFirewall", value: JSON.stringify(hostFirewall), message: "must be true or false" });
        } else {
            security.hostFirewall = hostFirewall;
        }
    }
    const rawRules = (raw as { rules?: unknown }).rules ?? [];
    if (!Array.isArray(rawRules)) {
        problems.push({ path: "security.rules", value: JSON.stringify(rawRules), message: "must be a list of rules" });
        return { security, problems };
    }
    rawRules.forEach((r: unknown, i: number) => {
        const path = `security.rules[${i}]`;
        if (typeof r !== "object" || r === null) {
            problems.push({ path, value: JSON.stringify(r), message: "must be an object {port, protocol, sources, description}" });
            return;
        }
        const rule = r as Record<string, unknown>;
        let port: number | NamedPort | undefined;
        if (typeof rule.port === "number" && Number.isInteger(rule.port) && rule.port >= 1 && rule.port <= 65535) {
            port = rule.port;
        } else if (typeof rule.port === "string" && (NAMED_PORTS as ReadonlyArray<string>).includes(rule.port)) {
            port = rule.port as NamedPort;
        } else {
            problems.push({
                path: `${path}.port`,
                value: JSON.stringify(rule.port),
                message: `must be a port number 1-65535 or one of ${NAMED_PORTS.join(", ")}`,
            });
        }
        const protocol = rule.protocol ?? "tcp";
        if (protocol !== "tcp" && protocol !== "udp") {
            problems.push({ path: `${path}.protocol`, value: JSON.stringify(protocol), message: "must be tcp or udp" });
        }
        const sources = rule.sources;
        if (!Array.isArray(sources) || sources.length === 0 || !sources.every((s) => typeof s === "string")) {
            problems.push({ path: `${path}.sources`, value: JSON.stringify(sources), message: "must be a non-empty list of CIDRs, e.g. [10.0.0.0/8]" });
        } else {
            sources.forEach((s: string, j: number) => {
                const problem = checkCidr(s);
                if (problem) {
                    problems.push({ path: `${path}.sources[${j}]`, value: s, message: problem });
                } else if (isWorldOpen(s) && port !== undefined && (HOST_ONLY_PORTS as ReadonlyArray<unknown>).includes(port)) {
                    problems.push({
                        path: `${path}.sources[${j}]`,
                        value: s,
                        message: `opens ${port} to the whole world; list the hosts that need it (the stack itself reaches it on loopback)`,
                    });
                }
            });
        }
        if (typeof rule.description !== "string" || rule.description.trim() === "") {
            problems.push({ path: `${path}.description`, value: JSON.stringify(rule.description), message: "must say what the rule is for" });
        }
        if (port !== undefined && (protocol === "tcp" || protocol === "udp") && Array.isArray(sources)) {
            rules.push({ port, protocol, sources: sources as string[], description: String(rule.description ?? "") });
        }
    });
    return { security, problems };
}

/** Redis's port: never published, and never to be opened to the world by a rule either. */
export const REDIS_PORT = 6379;

/** Problems with rules that open a data store (postgres by number, or redis) to the whole world. */
export function checkDataStoreExposure(rules: ReadonlyArray<SecurityRule>, postgresPort: number): Array<{ path: string; value?: string; message: string }> {
    const problems: Array<{ path: string; value?: string; message: string }> = [];
    rules.forEach((rule, i) => {
        const store = rule.port === postgresPort ? "postgres" : rule.port === REDIS_PORT ? "redis" : undefined;
        if (store) {
            rule.sources.forEach((source, j) => {
                if (isWorldOpen(source)) {
                    problems.push({ path: `security.rules[${i}].sources[${j}]`, value: source, message: `opens ${store} (port ${rule.port}) to the whole world; list the hosts that need it` });
                }
            });
        }
    });
    return problems;
}
