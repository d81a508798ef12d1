/**
 * Runs every check of a verify spec at once, each bounded by its own timeout and all by the run's: a check that
 * runs out of time is stopped (what it opened is closed) and reported as such, by name. Services are reached where
 * the spec says: a container's address on the stack's network (read from the engine), or a port-forward.
 */
import { RuntimeAccess, ServiceAddress } from "../runtimes/runtime";
import { Check, CheckContext, CheckResult, VerifySecrets } from "./check";
import { consoleChecks, loginCheck } from "./consoleChecks";
import { packageChecks, regionChecks } from "./databaseChecks";
import { firewallCheck } from "./firewallCheck";
import { natsChecks } from "./natsChecks";
import { serviceChecks } from "./serviceChecks";
import { VerifySpec } from "./spec";

export interface VerifyOptions {
    /** The whole run's budget. */
    timeoutMs: number;
    /** Each check's. */
    checkTimeoutMs: number;
    /**
     * How long failing checks are tried again (every few seconds) before they count: right after a deployment,
     * services may still be settling. Within the run's budget; 0 by default.
     */
    retryMs?: number;
    /** How services are reached (a container's address, a port-forward): the stack's runtime's access. */
    access: RuntimeAccess;
    /** A line per finished check (stderr in the CLI). */
    log?: (line: string) => void;
}

/** Between rounds of retrying failing checks. */
const RETRY_PAUSE_MS = 5000;

export interface VerifyReport {
    ok: boolean;
    checks: CheckResult[];
}

/** Every check of a spec, in the order the table shows them. */
export function checksOf(spec: VerifySpec): Check[] {
    return [
        ...consoleChecks(),
        ...(spec.login ? [loginCheck(spec.login.username)] : []),
        ...natsChecks(),
        ...regionChecks(spec.regions),
        ...packageChecks(spec.packages),
        ...serviceChecks(spec.services),
        ...(spec.firewall ? [firewallCheck(spec.firewall)] : []),
    ];
}

export async function runVerify(
    spec: VerifySpec,
    secrets: VerifySecrets,
    options: VerifyOptions,
): Promise<VerifyReport> {
    const started = Date.now();
    const deadline = started + options.timeoutMs;
    const resolved = new Map<string, Promise<string>>();
    const addressOf = (service: string, signal: AbortSignal): Promise<string> => {
        const check = spec.services.find((s) => s.service === service);
        const address: ServiceAddress | undefined = check?.address;
        if (check === undefined || address === undefined || check.probe.kind === "nats-executor") {
            return Promise.reject(new Error(`the spec gives no address for ${service}`));
        }
        const port = check.probe.port;
        if (!resolved.has(service)) {
            resolved.set(service, options.access.locate(address, port, signal));
        }
        return resolved.get(service)!;
    };

    const run = async (check: Check): Promise<CheckResult> => {
        const controller = new AbortController();
        const cleanups: Array<() => unknown> = [];
        const limit = Math.min(options.checkTimeoutMs, deadline - Date.now());
        const byRun = limit < options.checkTimeoutMs;
        const context: CheckContext = {
            spec,
            secrets,
            signal: controller.signal,
            addressOf: (service) => addressOf(service, controller.signal),
            defer: (close) => cleanups.push(close),
        };
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<CheckResult>((resolve) => {
            timer = setTimeout(
                () => {
                    controller.abort();
                    resolve({
                        check: check.name,
                        status: "fail",
                        expected: "an answer",
                        found: `no answer within ${Math.round(limit / 1000)} s`,
                        fix: byRun
                            ? `the run's ${Math.round(options.timeoutMs / 1000)} s ran out during this check: something it reaches hangs (or raise --timeout-seconds)`
                            : "something it reaches accepts connections but does not answer: look at that service's log",
                    });
                },
                Math.max(limit, 0),
            );
        });
        const checkStarted = Date.now();
        try {
            const result = await Promise.race([
                check.run(context).then((r) => ({ check: check.name, ...r })),
                timedOut,
            ]);
            options.log?.(
                `${result.status.padEnd(4)} ${check.name} (${((Date.now() - checkStarted) / 1000).toFixed(1)} s)`,
            );
            return result;
        } finally {
            clearTimeout(timer);
            controller.abort();
            for (const close of cleanups.reverse()) {
                try {
                    await Promise.resolve(close()).catch(() => undefined);
                } catch {
                    // Closing what a stopped check opened is best effort.
                }
            }
        }
    };

    try {
        const planned = checksOf(spec);
        const checks = await Promise.all(planned.map(run));
        const retryUntil = Math.min(started + (options.retryMs ?? 0), deadline);
        for (;;) {
            const failing = planned.filter((_, i) => checks[i].status === "fail");
            if (failing.length === 0 || Date.now() + RETRY_PAUSE_MS >= retryUntil) {
                break;
            }
            options.log?.(
                `${failing.length} failing (${failing.map((c) => c.name).join(", ")}); trying again in ${RETRY_PAUSE_MS / 1000} s (${Math.round((retryUntil - Date.now()) / 1000)} s left to settle)`,
            );
            await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
            const again = await Promise.all(failing.map(run));
            failing.forEach((check, i) => (checks[planned.indexOf(check)] = again[i]));
        }
        return { ok: checks.every((c) => c.status !== "fail"), checks };
    } finally {
        await options.access.close();
    }
}
