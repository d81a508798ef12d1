import * as path from "path";
import { loadStackConfig } from "../src/config/stackFiles";
import { withForwards } from "../src/runtimes/kubernetes/portForward";
import { formatReport } from "../src/verify/report";
import { verifySpecOf } from "../src/verify/stackSpec";
import { runVerify } from "../src/verify/run";
import { verifySecretsFromEnv } from "../src/verify/secrets";
import { VerifySpec, parseVerifySpec } from "../src/verify/spec";
import { CommandHandler } from "./commands";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";

function seconds(value: unknown, option: string, fallback: number): number {
    if (value === undefined) {
        return fallback;
    }
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
        throw new UsageError(`--${option} must be a number of seconds above 0`);
    }
    return n;
}

/** `bklite verify`: the table on stdout (or JSON), a line per finished check on stderr; exit 1 when a check fails. */
export const verify: CommandHandler = async ({ values, out, err }) => {
    const stack = values.stack as string | undefined;
    const specSource = values.spec as string | undefined;
    if ((stack === undefined) === (specSource === undefined)) {
        throw new UsageError("give the stack to verify with --stack STACK, or its spec with --spec FILE|-");
    }
    if (specSource === "-" && values.outputs === "-") {
        throw new UsageError("--spec and --outputs cannot both read standard input");
    }
    const format = (values.format as string | undefined) ?? "table";
    if (format !== "table" && format !== "json") {
        throw new UsageError("--format must be table or json");
    }
    const timeoutMs = seconds(values["timeout-seconds"], "timeout-seconds", 120) * 1000;
    const checkTimeoutMs = seconds(values["check-timeout-seconds"], "check-timeout-seconds", 20) * 1000;
    const retryMs =
        values["retry-seconds"] === undefined ? 0 : seconds(values["retry-seconds"], "retry-seconds", 0) * 1000;
    const namespace = values["kube-namespace"] as string | undefined;
    if (namespace === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const projectDir = path.resolve((values["project-dir"] as string | undefined) ?? ".");
    let spec: VerifySpec;
    if (stack !== undefined) {
        const rendered = verifySpecOf(loadStackConfig(projectDir, stack), stack);
        // Package paths in the stack config are relative to the project.
        spec = {
            ...rendered,
            packages: rendered.packages.map((p) => ({ ...p, file: path.resolve(projectDir, p.file) })),
        };
    } else {
        spec = parseVerifySpec(readJsonOption("spec", specSource!));
    }
    const outputs = values.outputs === undefined ? undefined : readJsonOption("outputs", values.outputs as string);
    const secrets = verifySecretsFromEnv(process.env, spec, outputs);
    const kube =
        namespace === undefined ? undefined : { namespace, context: values["kube-context"] as string | undefined };
    const log = (line: string) => err.write(`verify: ${line}\n`);
    const run = (pgUrl: string) =>
        runVerify(spec, { ...secrets, pgUrl }, { timeoutMs, checkTimeoutMs, retryMs, kube, log });
    // On a cluster, PostgreSQL is reached through a port-forward to the Service named in the URL, as seeding does.
    const report =
        kube === undefined
            ? await run(secrets.pgUrl)
            : await withForwards(kube, [secrets.pgUrl], ([pgUrl]) => run(pgUrl));
    out.write(format === "json" ? `${JSON.stringify(report)}\n` : formatReport(report));
    return report.ok ? 0 : 1;
};
