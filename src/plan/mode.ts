/**
 * Whether the program is being rendered as a plan (`bklite plan`) rather than deployed. `bklite plan` switches it
 * on before it loads index.ts; the program then reads nothing from the deploy host (see hostFacts.ts).
 */
let rendering = false;

export function renderingPlan(): boolean {
    return rendering;
}

export function startPlanRendering(): void {
    rendering = true;
}

/** Marks a value a plan stands in for because only the deploy host can say it. */
export function unreadOnHost(what: string): string {
    return `(read on the deploy host: ${what})`;
}

/**
 * A secret the program derives from a generated one (an HMAC of it), as a plan shows it: the generated secret is a
 * stand-in there, and a value computed from a stand-in must read as one, or the plan would show it.
 */
export function derivedSecretStandIn(what: string): string {
    return `(secret known after deploy: ${what})`;
}
