import * as fs from "fs";
import { diffMarkdown, diffPlanSets, readPlans } from "../src/plan/diff";
import { stableJson } from "../src/util/json";
import { planStack } from "../src/plan/planStack";
import { planSummary } from "../src/plan/summary";
import { CommandHandler } from "./types";

/**
 * `bklite plan`: the stack's desired resources, as stable JSON for tools and files, or as a summary for a person:
 * the default on a terminal.
 */
export const plan: CommandHandler = async ({ values, out }) => {
    const configFile = values["config-file"] as string | undefined;
    const planned = await planStack(values.stack as string, configFile === undefined ? {} : { configFile });
    const toFile = typeof values.out === "string";
    const format =
        (values.format as string | undefined) ?? (!toFile && (out as { isTTY?: boolean }).isTTY ? "text" : "json");
    const text = format === "text" ? planSummary(planned) : stableJson(planned);
    if (toFile) {
        fs.writeFileSync(values.out as string, text);
    } else {
        out.write(text);
    }
    return 0;
};

/** `bklite plan diff BASE HEAD`: Markdown of what changes from BASE to HEAD (plan files or directories of them). */
export const planDiff: CommandHandler = async ({ positionals: [base, head], out }) => {
    out.write(diffMarkdown(diffPlanSets(readPlans(base), readPlans(head))));
    return 0;
};
