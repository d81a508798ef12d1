/** Timing helpers: benchmarks report ratios against a baseline measured in the same run, never absolute limits. */

export interface Result {
    name: string;
    /** Seconds (or another unit, see `unit`) of the thing measured. */
    value: number;
    /** The same unit for the baseline it is compared with. */
    baseline: number;
    unit?: string;
    /** Extra facts worth printing (peak memory, throughput). */
    notes?: string[];
}

export async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
    const started = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - started) / 1e9;
}

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function report(results: Result[]): string {
    return results
        .map((r) => {
            const unit = r.unit ?? "s";
            const lines = [
                `${r.name}`,
                `  ${r.value.toFixed(3)} ${unit} vs baseline ${r.baseline.toFixed(3)} ${unit}: ratio ${(r.value / r.baseline).toFixed(3)}`,
            ];
            return [...lines, ...(r.notes ?? []).map((n) => `  ${n}`)].join("\n");
        })
        .join("\n");
}
