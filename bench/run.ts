/** `npm run bench`: every benchmark, each printing ratios against a baseline from the same run. */
import { benchBackup } from "./backup.bench";
import { benchCli } from "./cli.bench";
import { benchImages } from "./images.bench";
import { Result, report } from "./measure";
import { benchSeed } from "./seed.bench";

const BENCHES: Record<string, () => Promise<Result[]>> = {
    cli: benchCli,
    images: benchImages,
    seed: benchSeed,
    backup: benchBackup,
};

async function main(): Promise<void> {
    const only = process.argv.slice(2);
    for (const [name, bench] of Object.entries(BENCHES)) {
        if (only.length > 0 && !only.includes(name)) {
            continue;
        }
        process.stdout.write(`${report(await bench())}\n`);
    }
}

main().catch((err) => {
    process.stderr.write(`bench failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
});
