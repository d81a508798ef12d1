/**
 * Cloud regions and the SidecarEnv every region needs. Seed 003: a region without NODE_SERVER_URL made every
 * agent write `null/api/v1/...` and restart 524 times. Here every region gets all six keys, derived from where
 * agents actually reach the stack unless the config says otherwise, and a URL that is not absolute http(s) is
 * refused before anything is deployed.
 */
import type { StackConfig } from "../config/parse";
import { TextValue, ref } from "./template";

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

/** Name of the runtime value holding the NATS password; regions refer to it, never hold it. */
export const NATS_PASSWORD_REF = "natsPassword";

/** bk-lite's column sizes (HP schema): cloud region name varchar(100), SidecarEnv key 100, value 200. */
export const REGION_NAME_MAX = 100;
export const SIDECAR_KEY_MAX = 100;
export const SIDECAR_VALUE_MAX = 200;

/** SidecarEnv keys that hold secrets (bk-lite encrypts keys containing "password"); never in plaintext config. */
const SECRET_LIKE_KEY = /PASSWORD|SECRET|TOKEN/i;

export interface RegionConfig {
    name: string;
    /** Absolute http(s) URL agents in this region use to reach the server; default `http://<host>:<http port>`. */
    nodeServerUrl?: string;
    /** Extra or overriding SidecarEnv keys (never NATS_PASSWORD: that is a generated secret). */
    env?: Record<string, string>;
}

/** Where agents reach the stack from outside. */
export interface AgentEndpoints {
    hostAddress: string;
    httpPort: number;
    /** Where agents reach NATS: hostAddress, or on a cluster behind load balancers the NATS one's own address. */
    natsHost: string;
    natsPort: number;
    natsUser: string;
}

/** The NATS user agents and the server share. */
export const NATS_USER = "admin";

/**
 * Where agents and browsers reach the stack: the host address and the ports published for them (host ports on
 * Docker; node ports, or the LoadBalancer's own ports, on Kubernetes). NODE_SERVER_URL and NATS_SERVERS derive from it.
 */
