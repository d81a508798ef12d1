/**
 * The stack's general settings: which runtime, the host address, offline and verify, the host ports, the console's
 * public URL and the bk-lite apps it installs.
 */
import * as net from "net";
import { checkNodeServerUrl } from "../../services/regions";
import { missingAppNeeds } from "../../services/appNeeds";
import { UNSUPPORTED_APPS } from "../../services/catalog";
import { CONFIG_KEYS, CONFIG_NAMESPACE, KNOWN_APPS, RUNTIMES } from "../keys";
import { AddProblem } from "../problems";
import { RawConfig } from "../raw";
import { HostPorts, StackConfig } from "../types";

export type GeneralSettings = Pick<
    StackConfig,
    "runtime" | "hostAddress" | "offline" | "verify" | "ports" | "publicUrl" | "installApps"
>;

const HOSTNAME =
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Checks a host address: an IP address clients can reach, or a DNS name. */
export function checkHostAddress(address: string): string | undefined {
    if (address === "") {
        return "is empty";
    }
    if (net.isIP(address) !== 0) {
        return address === "0.0.0.0" || address === "::"
            ? "is the unspecified address, which no browser or agent can connect to"
            : undefined;
    }
    if (/^[0-9.]+$/.test(address)) {
        return "is not a valid IPv4 address";
    }
    return HOSTNAME.test(address) ? undefined : "is not an IP address or DNS name";
}

/** The general settings; a refused value is left at its default, with its problem said. */
export function parseGeneral(raw: RawConfig, add: AddProblem): GeneralSettings {
    const runtime = raw.value("runtime");
    if (!(RUNTIMES as ReadonlyArray<unknown>).includes(runtime)) {
        add("runtime", `must be one of ${RUNTIMES.join(", ")}`, runtime);
    }
    return {
        runtime: runtime as StackConfig["runtime"],
        hostAddress: parseHostAddress(raw.text("hostAddress"), add),
        offline: parseBoolean(raw, "offline", true, add),
        verify: parseBoolean(raw, "verify", true, add),
        ports: parsePorts(raw, add),
        publicUrl: parsePublicUrl(raw.value("publicUrl"), add),
        installApps: parseInstallApps(raw.value("installApps"), add),
    };
}

function parseHostAddress(text: string | undefined, add: AddProblem): string {
    if (text === undefined || text.trim() === "") {
        add(
            "hostAddress",
            "is missing; set the address browsers and agents use, e.g. `pulumi config set bklite:hostAddress 192.168.31.10`",
        );
        return "";
    }
    const problem = checkHostAddress(text);
    if (problem) {
        add(
            "hostAddress",
            `${problem}; set the IP address or DNS name browsers and agents use, e.g. 192.168.31.10`,
            text,
        );
        return "";
    }
    return text;
}

function parseBoolean(raw: RawConfig, key: "offline" | "verify", fallback: boolean, add: AddProblem): boolean {
    const value = raw.value(key);
    if (typeof value !== "boolean") {
        add(key, "must be true or false", value);
        return fallback;
    }
    return value;
}

const PORT_KEYS = { http: "httpPort", nats: "natsPort", postgres: "postgresPort" } as const;

function parsePorts(raw: RawConfig, add: AddProblem): HostPorts {
    const ports: HostPorts = { http: 8080, nats: 24222, postgres: 25432 };
    for (const [name, key] of Object.entries(PORT_KEYS) as Array<[keyof HostPorts, string]>) {
        const value = raw.value(key);
        if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
            add(key, "must be a port number from 1 to 65535", value);
        } else {
            ports[name] = value;
        }
    }
    const byPort = new Map<number, string[]>();
    for (const [name, key] of Object.entries(PORT_KEYS) as Array<[keyof HostPorts, string]>) {
        byPort.set(ports[name], [...(byPort.get(ports[name]) ?? []), key]);
    }
    for (const [port, keys] of byPort) {
        if (keys.length > 1) {
            const others = keys
                .slice(0, -1)
                .map((k) => `${CONFIG_NAMESPACE}:${k}`)
                .join(", ");
            add(keys[1], `uses host port ${port}, which ${others} also uses; give each service its own port`, port);
        }
    }
    return ports;
}

function parsePublicUrl(value: unknown, add: AddProblem): string {
    if (typeof value !== "string" || value === "") {
        return "";
    }
    const problem = checkNodeServerUrl(value);
    if (problem) {
        add("publicUrl", `${problem}; leave it empty to use http://<hostAddress>:<httpPort>`, value);
        return "";
    }
    return value.replace(/\/$/, "");
}

function parseInstallApps(value: unknown, add: AddProblem): string[] {
    const fallback = [...(CONFIG_KEYS.installApps.default as string[])];
    if (!Array.isArray(value) || !value.every((a) => typeof a === "string")) {
        add("installApps", "must be a list of app names", value);
        return fallback;
    }
    const problem = installAppsProblem(value);
    if (problem !== undefined) {
        add("installApps", problem, value);
        return fallback;
    }
    return value;
}

function installAppsProblem(apps: string[]): string | undefined {
    const unknown = apps.filter((a) => !(KNOWN_APPS as ReadonlyArray<string>).includes(a));
    const unsupported = apps.filter((a) => a in UNSUPPORTED_APPS);
    const supported = KNOWN_APPS.filter((a) => !(a in UNSUPPORTED_APPS));
    if (unknown.length > 0) {
        return `has unknown apps ${unknown.join(", ")}; known apps: ${supported.join(", ")}`;
    }
    if (unsupported.length > 0) {
        const why = unsupported.map((a) => `${a} ${UNSUPPORTED_APPS[a]}`).join("; ");
        return `${why}; remove it (apps this program runs: ${supported.join(", ")})`;
    }
    if (new Set(apps).size !== apps.length) {
        return "lists an app twice";
    }
    if (!apps.includes("node_mgmt")) {
        return "must include node_mgmt: it creates the default cloud region and the collector definitions agents need";
    }
    const missing = missingAppNeeds(apps);
    if (missing.length > 0) {
        const why = missing.map((n) => `${n.app} needs ${n.missing.join(", ")}: ${n.why} (${n.source})`).join("; ");
        return `${why}; add ${[...new Set(missing.flatMap((n) => n.missing))].join(", ")} or remove ${missing.map((n) => n.app).join(", ")}`;
    }
    return undefined;
}
