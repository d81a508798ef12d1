/**
 * The host firewall: the resolved rules as iptables rules in chains of the stack's own, hooked from INPUT (ports
 * of host processes) and DOCKER-USER (ports Docker publishes, matched on the original destination port because
 * Docker has already rewritten it). Only listed ports are filtered: everything else, SSH included, is untouched.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as net from "net";
import { ResolvedRule, canonicalCidr } from "./resolve";

/** A stack's two chains: for the host's own ports (hooked from INPUT) and for Docker's published ports. */
export interface FirewallChains {
    input: string;
    forward: string;
}

/** iptables' longest chain name (XT_EXTENSION_MAXNAMELEN less the NUL). */
const CHAIN_NAME_MAX = 28;

/**
 * The chains of one stack, so two stacks on one host never replace each other's rules: `BKLITE-IN-<stack>` and
 * `BKLITE-FWD-<stack>`. A stack name too long for iptables, or with other characters, is shortened with a hash.
 */
export function firewallChains(stack: string): FirewallChains {
    const fits = /^[A-Za-z0-9_-]+$/.test(stack) && `BKLITE-FWD-${stack}`.length <= CHAIN_NAME_MAX;
    const tag = fits
        ? stack
        : `${stack.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 7)}-${crypto.createHash("sha256").update(stack).digest("hex").slice(0, 8)}`;
    return { input: `BKLITE-IN-${tag}`, forward: `BKLITE-FWD-${tag}` };
}

/** The chains of versions before chains were named per stack; the first apply of a stack removes them. */
const LEGACY_CHAINS: FirewallChains = { input: "BKLITE-INPUT", forward: "BKLITE-FORWARD" };

function hooks(chains: FirewallChains) {
    return [
        { chain: "INPUT", target: chains.input },
        { chain: "DOCKER-USER", target: chains.forward },
    ] as const;
}

/** The chains' rules for one address family, exactly as `iptables -S <chain>` prints them. */
export function chainRules(
    rules: ReadonlyArray<ResolvedRule>,
    family: 4 | 6,
    chains: FirewallChains,
): { input: string[]; forward: string[] } {
    // The host itself is never filtered: loopback, and connections from the host's own addresses.
    const input: string[] = [
        `-A ${chains.input} -i lo -j RETURN`,
        `-A ${chains.input} -m addrtype --src-type LOCAL -j RETURN`,
    ];
    const forward: string[] = [];
    // Only connections Docker rewrote (published ports): a container's own outbound connections are not touched.
    const published = "-m conntrack --ctstate DNAT --ctorigdstport";
    for (const rule of rules) {
        const sources = rule.sources.map(canonicalCidr).filter((s) => net.isIP(s.split("/")[0]) === family);
        const p = rule.protocol;
        for (const source of sources) {
            // `iptables -S` prints no `-s` for a /0 source: write it the same way, so re-applies compare equal.
            const from = source.endsWith("/0") ? "" : `-s ${source} `;
            input.push(`-A ${chains.input} ${from}-p ${p} -m ${p} --dport ${rule.port} -j RETURN`);
            forward.push(`-A ${chains.forward} ${from}-p ${p} ${published} ${rule.port} --ctdir ORIGINAL -j RETURN`);
        }
        // A listed port admits only its listed sources (none of this family: nobody of this family).
        input.push(`-A ${chains.input} -p ${p} -m ${p} --dport ${rule.port} -j DROP`);
        forward.push(`-A ${chains.forward} -p ${p} ${published} ${rule.port} --ctdir ORIGINAL -j DROP`);
    }
    return { input, forward };
}

/** iptables-restore input that (re)creates both chains with these rules in one atomic commit. */
export function restoreScript(chains: FirewallChains, rules: { input: string[]; forward: string[] }): string {
    return [
        "*filter",
        `:${chains.input} - [0:0]`,
        `:${chains.forward} - [0:0]`,
        ...rules.input,
        ...rules.forward,
        "COMMIT",
        "",
    ].join("\n");
}

