/**
 * What every kind of data's backup and restore works with: the stack's access (exec, addresses), NATS, the stores'
 * passwords, where the backup's files go, and progress.
 */
import { SecretName, StackConfig } from "../../config/types";
import { NatsEndpoint } from "../../nats/client";
import { RuntimeAccess } from "../../runtimes/runtime";
import { Workload } from "../../services/workload";
import { BackupFile } from "../manifest";
import { trackedFile } from "../transfer";

export interface StoreContext {
    access: RuntimeAccess;
    nats: NatsEndpoint;
    /** The passwords of the stores the data names (falkordbPassword, minioPassword), by secret name. */
    passwords: Partial<Record<SecretName, string>>;
    log: (line: string) => void;
    /** Aborted by SIGINT/SIGTERM: what runs is stopped. */
    signal?: AbortSignal;
}

/** A stack a restore puts a backup into. */
export interface RestoreTarget extends StoreContext {
    stack: string;
    config: StackConfig;
    /** The stack's workloads: who depends on whom, for what to stop. */
    workloads: ReadonlyArray<Workload>;
    secretKey: string;
    /** The stack's restore journal (journal.ts, journalDir). */
    journalDir: string;
}

/** A backup being written: its directory, and every file written to it so far. */
export interface BackupWriter {
    dir: string;
    files: BackupFile[];
}

/** Writes a JSON document into the backup, listed with the rest. */
export async function writeJson(writer: BackupWriter, relative: string, value: unknown): Promise<void> {
    const out = trackedFile(writer.dir, relative);
    await out.write(Buffer.from(`${JSON.stringify(value, null, 2)}\n`));
    writer.files.push(await out.close());
}

/** A store's password, which the CLI required before anything ran. */
export function passwordOf(context: StoreContext, secret: SecretName): string {
    const password = context.passwords[secret];
    if (password === undefined) {
        throw new Error(`no ${secret} was given for this store`);
    }
    return password;
}
