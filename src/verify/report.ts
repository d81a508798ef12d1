/** The verify table: one row per check (result, check, what was found, what was expected), and the fix under a failure. */
import { CheckResult } from "./check";
import { VerifyReport } from "./run";

const MARK: Record<CheckResult["status"], string> = { ok: "ok", fail: "FAIL", warn: "warn" };

export function formatReport(report: VerifyReport): string {
    const width = (pick: (c: CheckResult) => string) => Math.max(...report.checks.map((c) => pick(c).length), 0);
    const checkWidth = Math.max(
        width((c) => c.check),
        "CHECK".length,
    );
    const lines = [`${"RESULT".padEnd(6)}  ${"CHECK".padEnd(checkWidth)}  FOUND  (EXPECTED)`];
    for (const c of report.checks) {
        lines.push(`${MARK[c.status].padEnd(6)}  ${c.check.padEnd(checkWidth)}  ${c.found}  (expected ${c.expected})`);
        if (c.fix && c.status !== "ok") {
            lines.push(`${" ".repeat(8 + checkWidth)}  fix: ${c.fix}`);
        }
    }
    const count = (s: CheckResult["status"]) => report.checks.filter((c) => c.status === s).length;
    lines.push(
        "",
        `${report.checks.length} checks: ${count("ok")} ok, ${count("fail")} failed, ${count("warn")} warnings${report.ok ? "" : ": the platform does not work as deployed"}`,
    );
    return `${lines.join("\n")}\n`;
}
