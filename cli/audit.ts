import * as fs from "fs";
import * as path from "path";
import { auditExport, auditMarkdown, stackImagePolicy } from "../src/audit/audit";
import { readStackExport } from "../src/audit/stackExport";
import { stableJson } from "../src/util/json";
import { PROJECT_ROOT } from "../src/util/shell";
import { CommandHandler } from "./types";
import { UsageError } from "./usage";

/** `bklite audit EXPORT.json`: a stack export checked. Exit 0 when it passes, 1 on failing findings. */
export const audit: CommandHandler = async ({ values, positionals: [file], out }) => {
    const format = (values.format as string | undefined) ?? "markdown";
    if (format !== "markdown" && format !== "json") {
        throw new UsageError(`--format must be markdown or json, not '${format}'`);
    }
    if (values.offline && values.online) {
        throw new UsageError("give --offline or --online, not both");
    }
    const projectDir = path.resolve((values["project-dir"] as string | undefined) ?? PROJECT_ROOT);
    if (!fs.existsSync(path.join(projectDir, "Pulumi.yaml"))) {
        throw new UsageError(
            `--project-dir ${projectDir} has no Pulumi.yaml: give the project whose Pulumi.<stack>.yaml holds the stack's registry`,
        );
    }
    const exported = readStackExport(file);
    const fromStack = stackImagePolicy(projectDir, exported.stack);
    const registry = values.registry as string | undefined;
    const offline = values.offline ? true : values.online ? false : undefined;
    const given = [...(registry !== undefined ? ["registry"] : []), ...(offline !== undefined ? ["offline"] : [])];
    const policy = {
        ...fromStack,
        ...(registry !== undefined ? { registry } : {}),
        ...(offline !== undefined ? { offline } : {}),
        source:
            given.length === 2
                ? "the command line"
                : given.length === 1
                  ? `the command line (${given[0]}) and ${fromStack.source}`
                  : fromStack.source,
    };
    const report = auditExport(exported, policy);
    out.write(format === "json" ? stableJson(report) : auditMarkdown(report));
    return report.passed ? 0 : 1;
};
