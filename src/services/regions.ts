/**
 * Cloud regions and the SidecarEnv every region needs. A region without NODE_SERVER_URL makes every agent there
 * request `null/api/v1/...` and restart endlessly, so every region gets all six keys, derived from where agents
 * actually reach the stack unless the config says otherwise, and the rules here (applied by the config's validation
 * and by `bklite seed apply` alike) refuse a value agents cannot use.
 */
import * as crypto from "crypto";
import type { RegionConfig } from "../config/types";
import { Problem } from "../util/problem";
import { TextValue, ref } from "./template";
import { agentUserName } from "./natsAccounts";

/** The keys agents read from their region; all six must exist for every region. */
export const REQUIRED_REGION_KEYS = [
    "NODE_SERVER_URL",
    "NATS_SERVERS",
    "NATS_USERNAME",
    "NATS_PASSWORD",
    "NATS_PROTOCOL",
    "NATS_TLS_CA_FILE",
] as const;

/** The region bk-lite creates itself (id 1). It always exists. */
export const DEFAULT_REGION = "default";

/** Where the installed probe package puts the NATS CA (the package's `certs/ca.crt`). */
export const AGENT_CA_FILE = "/opt/fusion-collectors/certs/ca.crt";

/**
 * Name of the runtime value holding a region's agent password; the region refers to it, never holds it. Named by a
 * hash of the region's name, which may be in any script, as value names may not.
 */
export function agentPasswordRef(region: string): string {
    return `agentPassword_${crypto.createHash("sha256").update(region, "utf8").digest("hex").slice(0, 16)}`;
}

/** bk-lite's column sizes (HP schema): cloud region name varchar(100), SidecarEnv key 100, value 200. */
export const REGION_NAME_MAX = 100;
export const SIDECAR_KEY_MAX = 100;
export const SIDECAR_VALUE_MAX = 200;

/** Where agents reach the stack from outside. */
export interface AgentEndpoints {
    hostAddress: string;
    httpPort: number;
    /** Where agents reach NATS: hostAddress, or on a cluster behind load balancers the NATS one's own address. */
    natsHost: string;
    natsPort: number;
}

/** Formats a host for a URL or host:port pair, bracketing IPv6 literals. */
export function hostForUrl(host: string): string {
    return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The URL agents use when a region gives none: the ingress on the host's http port. */
export function defaultNodeServerUrl(endpoints: AgentEndpoints): string {
    return `http://${hostForUrl(endpoints.hostAddress)}:${endpoints.httpPort}`;
}

/**
 * Checks a NODE_SERVER_URL: absolute, http or https, with a host. Returns the problem, or undefined.
 * The literal `null` and `null/api/...` fail here because they have no scheme.
 */
export function checkNodeServerUrl(url: string): string | undefined {
    // Agents concatenate the raw string with /api/v1/..., so it must be written out in full, not just parse.
    if (!/^https?:\/\/\S+$/.test(url)) {
        return "is not an absolute URL (expected http://<address>:<port>, e.g. http://10.1.0.5:8080)";
    }
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        return "is not an absolute URL (expected http://<address>:<port>, e.g. http://10.1.0.5:8080)";
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
        return `uses scheme '${parsed.protocol.replace(/:$/, "")}'; agents need http:// or https://`;
    }
    if (parsed.hostname === "" || parsed.hostname === "null") {
        return "has no host";
    }
    if (parsed.username || parsed.password) {
        return "must not carry credentials";
    }
    if (parsed.pathname !== "/" || parsed.search || parsed.hash) {
        return "must be the server's base URL without a path (agents append /api/v1/...)";
    }
    return undefined;
}

/**
 * The hosts of a NATS_SERVERS value (`host:port[,host:port...]`, no scheme, as agents take it), or a problem.
 * IPv6 hosts are bracketed, as in a URL.
 */
export function natsServerHosts(value: string): { hosts: string[] } | { problem: string } {
    const hosts: string[] = [];
    for (const entry of value.split(",").map((e) => e.trim())) {
        const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
        const port = match ? Number(match[2]) : 0;
        if (!match || port < 1 || port > 65535) {
            return {
                problem: `'${entry}' is not host:port (expected e.g. 10.1.0.5:24222, without a scheme; several separated by commas)`,
            };
        }
        hosts.push(match[1].replace(/^\[|\]$/g, ""));
    }
    return { hosts };
}

/**
 * Every address a region tells its agents to reach NATS at, as the regions' SidecarEnv renders it (the stack's own
 * endpoint, a load balancer's `kubernetes.natsAddress`, or a region's NATS_SERVERS override): the server
 * certificate must name each, or agents there fail to verify it.
 */