export function agentEndpoints(
    config: Pick<StackConfig, "runtime" | "hostAddress" | "ports" | "kubernetes">,
): AgentEndpoints {
    const k = config.kubernetes;
    const loadBalanced = config.runtime === "kubernetes" && k.serviceType === "LoadBalancer";
    // The cluster's own Traefik (k3s) listens on port 80 of its nodes or its load balancer.
    const httpPort =
        config.runtime === "docker"
            ? config.ports.http
            : k.ingress === "cluster" || loadBalanced
              ? 80
              : k.nodePorts.http;
    const natsPort = config.runtime === "docker" ? config.ports.nats : loadBalanced ? 4222 : k.nodePorts.nats;
    const natsHost = loadBalanced && k.natsAddress ? k.natsAddress : config.hostAddress;
    return { hostAddress: config.hostAddress, httpPort, natsHost, natsPort, natsUser: NATS_USER };
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
 * The literal `null` (seed 003) and `null/api/...` fail here because they have no scheme.
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
 * The addresses regions tell agents to reach NATS at (their NATS_SERVERS overrides): the server certificate must
 * name each, or agents there fail to verify it.
 */
export function agentNatsHosts(regions: ReadonlyArray<RegionConfig>): string[] {
    const hosts = regions.flatMap((r) => {
        const value = r.env?.NATS_SERVERS;
        const parsed = typeof value === "string" ? natsServerHosts(value) : undefined;
        return parsed && "hosts" in parsed ? parsed.hosts : [];
    });
    return [...new Set(hosts)].sort();
}

/** The protocols agents' NATS clients take in NATS_PROTOCOL. */
export const NATS_PROTOCOLS = ["tls", "nats"] as const;

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
export function checkRegionEnv(
    region: string,
    env: Readonly<Record<string, string>>,
): Array<{ key: string; message: string }> {
    const problems: Array<{ key: string; message: string }> = [];
    const add = (key: string, message: string) => problems.push({ key, message });
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
            `${JSON.stringify(env.NATS_PROTOCOL)} is not a protocol agents take; use ${NATS_PROTOCOLS.join(" or ")} (the stack's NATS takes tls only)`,
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

/** The full SidecarEnv of a region: the six required keys, derived where not given, then the region's env. */
export function regionEnv(region: RegionConfig, endpoints: AgentEndpoints): Record<string, TextValue> {
    const derived: Record<string, TextValue> = {
        NODE_SERVER_URL: region.nodeServerUrl ?? defaultNodeServerUrl(endpoints),
        NATS_SERVERS: `${hostForUrl(endpoints.natsHost)}:${endpoints.natsPort}`,
        NATS_USERNAME: endpoints.natsUser,
        NATS_PASSWORD: { parts: [ref(NATS_PASSWORD_REF)] },
        NATS_PROTOCOL: "tls",
        NATS_TLS_CA_FILE: AGENT_CA_FILE,
    };
    return { ...derived, ...(region.env ?? {}) };
}

/**
 * Problems with the configured regions; empty when all is well. Without endpoints (the host address is itself
 * invalid) only the URLs a region gives explicitly are checked.
 */
export function checkRegions(
    regions: ReadonlyArray<RegionConfig>,
    endpoints: AgentEndpoints | undefined,
): Array<{ path: string; value?: string; message: string }> {
    const problems: Array<{ path: string; value?: string; message: string }> = [];
    const seen = new Map<string, number>();
    regions.forEach((region, i) => {
        const path = `regions[${i}]`;
        if (region.name.trim() === "" || region.name !== region.name.trim()) {
            problems.push({
                path: `${path}.name`,
                value: region.name,
                message: "must be a non-empty name without surrounding spaces",
            });
        } else if ([...region.name].length > REGION_NAME_MAX) {
            problems.push({
                path: `${path}.name`,
                value: region.name,
                message: `is longer than bk-lite's ${REGION_NAME_MAX} characters`,
            });
        }
        const first = seen.get(region.name);
        if (first !== undefined) {
            problems.push({
                path: `${path}.name`,
                value: region.name,
                message: `duplicates regions[${first}].name; give each region a unique name`,
            });
        } else {
            seen.set(region.name, i);
        }
        const env = region.env ?? {};
        if (
            region.nodeServerUrl !== undefined &&
            env.NODE_SERVER_URL !== undefined &&
            env.NODE_SERVER_URL !== region.nodeServerUrl
        ) {
            problems.push({
                path: `${path}.env.NODE_SERVER_URL`,
                value: env.NODE_SERVER_URL,
                message: `conflicts with ${path}.nodeServerUrl; set only nodeServerUrl`,
            });
        }
        for (const key of Object.keys(env).filter((k) => SECRET_LIKE_KEY.test(k))) {
            problems.push({
                path: `${path}.env.${key}`,
                message:
                    key === "NATS_PASSWORD"
                        ? "must not be set in config (it would be stored in plaintext); the stack's generated NATS password is used"
                        : "looks like a secret, and region env is plaintext config (and stored in state); secret SidecarEnv values are not supported here",
            });
        }
        for (const [key, value] of Object.entries(env)) {
            if (!/^[A-Z][A-Z0-9_]*$/.test(key) || key.length > SIDECAR_KEY_MAX) {
                problems.push({
                    path: `${path}.env.${key}`,
                    message: "is not a valid SidecarEnv key (UPPER_CASE letters, digits, _)",
                });
            }
            if (typeof value !== "string") {
                problems.push({
                    path: `${path}.env.${key}`,
                    value: JSON.stringify(value),
                    message: "must be a string",
                });
            } else if (value.length > SIDECAR_VALUE_MAX) {
                problems.push({
                    path: `${path}.env.${key}`,
                    message: `is longer than bk-lite's ${SIDECAR_VALUE_MAX} characters`,
                });
            }
        }
        // The env agents will read, derived values included, checked as seeding checks it.
        const rendered = endpoints
            ? Object.fromEntries(
                  Object.entries(regionEnv(region, endpoints)).map(([k, v]) => [
                      k,
                      typeof v === "string" ? v : "(generated)",
                  ]),
              )
            : (Object.fromEntries(
                  Object.entries({
                      ...env,
                      ...(region.nodeServerUrl !== undefined ? { NODE_SERVER_URL: region.nodeServerUrl } : {}),
                  }).filter(([, v]) => typeof v === "string"),
              ) as Record<string, string>);
        for (const p of checkRegionEnv(region.name, rendered)) {
            if (!endpoints && p.message.startsWith("is missing")) {
                continue; // derived from hostAddress, which has its own problem
            }
            const given =
                p.key === "NODE_SERVER_URL" && region.nodeServerUrl !== undefined
                    ? "nodeServerUrl"
                    : env[p.key] !== undefined
                      ? `env.${p.key}`
                      : `env.${p.key} (derived from hostAddress and the ports)`;
            const consequence = p.message.includes(`region '${region.name}'`)
                ? ""
                : `; agents in region '${region.name}' would fail`;
            problems.push({ path: `${path}.${given}`, value: rendered[p.key], message: `${p.message}${consequence}` });
        }
    });
    return problems;
}
