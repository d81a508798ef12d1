import { applyFirewall, firewallChains, removeFirewall } from "../src/security/firewall";
import { resolveRules } from "../src/security/resolve";
import { CONFIG_KEYS } from "../src/config/keys";
import { checkDataStoreExposure, dataStorePorts, parseSecurityConfig } from "../src/security/rules";
import { CommandHandler } from "./types";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

/** `bklite firewall apply`: the rules as the host firewall, with iptables. */
export const firewallApply: CommandHandler = async ({ values, out, err }) => {
    const chains = firewallChains(values.stack as string);
    const parsed = parseSecurityConfig(readJsonOption("rules", values.rules as string));
    const named = parsed.security.rules.filter((r) => typeof r.port !== "number");
    // The stack config's refusal of world-open data stores, for rules written by hand too: PostgreSQL on its usual
    // ports (the stack's default host port and 5432), Redis, and any rule whose purpose names one.
    const exposed = checkDataStoreExposure(
        parsed.security.rules,
        dataStorePorts([CONFIG_KEYS.postgresPort.default as number, 5432]),
    );
    const problems = [
        ...[...parsed.problems, ...exposed].map(
            (p) => `${p.path.replace(/^security\./, "")}${p.value !== undefined ? ` = ${p.value}` : ""}: ${p.message}`,
        ),
        ...named.map((r) => `rule for '${r.port}': give the port number (the program resolves named ports)`),
    ];
    if (problems.length > 0) {
        throw new UsageError(
            `the rules have ${problems.length} problem(s); nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
    const plan = resolveRules(parsed.security.rules, {});
    for (const warning of plan.warnings) {
        err.write(`warning: ${warning}\n`);
    }
    const results = applyFirewall(plan.rules, chains);
    for (const r of results) {
        err.write(
            `IPv${r.family}: ${r.changed ? "applied" : "unchanged"} (${plan.rules.length} port rule${plan.rules.length === 1 ? "" : "s"} in ${chains.input}, ${chains.forward})\n`,
        );
    }
    out.write(`${JSON.stringify({ applied: results })}\n`);
    return 0;
};

/** `bklite firewall remove`: the chains and their hooks taken away. */
export const firewallRemove: CommandHandler = async ({ values, out }) => {
    out.write(`${JSON.stringify({ removed: removeFirewall(firewallChains(values.stack as string)) })}\n`);
    return 0;
};
