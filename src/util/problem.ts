/**
 * One thing wrong with what an operator gave: a stack config key, a seed or streams spec entry, a probe package, a
 * security rule. Every check reports this one shape, and every refusal lists all of them at once.
 */
export interface Problem {
    /** Where: a config key path (`regions[1].nodeServerUrl`), a spec path (`region 'x'.env.NATS_SERVERS`), a field. */
    path: string;
    /** The offending value as written, or undefined when it is missing or secret. */
    value?: string;
    /** What is wrong (and, unless `fix` says it, what to do). */
    message: string;
    /** What to do about it. */
    fix?: string;
}

/** `path = value: message; fix`, on one line. */
export function formatProblem(problem: Problem): string {
    const value = problem.value !== undefined ? ` = ${problem.value}` : "";
    return `${problem.path}${value}: ${problem.message}${problem.fix ? `; ${problem.fix}` : ""}`;
}

/** The problems of `found`, each moved under `prefix` (`packages[2]` + `file` = `packages[2].file`). */
export function under(prefix: string, found: ReadonlyArray<Problem>): Problem[] {
    return found.map((p) => ({ ...p, path: p.path === "" ? prefix : `${prefix}.${p.path}` }));
}
