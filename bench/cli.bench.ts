/**
 * Starting the CLI and the program, in CPU time (user + sys, the median of several runs) so a busy machine does not
 * skew it: `bklite --help`, `bklite seed apply --help` and `bklite plan --stack prod` against bare `node -e 0`; the
 * plan of 2, 100 and 1,000 regions (it must grow linearly); and the program's start as `pulumi up` runs it (compiled)
 * against bare `node -e 0`, with the ts-node start it replaced beside it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { tempDir } from "../tests/support/processes";
import { Result, median } from "./measure";

const ROOT = path.resolve(__dirname, "..");
const BKLITE = path.join(ROOT, "bin", "bklite");

/** CPU seconds (user + sys) a command and its children used, from bash's `times`; throws when it fails. */
function cpuSeconds(argv: string[]): number {
    const script =
        'err=$("$@" 2>&1 >/dev/null); rc=$?; times; if [ $rc -ne 0 ]; then printf "%s\\n" "$err" >&2; exit $rc; fi';
    const run = spawnSync("bash", ["-c", script, "bash", ...argv], { cwd: ROOT, encoding: "utf8" });
    if (run.status !== 0) {
        throw new Error(`${argv.join(" ")} failed (${run.status}): ${run.stderr.trim().slice(0, 2000)}`);
    }
    // The second line is the children's: "0m1.234s 0m0.123s".
    const children = run.stdout.trim().split("\n").pop()!;
    const [user, sys] = children.split(" ").map((t) => {
        const [, minutes, seconds] = /^(\d+)m([\d.]+)s$/.exec(t)!;
        return Number(minutes) * 60 + Number(seconds);
    });
    return user + sys;
}

function medianCpu(argv: string[], runs: number): number {
    cpuSeconds(argv); // warm the file cache (and build dist/ if needed) outside the measurement
    return median(Array.from({ length: runs }, () => cpuSeconds(argv)));
}

/** Pulumi.prod.yaml with `count` regions (default and count-1 more), written to a file of its own. */
function prodWithRegions(dir: string, count: number): string {
    const stack = parse(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    stack.config["bklite:regions"] = Array.from({ length: count }, (_, i) =>
        i === 0
            ? { name: "default" }
            : { name: `region-${i}`, nodeServerUrl: `http://10.${Math.floor(i / 250)}.${i % 250}.5:8080` },
    );
    const file = path.join(dir, `Pulumi.prod-${count}.yaml`);
    fs.writeFileSync(file, stringify(stack));
    return file;
}

export async function benchCli(): Promise<Result[]> {
    const node = medianCpu([process.execPath, "-e", "0"], 9);
    const cli = (args: string[], runs: number) => medianCpu([process.execPath, BKLITE, ...args], runs);
    const help = cli(["--help"], 9);
    const seedHelp = cli(["seed", "apply", "--help"], 9);
    const plan = cli(["plan", "--stack", "prod"], 5);

    const dir = tempDir("bench-regions");
    const regions = [2, 100, 1000].map((count) => ({
        count,
        cpu: cli(["plan", "--stack", "prod", "--config-file", prodWithRegions(dir, count)], 3),
    }));
    const [r2, r100, r1000] = regions;
    const perRegion = (a: typeof r2, b: typeof r2) => ((b.cpu - a.cpu) / (b.count - a.count)) * 1000;

    const worker = path.join(__dirname, "programStartWorker.js");
    const programNow = medianCpu([process.execPath, worker, "compiled"], 5);
    const programBefore = medianCpu([process.execPath, worker, "ts-node"], 3);

    return [
        {
            name: "bklite --help: CPU vs bare `node -e 0` (goal: ratio within 3)",
            value: help,
            baseline: node,
            unit: "CPU s",
        },
        {
            name: "bklite seed apply --help: CPU vs bare `node -e 0` (goal: ratio within 3)",
            value: seedHelp,
            baseline: node,
            unit: "CPU s",
        },
        {
            name: "bklite plan --stack prod: CPU vs bare `node -e 0`",
            value: plan,
            baseline: node,
            unit: "CPU s",
            notes: [`goal: under 1.5 CPU s; ${plan < 1.5 ? "met" : "NOT MET"} (${plan.toFixed(3)} CPU s)`],
        },
        {
            name: "bklite plan of prod with 1,000 regions vs 2 regions",
            value: r1000.cpu,
            baseline: r2.cpu,
            unit: "CPU s",
            notes: [
                `2 regions ${r2.cpu.toFixed(3)} s, 100 regions ${r100.cpu.toFixed(3)} s, 1,000 regions ${r1000.cpu.toFixed(3)} s`,
                `CPU per added region: ${perRegion(r2, r100).toFixed(2)} ms from 2 to 100, ${perRegion(r100, r1000).toFixed(2)} ms from 100 to 1,000 (linear growth keeps the second no larger than the first)`,
            ],
        },
        {
            name: "the program's start as pulumi up runs it (compiled, dist/) vs bare `node -e 0`",
            value: programNow,
            baseline: node,
            unit: "CPU s",
            notes: [
                "the dev stack under mocks, from the first require to the last resource registered",
                `goal: within 1.5 CPU s; ${programNow <= 1.5 ? "met" : "NOT MET"} (${programNow.toFixed(3)} CPU s)`,
                `the sources through ts-node, transpile-only, as it ran before: ${programBefore.toFixed(3)} CPU s (ratio ${(programNow / programBefore).toFixed(3)})`,
            ],
        },
    ];
}
