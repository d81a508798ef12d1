import * as assert from "assert";
import { waitProgress } from "../../src/util/waitProgress";

describe("waitProgress", () => {
    it("says a wait when it starts, then at least every interval with the time so far and the latest reason, and not more often", () => {
        let clock = 1_000_000;
        const lines: string[] = [];
        const progress = waitProgress(
            (line) => lines.push(line),
            30000,
            () => clock,
        );
        // Polls every 2 s for 95 s, as seed apply does.
        for (let t = 0; t <= 95000; t += 2000) {
            clock = 1_000_000 + t;
            progress.note(`PostgreSQL (attempt at ${t / 1000} s)`);
        }
        assert.deepStrictEqual(lines, [
            "waiting for PostgreSQL (attempt at 0 s)",
            "still waiting for PostgreSQL (attempt at 30 s) (30 s so far)",
            "still waiting for PostgreSQL (attempt at 60 s) (60 s so far)",
            "still waiting for PostgreSQL (attempt at 90 s) (90 s so far)",
        ]);
    });

    it("never lets more than the interval pass between lines while notes keep coming, whatever the poll period", () => {
        for (const poll of [1, 7, 999, 4000, 29999, 30000, 45000]) {
            let clock = 0;
            const said: number[] = [];
            const progress = waitProgress(
                () => said.push(clock),
                30000,
                () => clock,
            );
            for (; clock <= 300000; clock += poll) {
                progress.note("x");
            }
            const gaps = said.slice(1).map((t, i) => t - said[i]);
            assert.ok(
                gaps.every((gap) => gap >= 30000 && gap < 30000 + poll),
                `poll ${poll}: ${gaps}`,
            );
        }
    });
});