function run(binary: string, args: string[], input?: string): { ok: boolean; stdout: string; stderr: string } {
    const result = spawnSync(binary, args, { encoding: "utf8", input });
    if (result.error) {
        throw new Error(`cannot run ${binary}: ${result.error.message}`);
    }
    return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

function must(binary: string, args: string[], input?: string): string {
    const result = run(binary, args, input);
    if (!result.ok) {
        throw new Error(`${binary} ${args.join(" ")} failed: ${result.stderr.trim()}`);
    }
    return result.stdout;
}

/** The current rules of one of our chains, or undefined when it does not exist. */
function currentRules(binary: string, chain: string): string[] | undefined {
    const result = run(binary, ["-w", "-S", chain]);
    return result.ok ? result.stdout.split("\n").filter((l) => l.startsWith("-A ")) : undefined;
}

function hooked(binary: string, chain: string, target: string): boolean {
    return run(binary, ["-w", "-C", chain, "-j", target]).ok;
}

export interface FirewallResult {
    family: 4 | 6;
    changed: boolean;
}

/** The address families to handle, with their iptables: IPv4 always, IPv6 when an ip6tables that works is installed. */
function families(): Array<[4 | 6, string]> {
    const v6 = process.env.BKLITE_IP6TABLES ?? "ip6tables";
    return [
        [4, process.env.BKLITE_IPTABLES ?? "iptables"],
        ...(available(v6) ? ([[6, v6]] as Array<[6, string]>) : []),
    ];
}

/** Whether an ip6tables that works is installed (IPv6 rules are applied only then). */
function available(binary: string): boolean {
    const result = spawnSync(binary, ["-w", "-S", "INPUT"], { encoding: "utf8" });
    return !result.error && result.status === 0;
}

/**
 * Applies the rules for IPv4 (iptables) and IPv6 (ip6tables, when available). A family whose chains and hooks
 * already match is left untouched, counters and all.
 */
export function applyFirewall(rules: ReadonlyArray<ResolvedRule>, chains: FirewallChains): FirewallResult[] {
    const results: FirewallResult[] = [];
    for (const [family, binary] of families()) {
        const desired = chainRules(rules, family, chains);
        const same =
            JSON.stringify(currentRules(binary, chains.input)) === JSON.stringify(desired.input) &&
            JSON.stringify(currentRules(binary, chains.forward)) === JSON.stringify(desired.forward);
        if (!same) {
            // One transaction: both chains replaced at once, never half-applied.
            must(`${binary}-restore`, ["-w", "--noflush"], restoreScript(chains, desired));
        }
        let hooksChanged = false;
        for (const hook of hooks(chains)) {
            if (hook.chain === "DOCKER-USER" && currentRules(binary, "DOCKER-USER") === undefined) {
                // Docker has not made it yet; it keeps an existing one (and its rules) when it starts.
                must(binary, ["-w", "-N", "DOCKER-USER"]);
            }
            if (!hooked(binary, hook.chain, hook.target)) {
                must(binary, ["-w", "-I", hook.chain, "1", "-j", hook.target]);
                hooksChanged = true;
            }
        }
        // Earlier versions' chains, named for no stack: this stack's rules replace them.
        const legacyRemoved = removeChains(binary, LEGACY_CHAINS);
        results.push({ family, changed: !same || hooksChanged || legacyRemoved });
    }
    return results;
}

/**
 * How the host's firewall differs from these rules, per family (empty when it matches): a missing or changed chain,
 * a missing hook. What `bklite verify` reports; `applyFirewall` makes it empty.
 */
export function firewallDrift(rules: ReadonlyArray<ResolvedRule>, chains: FirewallChains): string[] {
    const drift: string[] = [];
    for (const [family, binary] of families()) {
        const desired = chainRules(rules, family, chains);
        for (const [chain, wanted] of [
            [chains.input, desired.input],
            [chains.forward, desired.forward],
        ] as const) {
            const current = currentRules(binary, chain);
            if (current === undefined) {
                drift.push(`IPv${family}: chain ${chain} missing`);
            } else if (JSON.stringify(current) !== JSON.stringify(wanted)) {
                drift.push(
                    `IPv${family}: chain ${chain} holds ${current.length} rules, not the ${wanted.length} the rules make`,
                );
            }
        }
        for (const hook of hooks(chains)) {
            if (!hooked(binary, hook.chain, hook.target)) {
                drift.push(`IPv${family}: ${hook.chain} does not jump to ${hook.target}`);
            }
        }
    }
    return drift;
}

/** Removes the hooks and the chains; DOCKER-USER itself stays (it is Docker's). */
export function removeFirewall(chains: FirewallChains): FirewallResult[] {
    const results: FirewallResult[] = [];
    for (const [family, binary] of families()) {
        results.push({ family, changed: removeChains(binary, chains) });
    }
    return results;
}

/** Unhooks and deletes a pair of chains; whether anything was there. */
function removeChains(binary: string, chains: FirewallChains): boolean {
    let changed = false;
    for (const hook of hooks(chains)) {
        while (hooked(binary, hook.chain, hook.target)) {
            must(binary, ["-w", "-D", hook.chain, "-j", hook.target]);
            changed = true;
        }
    }
    for (const chain of [chains.input, chains.forward]) {
        if (currentRules(binary, chain) !== undefined) {
            must(binary, ["-w", "-F", chain]);
            must(binary, ["-w", "-X", chain]);
            changed = true;
        }
    }
    return changed;
}
