import { applyFirewall, removeFirewall } from "../components/security/firewall";
import { resolveRules } from "../components/security/plan";
import { parseSecurityConfig } from "../components/security/rules";
import { CommandHandler } from "./commands";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

/** `bklite firewall apply`: the rules as the host firewall, with iptables. */
export const firewallApply: CommandHandler = async ({ values, out, err }) => {
    const parsed = parseSecurityConfig(readJsonOption("rules", values.rules as string));
    const named = parsed.security.rules.filter((r) => typeof r.port !== "number");
    const problems = [
        ...parsed.problems.map((p) => `${p.path}${p.value !== undefined ? ` = ${p.value}` : ""}: ${p.message}`),
        ...named.map((r) => `rule for '${r.port}': give the port number (the program resolves named ports)`),
    ];
    if (problems.length > 0) {
        throw new UsageError(`the rules have ${problems.length} problem(s); nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    const plan = resolveRules(parsed.security.rules, {});
    for (const warning of plan.warnings) {
        err.write(`warning: ${warning}\n`);
    }
    const results = applyFirewall(plan.rules);
    for (const r of results) {
        err.write(`IPv${r.family}: ${r.changed ? "applied" : "unchanged"} (${plan.rules.length} port rule${plan.rules.length === 1 ? "" : "s"})\n`);
    }
    out.write(`${JSON.stringify({ applied: results })}\n`);
    return 0;
};

/** `bklite firewall remove`: the chains and their hooks taken away. */
export const firewallRemove: CommandHandler = async ({ out }) => {
    out.write(`${JSON.stringify({ removed: removeFirewall() })}\n`);
    return 0;
};
