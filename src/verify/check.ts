/**
 * One check of `bklite verify`: a name, what it expects and what it found, and the fix when they differ. Checks run
 * under a scope that bounds them: when its time is up, the scope's signal aborts and what the check opened is
 * closed, so no check outlives the run.
 */
import { VerifySpec } from "./spec";

export type CheckStatus = "ok" | "fail" | "warn";

export interface CheckResult {
    check: string;
    status: CheckStatus;
    expected: string;
    found: string;
    /** What to do about a failure or warning: the config key or command. */
    fix?: string;
}

/** What a check may use: the spec, the secrets, where each service answers, and its scope. */
export interface CheckContext {
    spec: VerifySpec;
    secrets: VerifySecrets;
    /** host:port where a service's probe reaches it from here (a container's address, a port-forward). */
    addressOf(service: string): Promise<string>;
    /** Aborted when the check's time is up. */
    signal: AbortSignal;
    /** Runs `close` when the check ends or is stopped (connections, sockets, temp files). */
    defer(close: () => unknown): void;
}

/** The secrets and connections the checks use, from the BKLITE_* environment (and --outputs). */
export interface VerifySecrets {
    pgUrl: string;
    secretKey: string;
    natsUser: string;
    natsPassword: string;
    /** PEM of the stack's CA. */
    natsCa: string;
    /** The object store bucket of the packages. */
    bucket: string;
    adminPassword?: string;
    falkordbPassword?: string;
}

export interface Check {
    /** The row's name, e.g. `console`, `region default`, `service falkordb`. */
    name: string;
    run(context: CheckContext): Promise<Omit<CheckResult, "check">>;
}

export const ok = (expected: string, found: string): Omit<CheckResult, "check"> => ({ status: "ok", expected, found });
export const fail = (expected: string, found: string, fix: string): Omit<CheckResult, "check"> => ({
    status: "fail",
    expected,
    found,
    fix,
});

/** The message of anything thrown, on one line. */
export function reason(err: unknown): string {
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    const cause = e.cause?.code ?? e.cause?.message;
    return `${e.message ?? String(err)}${cause && !String(e.message).includes(cause) ? ` (${cause})` : ""}`.replace(
        /\s+/g,
        " ",
    );
}
