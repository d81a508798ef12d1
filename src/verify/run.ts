/**
 * Runs every check of a verify spec at once, each bounded by its own timeout and all by the run's: a check that
 * runs out of time is stopped (what it opened is closed) and reported as such, by name. Services are reached where
 * the spec says: a container's address on the stack's network (read from the engine), or a port-forward.
 */
import { RuntimeAccess, ServiceAddress } from "../runtimes/runtime";
import { Check, CheckContext, CheckResult, VerifySecrets } from "./check";
import { consoleChecks, loginCheck } from "./consoleChecks";
import { packageChecks, regionChecks } from "./databaseChecks";
import { agentChecks } from "./agentChecks";
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
        ...agentChecks(spec.regions),
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
    const run: Run = { spec, secrets, options, deadline: started + options.timeoutMs, addresses: new Map() };
    try {
        const planned = checksOf(spec);
        const checks = await Promise.all(planned.map((check) => runCheck(run, check)));
        const retryUntil = Math.min(started + (options.retryMs ?? 0), run.deadline);
        for (;;) {
            const failing = planned.filter((_, i) => checks[i].status === "fail");
            if (failing.length === 0 || Date.now() + RETRY_PAUSE_MS >= retryUntil) {
                break;
            }
            const left = Math.round((retryUntil - Date.now()) / 1000);
            options.log?.(
                `${failing.length} failing (${failing.map((c) => c.name).join(", ")}); trying again in ${RETRY_PAUSE_MS / 1000} s (${left} s left to settle)`,
            );
            await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
            const again = await Promise.all(failing.map((check) => runCheck(run, check)));
            failing.forEach((check, i) => (checks[planned.indexOf(check)] = again[i]));
        }
        return { ok: checks.every((c) => c.status !== "fail"), checks };
    } finally {
        await options.access.close();
    }
}

/** One run of the checks: what they share. */
interface Run {
    spec: VerifySpec;
    secrets: VerifySecrets;
    options: VerifyOptions;
    deadline: number;
    /**
     * Where each service answers, shared by the checks of a round. Forgotten when finding it fails, and when a check
     * that used it fails: the next try finds it again (a container that got its address late, a port-forward that
     * died).
     */
    addresses: Map<string, Promise<string>>;
}

/** `host:port` where a service the spec names answers, from where this runs. */
function addressOf(run: Run, service: string, signal: AbortSignal): Promise<string> {
    const check = run.spec.services.find((s) => s.service === service);
    const address: ServiceAddress | undefined = check?.address;
    if (check === undefined || address === undefined || check.probe.kind === "nats-executor") {
        return Promise.reject(new Error(`the spec gives no address for ${service}`));
    }
    if (!run.addresses.has(service)) {
        const found = run.options.access.locate(address, check.probe.port, signal);
        run.addresses.set(service, found);
        found.catch(() => run.addresses.get(service) === found && run.addresses.delete(service));
    }
    return run.addresses.get(service)!;
}

/** Runs one check within its timeout (and the run's), closing what it opened however it ends. */
async function runCheck(run: Run, check: Check): Promise<CheckResult> {
    const { options } = run;
    const controller = new AbortController();
    const cleanups: Array<() => unknown> = [];
    const used = new Set<string>();
    const limit = Math.min(options.checkTimeoutMs, run.deadline - Date.now());
    const context: CheckContext = {
        spec: run.spec,
        secrets: run.secrets,
        signal: controller.signal,
        addressOf: (service) => (used.add(service), addressOf(run, service, controller.signal)),
        defer: (close) => cleanups.push(close),
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(
            () => {
                controller.abort();
                resolve(timeoutResult(check, limit, limit < options.checkTimeoutMs ? options.timeoutMs : undefined));
            },
            Math.max(limit, 0),
        );
    });
    const checkStarted = Date.now();
    try {
        const result = await Promise.race([check.run(context).then((r) => ({ check: check.name, ...r })), timedOut]);
        const seconds = ((Date.now() - checkStarted) / 1000).toFixed(1);
        options.log?.(`${result.status.padEnd(4)} ${check.name} (${seconds} s)`);
        if (result.status === "fail") {
            used.forEach((service) => run.addresses.delete(service));
        }
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
}

/** A check that ran out of time: its own, or (`runMs`) the run's. */
function timeoutResult(check: Check, limitMs: number, runMs: number | undefined): CheckResult {
    return {
        check: check.name,
        status: "fail",
        expected: "an answer",
        found: `no answer within ${Math.round(limitMs / 1000)} s`,
        fix:
            runMs !== undefined
                ? `the run's ${Math.round(runMs / 1000)} s ran out during this check: something it reaches hangs (or raise --timeout-seconds)`
                : "something it reaches accepts connections but does not answer: look at that service's log",
    };
}
