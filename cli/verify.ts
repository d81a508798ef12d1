import * as path from "path";
import { runtimeOf } from "../src/runtimes";
import { RuntimeAccess } from "../src/runtimes/runtime";
import { formatReport } from "../src/verify/report";
import { verifySpecOf } from "../src/verify/stackSpec";
import { runVerify } from "../src/verify/run";
import { verifySecretsFromEnv } from "../src/verify/secrets";
import { VerifySpec, parseVerifySpec } from "../src/verify/spec";
import { CommandHandler } from "./types";
import { readJsonOption } from "./input";
import { UsageError } from "./usage";
import { stackOrSpec, stackTarget } from "./stackTarget";

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
    const { stack, spec: specSource } = stackOrSpec(values, "verify");
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
    if (values["kube-namespace"] === undefined && values["kube-context"] !== undefined) {
        throw new UsageError("--kube-context needs --kube-namespace");
    }
    const { spec, access } = specAndAccess(values, stack, specSource);
    try {
        const outputs = values.outputs === undefined ? undefined : readJsonOption("outputs", values.outputs as string);
        const secrets = verifySecretsFromEnv(process.env, spec, outputs);
        const log = (line: string) => err.write(`verify: ${line}\n`);
        // PostgreSQL where the URL says, through the stack's access (a cluster's port-forward), as seeding does.
        const pgUrl = await access.reach(secrets.pgUrl);
        const report = await runVerify(
            spec,
            { ...secrets, pgUrl },
            { timeoutMs, checkTimeoutMs, retryMs, access, log },
        );
        out.write(format === "json" ? `${JSON.stringify(report)}\n` : formatReport(report));
        return report.ok ? 0 : 1;
    } finally {
        await access.close();
    }
};

/** The spec (rendered from Pulumi.STACK.yaml, or as given) and the access of the runtime it names. */
function specAndAccess(
    values: Record<string, unknown>,
    stack: string | undefined,
    specSource: string | undefined,
): { spec: VerifySpec; access: RuntimeAccess } {
    if (stack === undefined) {
        const spec = parseVerifySpec(readJsonOption("spec", specSource!));
        return { spec, access: runtimeOf(spec.runtime).access({ stack: spec.stack, options: values }) };
    }
    const { projectDir, config, access } = stackTarget(values, stack);
    const rendered = verifySpecOf(config, stack);
    // Package paths in the stack config are relative to the project.
    const spec = {
        ...rendered,
        packages: rendered.packages.map((p) => ({ ...p, file: path.resolve(projectDir, p.file) })),
    };
    return { spec, access };
}
