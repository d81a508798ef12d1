import * as fs from "fs";
import { applyFirewall, removeFirewall } from "../components/security/firewall";
import { resolveRules } from "../components/security/plan";
import { parseSecurityConfig } from "../components/security/rules";
import { UsageError, parseOptions, required } from "./usage";

/** `bklite firewall apply --rules FILE|-` and `bklite firewall remove`: the host firewall, with iptables. */
export async function firewallCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === "remove") {
        parseOptions(rest, {});
        const results = removeFirewall();
        out.write(`${JSON.stringify({ removed: results })}\n`);
        return 0;
    }
    if (sub !== "apply") {
        throw new UsageError(sub === undefined ? "firewall needs a subcommand: apply or remove" : `unknown firewall subcommand '${sub}'`);
    }
    const values = parseOptions(rest, { rules: { type: "string" } });
    const source = required(values, "rules", "rules.json");
    let raw: unknown;
    try {
        raw = JSON.parse(source === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(source, "utf8"));
    } catch (e) {
        throw new UsageError(`--rules ${source}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "not valid JSON"}`);
    }
    const parsed = parseSecurityConfig(raw);
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
}
