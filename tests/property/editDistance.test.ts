/** The one "did you mean" rule the config and the CLI share: properties of the distance, and what it suggests. */
import * as assert from "assert";
import * as fc from "fast-check";
import { closest, editDistance } from "../../src/util/editDistance";

const word = fc.string({ unit: fc.constantFrom(..."abcdefgh-"), minLength: 0, maxLength: 12 });

describe("editDistance and closest", () => {
    it("is a metric on words: zero exactly for equal words, symmetric, bounded by the longer length", () => {
        fc.assert(
            fc.property(word, word, (a, b) => {
                const d = editDistance(a, b);
                assert.strictEqual(d === 0, a === b);
                assert.strictEqual(d, editDistance(b, a));
                assert.ok(d <= Math.max(a.length, b.length));
            }),
        );
    });

    it("counts one swap of neighbours as one edit, and suggests a candidate one edit away", () => {
        fc.assert(
            fc.property(
                fc.string({ unit: fc.constantFrom(..."abcdefgh"), minLength: 3, maxLength: 12 }),
                fc.nat(),
                (w, n) => {
                    const i = n % (w.length - 1);
                    const swapped = w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2);
                    assert.ok(editDistance(w, swapped) <= 1);
                    assert.strictEqual(closest(swapped, [w, "zzzzzzzzzzzzzzz"]), w);
                },
            ),
        );
    });

    it("suggests nothing far off, and prefers a case-only difference", () => {
        assert.strictEqual(closest("stak", ["stack", "dir"]), "stack");
        assert.strictEqual(closest("plna", ["plan", "plugins"]), "plan");
        assert.strictEqual(closest("hostaddress", ["hostAddress", "hostAddresses"]), "hostAddress");
        assert.strictEqual(closest("xyz", ["stack", "dir"]), undefined);
    });
});
