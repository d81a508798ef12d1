import * as fs from "fs";
import { diffMarkdown, diffPlanSets, readPlans } from "../components/plan/diff";
import { stableJson } from "../components/json";
import { renderPlan } from "../components/plan/render";
import { UsageError, parseArguments, parseOptions, required } from "./usage";

/**
 * `bklite plan --stack S [--out FILE]`: the stack's desired resources as stable JSON.
 * `bklite plan diff BASE HEAD`: Markdown of what changes from BASE to HEAD (plan files or directories of them).
 */
export async function planCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
    if (args[0] === "diff") {
        const [base, head, ...extra] = parseArguments(args.slice(1), {}).positionals;
        if (!base || !head || extra.length > 0) {
            throw new UsageError("plan diff takes two plans: bklite plan diff BASE HEAD (files, or directories of <stack>.json)");
        }
        out.write(diffMarkdown(diffPlanSets(readPlans(base), readPlans(head))));
        return 0;
    }
    const values = parseOptions(args, { stack: { type: "string" }, out: { type: "string" } });
    const stack = required(values, "stack", "prod");
    const json = stableJson(await renderPlan(stack));
    if (typeof values.out === "string") {
        fs.writeFileSync(values.out, json);
    } else {
        out.write(json);
    }
    return 0;
}
