/**
 * A restore in a process of its own that kills itself (SIGKILL: nothing runs after it) at a given point, for tests
 * of what the next `bklite restore --recover` finds. The job comes as JSON in BKLITE_TEST_RESTORE_JOB.
 */
import { restoreBackup, RestorePhase, RestoreTarget } from "../../src/backup/restore";
import { loadStackConfig } from "../../src/config/stackFiles";
import { runtimeOf } from "../../src/runtimes";
import { stackWorkloads } from "../../src/services/stack";

export interface RestoreJob {
    backup: string;
    stack: string;
    projectDir: string;
    nats: RestoreTarget["nats"];
    passwords: RestoreTarget["passwords"];
    secretKey: string;
    journalDir: string;
    /** After which phase to die, or "commit" for after the journal says committed. */
    killAfter: RestorePhase | "commit";
}

async function main(): Promise<void> {
    const job = JSON.parse(process.env.BKLITE_TEST_RESTORE_JOB!) as RestoreJob;
    const config = loadStackConfig(job.projectDir, job.stack);
    const workloads = stackWorkloads(config);
    const access = runtimeOf(config.runtime).access({ stack: job.stack, config, workloads });
    const die = (): void => void process.kill(process.pid, "SIGKILL");
    await restoreBackup(
        job.backup,
        { ...job, config, workloads, access, log: (line) => process.stderr.write(`${line}\n`) },
        {
            afterPhase: (phase) => (phase === job.killAfter ? die() : undefined),
            afterCommit: () => (job.killAfter === "commit" ? die() : undefined),
        },
    );
    process.stderr.write("the restore ended without being killed\n");
    process.exitCode = 3;
}

void main();
