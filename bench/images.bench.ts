/**
 * Image loading: a re-run over unchanged archives against the first load, and against what the runbooks did
 * (plain `docker load` of every archive), measured in one run on the same images.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { bundleImages, loadBundle } from "../src/supply/bundle";
import { dockerCli } from "../src/supply/dockerCli";
import { makeImage, removeImages, requireDockerEngine } from "../tests/support/docker";
import { tempDir } from "../tests/support/processes";
import { Result, median, time } from "./measure";

const IMAGES = 5;
const FILLER_BYTES = 24 * 1024 * 1024;
const ROUNDS = 3;

export async function benchImages(): Promise<Result[]> {
    requireDockerEngine();
    const refs = Array.from({ length: IMAGES }, (_, i) => `bklite-bench/image-${i}:1`);
    const dir = tempDir("bench-bundle");
    const docker = dockerCli();
    const quiet = () => undefined;
    try {
        removeImages(refs);
        refs.forEach((ref, i) => makeImage(ref, `bench ${i}\n`, FILLER_BYTES));
        await bundleImages({ images: refs.map((ref) => ({ source: ref, target: ref })), dir, docker, log: quiet });
        const archives = fs.readdirSync(dir).filter((f) => f.endsWith(".tar"));

        const firstLoad: number[] = [];
        const rerun: number[] = [];
        const plainLoad: number[] = [];
        for (let round = 0; round < ROUNDS; round++) {
            removeImages(refs);
            firstLoad.push(await time(() => loadBundle({ dir, docker, log: quiet })));
            rerun.push(await time(() => loadBundle({ dir, docker, log: quiet })));
            plainLoad.push(
                await time(async () => {
                    for (const archive of archives) {
                        execFileSync("docker", ["load", "--quiet", "--input", path.join(dir, archive)], {
                            stdio: "ignore",
                        });
                    }
                }),
            );
        }
        const size = archives.reduce((sum, a) => sum + fs.statSync(path.join(dir, a)).size, 0);
        const label = `${IMAGES} images, ${(size / 1024 / 1024).toFixed(0)} MiB of archives`;
        return [
            {
                name: `images load: re-run over unchanged archives vs first load (${label})`,
                value: median(rerun),
                baseline: median(firstLoad),
            },
            {
                name: `images load: re-run vs plain docker load of every archive (${label})`,
                value: median(rerun),
                baseline: median(plainLoad),
            },
        ];
    } finally {
        removeImages(refs);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