export function agentNatsHosts(regions: ReadonlyArray<RegionConfig>, endpoints: AgentEndpoints): string[] {
    const hosts = regions.flatMap((r) => {
        const value = regionEnv(r, endpoints).NATS_SERVERS;
        const parsed = typeof value === "string" ? natsServerHosts(value) : undefined;
        return parsed && "hosts" in parsed ? parsed.hosts : [];
    });
    return [...new Set(hosts)].sort();
}

/**
 * What NATS_PROTOCOL may say: agents also take `nats` (plaintext), but the stack's NATS serves TLS only and refuses
 * plaintext clients (services/natsConfig.ts), so agents told `nats` could never connect.
 */
export const NATS_PROTOCOLS = ["tls"] as const;

function isLoopback(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, "").toLowerCase();
    return h === "localhost" || h === "::1" || /^127\./.test(h) || h === "0.0.0.0";
}

/**
 * Problems with a region's SidecarEnv as agents will read it, by key; the rules `bklite seed apply` and the stack
 * config's validation both apply (one place). Every key of REQUIRED_REGION_KEYS must hold a value of its kind:
 * NODE_SERVER_URL a base URL, NATS_SERVERS a host:port list, NATS_PROTOCOL one agents accept, NATS_TLS_CA_FILE an
 * absolute path; and a region other than `default`, whose agents run on other hosts, must not send them to a
 * loopback address (there it is the agent itself).
 */
export function checkRegionEnv(region: string, env: Readonly<Record<string, string>>): Problem[] {
    const problems: Problem[] = [];
    const add = (key: string, message: string) => problems.push({ path: key, message });
    const remote = region !== DEFAULT_REGION;
    for (const key of REQUIRED_REGION_KEYS) {
        if (env[key] === undefined || env[key] === "") {
            add(key, "is missing: every region needs all six agent keys");
        }
    }
    const url = env.NODE_SERVER_URL;
    if (url) {
        const problem = checkNodeServerUrl(url);
        if (problem) {
            add("NODE_SERVER_URL", `${JSON.stringify(url)} ${problem}`);
        } else if (remote && isLoopback(new URL(url).hostname)) {
            add(
                "NODE_SERVER_URL",
                `${JSON.stringify(url)} is a loopback address; agents in region '${region}' run on other hosts: give the address they reach the server at`,
            );
        }
    }
    const servers = env.NATS_SERVERS;
    if (servers) {
        const parsed = natsServerHosts(servers);
        if ("problem" in parsed) {
            add("NATS_SERVERS", parsed.problem);
        } else if (remote && parsed.hosts.some(isLoopback)) {
            add(
                "NATS_SERVERS",
                `${JSON.stringify(servers)} names a loopback address; agents in region '${region}' run on other hosts: give the address they reach NATS at`,
            );
        }
    }
    if (env.NATS_PROTOCOL && !(NATS_PROTOCOLS as ReadonlyArray<string>).includes(env.NATS_PROTOCOL)) {
        add(
            "NATS_PROTOCOL",
            env.NATS_PROTOCOL === "nats"
                ? `"nats" (plaintext) is refused by the stack's NATS, which serves TLS only: agents would never connect; use tls, or leave NATS_PROTOCOL out`
                : `${JSON.stringify(env.NATS_PROTOCOL)} is not a protocol agents take; use tls (the stack's NATS serves TLS only)`,
        );
    }
    if (env.NATS_TLS_CA_FILE && !/^(\/|[A-Za-z]:\\)/.test(env.NATS_TLS_CA_FILE)) {
        add(
            "NATS_TLS_CA_FILE",
            `${JSON.stringify(env.NATS_TLS_CA_FILE)} is not an absolute path on the agent, e.g. ${AGENT_CA_FILE}`,
        );
    }
    if (env.NATS_USERNAME && /\s/.test(env.NATS_USERNAME)) {
        add("NATS_USERNAME", "must be a NATS user name without spaces");
    }
    return problems;
}

/**
 * The full SidecarEnv of a region: the six required keys, derived where not given, then the region's env. The
 * NATS credentials are always the region's own (config may not give them).
 */
export function regionEnv(region: RegionConfig, endpoints: AgentEndpoints): Record<string, TextValue> {
    const derived: Record<string, TextValue> = {
        NODE_SERVER_URL: region.nodeServerUrl ?? defaultNodeServerUrl(endpoints),
        NATS_SERVERS: `${hostForUrl(endpoints.natsHost)}:${endpoints.natsPort}`,
        NATS_PROTOCOL: "tls",
        NATS_TLS_CA_FILE: AGENT_CA_FILE,
    };
    return {
        ...derived,
        ...(region.env ?? {}),
        NATS_USERNAME: agentUserName(region.name),
        NATS_PASSWORD: { parts: [ref(agentPasswordRef(region.name))] },
    };
}
