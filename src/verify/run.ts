/**
 * Runs every check of a verify spec at once, each bounded by its own timeout and all by the run's: a check that
 * runs out of time is stopped (what it opened is closed) and reported as such, by name. Services are reached where
 * the spec says: a container's address on the stack's network (read from the engine), or a port-forward.
 */
import { containerAddress } from "../runtimes/docker/containerAddress";
import { Forward, KubeTarget, portForward } from "../runtimes/kubernetes/portForward";
import { Check, CheckContext, CheckResult, VerifySecrets } from "./check";
import { consoleChecks, loginCheck } from "./consoleChecks";
import { packageChecks, regionChecks } from "./databaseChecks";
import { firewallCheck } from "./firewallCheck";
import { natsChecks } from "./natsChecks";
import { serviceChecks } from "./serviceChecks";
import { ServiceAddress, VerifySpec } from "./spec";

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
    /** Where a cluster's Services are port-forwarded from. */
    kube?: KubeTarget;
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
    const forwards: Array<Promise<Forward>> = [];
    const resolved = new Map<string, Promise<string>>();
    const addressOf = (service: string, signal: AbortSignal): Promise<string> => {
        const check = spec.services.find((s) => s.service === service);
        const address: ServiceAddress | undefined = check?.address;
        if (check === undefined || address === undefined || check.probe.kind === "nats-executor") {
            return Promise.reject(new Error(`the spec gives no address for ${service}`));
        }
        const port = check.probe.port;
        if (!resolved.has(service)) {
            if ("host" in address) {
                resolved.set(
                    service,
                    Promise.resolve(address.host.includes(":") ? address.host : `${address.host}:${port}`),
                );
            } else if ("container" in address) {
                resolved.set(
                    service,
                    containerAddress(address.container, address.network, signal).then((ip) => `${ip}:${port}`),
                );
            } else if (options.kube === undefined) {
                resolved.set(
                    service,
                    Promise.reject(new Error(`${service} is a Kubernetes Service: pass --kube-namespace to reach it`)),
                );
            } else {
                const forward = portForward(options.kube, address.kubeService, port);
                forwards.push(forward);
                resolved.set(
                    service,
                    forward.then((f) => `127.0.0.1:${f.localPort}`),
                );
            }
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
        await Promise.all(forwards.map((f) => f.then((forward) => forward.stop()).catch(() => undefined)));
    }
}
