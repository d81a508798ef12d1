/**
 * Edit distance with adjacent transpositions (optimal string alignment): `plna` is one edit from `plan`, as a typist
 * sees it, for names that are probably misspelt.
 */
export function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.length][b.length];
}

/**
 * The candidate a misspelt word probably meant (`stak` → `stack`), for "did you mean": the closest within a third of
 * the word's length (at least one edit, at most three), or one that differs only in case; none when it is a guess.
 */
export function closest(word: string, candidates: ReadonlyArray<string>): string | undefined {
    const sameCase = candidates.find((c) => c.toLowerCase() === word.toLowerCase());
    if (sameCase !== undefined) {
        return sameCase;
    }
    const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
    const scored = candidates
        .map((candidate) => ({ candidate, distance: editDistance(word.toLowerCase(), candidate.toLowerCase()) }))
        .filter((s) => s.distance <= limit)
        .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
    return scored[0]?.candidate;
}
