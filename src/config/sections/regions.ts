/**
 * `bklite:regions`: the cloud regions and what their agents are told. Every region's SidecarEnv is checked as agents
 * will read it, derived values included, by the rules `bklite seed apply` applies too (src/services/regions.ts), so a
 * region that would send agents nowhere is refused before anything is deployed.
 */
import {
    AgentEndpoints,
    DEFAULT_REGION,
    REGION_NAME_MAX,
    SIDECAR_KEY_MAX,
    SIDECAR_VALUE_MAX,
    checkRegionEnv,
    regionEnv,
} from "../../services/regions";
import { agentUserName } from "../../services/natsAccounts";
import { isRecord } from "../../util/json";
import { AddProblem } from "../problems";
import { RegionConfig } from "../types";

/** SidecarEnv keys that hold secrets (bk-lite encrypts keys containing "password"); never in plaintext config. */
const SECRET_LIKE_KEY = /PASSWORD|SECRET|TOKEN/i;
const REGION_KEYS = ["name", "nodeServerUrl", "env"];

/** The regions as written (so every problem's path points at the stack file's own list), checked whole. */
export function parseRegions(value: unknown, endpoints: AgentEndpoints | undefined, add: AddProblem): RegionConfig[] {
    if (!Array.isArray(value)) {
        add("regions", "must be a list of regions [{name, nodeServerUrl?, env?}]", value);
        return [{ name: DEFAULT_REGION }];
    }
    const regions: RegionConfig[] = [];
    value.forEach((r: unknown, i: number) => {
        const region = parseRegion(r, `regions[${i}]`, add);
        if (region !== undefined) {
            regions.push(region);
        }
    });
    checkRegions(regions, endpoints, add);
    return regions;
}

/** The regions of a stack, `default` first (added when not listed), so ids and output order are stable. */
export function withDefaultRegionFirst(regions: RegionConfig[]): RegionConfig[] {
    const given = regions.find((r) => r.name === DEFAULT_REGION);
    return [given ?? { name: DEFAULT_REGION }, ...regions.filter((r) => r.name !== DEFAULT_REGION)];
}

function parseRegion(r: unknown, path: string, add: AddProblem): RegionConfig | undefined {
    if (!isRecord(r) || typeof r.name !== "string") {
        add(path, "must be an object with a `name`", r);
        return undefined;
    }
    for (const key of Object.keys(r).filter((k) => !REGION_KEYS.includes(k))) {
        add(`${path}.${key}`, "is not a region setting (name, nodeServerUrl, env)");
    }
    const region: RegionConfig = { name: r.name };
    if (r.nodeServerUrl !== undefined) {
        if (typeof r.nodeServerUrl !== "string") {
            add(`${path}.nodeServerUrl`, "must be a URL string like http://10.1.0.5:8080", r.nodeServerUrl);
        } else {
            region.nodeServerUrl = r.nodeServerUrl;
        }
    }
    if (r.env !== undefined) {
        if (!isRecord(r.env)) {
            add(`${path}.env`, "must map SidecarEnv keys to string values", r.env);
        } else {
            region.env = r.env as Record<string, string>;
        }
    }
    return region;
}

/**
 * Problems with the regions as a whole and each one's env. Without endpoints (the host address is itself invalid)
 * only what a region gives explicitly is checked.
 */
function checkRegions(regions: ReadonlyArray<RegionConfig>, endpoints: AgentEndpoints | undefined, add: AddProblem) {
    const seen = new Map<string, number>();
    regions.forEach((region, i) => {
        const path = `regions[${i}]`;
        if (region.name.trim() === "" || region.name !== region.name.trim()) {
            add(`${path}.name`, "must be a non-empty name without surrounding spaces", region.name);
        } else if ([...region.name].length > REGION_NAME_MAX) {
            add(`${path}.name`, `is longer than bk-lite's ${REGION_NAME_MAX} characters`, region.name);
        }
        const first = seen.get(region.name);
        if (first !== undefined) {
            add(`${path}.name`, `duplicates regions[${first}].name; give each region a unique name`, region.name);
        } else {
            seen.set(region.name, i);
        }
        checkGivenEnv(region, path, add);
        checkAgentEnv(region, path, endpoints, add);
    });
}

/** The keys a region's `env` gives: UPPER_CASE, within bk-lite's sizes, and never a secret. */
function checkGivenEnv(region: RegionConfig, path: string, add: AddProblem): void {
    const env = region.env ?? {};
    const url = env.NODE_SERVER_URL;
    if (region.nodeServerUrl !== undefined && url !== undefined && url !== region.nodeServerUrl) {
        add(`${path}.env.NODE_SERVER_URL`, `conflicts with ${path}.nodeServerUrl; set only nodeServerUrl`, url);
    }
    for (const key of Object.keys(env).filter((k) => SECRET_LIKE_KEY.test(k))) {
        add(
            `${path}.env.${key}`,
            key === "NATS_PASSWORD"
                ? "must not be set in config (it would be stored in plaintext); the region's own agent password, derived from bklite:natsAgentKey, is used"
                : "looks like a secret, and region env is plaintext config (and stored in state); secret SidecarEnv values are not supported here",
        );
    }
    if (env.NATS_USERNAME !== undefined) {
        add(
            `${path}.env.NATS_USERNAME`,
            `must not be set: each region's agents have a NATS user of their own (${agentUserName(region.name)} here), which NATS holds to what agents do; remove it`,
            env.NATS_USERNAME,
        );
    }
    for (const [key, value] of Object.entries(env)) {
        if (!/^[A-Z][A-Z0-9_]*$/.test(key) || key.length > SIDECAR_KEY_MAX) {
            add(`${path}.env.${key}`, "is not a valid SidecarEnv key (UPPER_CASE letters, digits, _)");
        }
        if (typeof value !== "string") {
            add(`${path}.env.${key}`, "must be a string", value);
        } else if (value.length > SIDECAR_VALUE_MAX) {
            add(`${path}.env.${key}`, `is longer than bk-lite's ${SIDECAR_VALUE_MAX} characters`);
        }
    }
}

/** The env agents will read, derived values included, checked as seeding checks it. */
function checkAgentEnv(region: RegionConfig, path: string, endpoints: AgentEndpoints | undefined, add: AddProblem) {
    const env = region.env ?? {};
    const given = { ...env, ...(region.nodeServerUrl !== undefined ? { NODE_SERVER_URL: region.nodeServerUrl } : {}) };
    const rendered: Record<string, string> = endpoints
        ? Object.fromEntries(
              Object.entries(regionEnv(region, endpoints)).map(([k, v]) => [
                  k,
                  typeof v === "string" ? v : "(generated)",
              ]),
          )
        : (Object.fromEntries(Object.entries(given).filter(([, v]) => typeof v === "string")) as Record<
              string,
              string
          >);
    for (const p of checkRegionEnv(region.name, rendered)) {
        if (!endpoints && p.message.startsWith("is missing")) {
            continue; // derived from hostAddress, which has its own problem
        }
        const where =
            p.path === "NODE_SERVER_URL" && region.nodeServerUrl !== undefined
                ? "nodeServerUrl"
                : env[p.path] !== undefined
                  ? `env.${p.path}`
                  : `env.${p.path} (derived from hostAddress and the ports)`;
        const consequence = p.message.includes(`region '${region.name}'`)
            ? ""
            : `; agents in region '${region.name}' would fail`;
        add(`${path}.${where}`, `${p.message}${consequence}`, rendered[p.path]);
    }
}
