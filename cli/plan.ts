import * as fs from "fs";
import { diffMarkdown, diffPlanSets, readPlans } from "../src/plan/diff";
import { stableJson } from "../src/util/json";
import { planStack } from "../src/plan/planStack";
import { CommandHandler } from "./types";

/** `bklite plan`: the stack's desired resources as stable JSON. */
export const plan: CommandHandler = async ({ values, out }) => {
    const configFile = values["config-file"] as string | undefined;
    const json = stableJson(await planStack(values.stack as string, configFile === undefined ? {} : { configFile }));
    if (typeof values.out === "string") {
        fs.writeFileSync(values.out, json);
    } else {
        out.write(json);
    }
    return 0;
};

/** `bklite plan diff BASE HEAD`: Markdown of what changes from BASE to HEAD (plan files or directories of them). */
export const planDiff: CommandHandler = async ({ positionals: [base, head], out }) => {
    out.write(diffMarkdown(diffPlanSets(readPlans(base), readPlans(head))));
    return 0;
};
