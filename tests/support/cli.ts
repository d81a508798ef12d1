/**
 * Running the `bklite` CLI: in this process through main() (fast, for many cases) or as the real executable.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { PassThrough } from "stream";
import { main } from "../../cli/main";

const BKLITE = path.resolve(__dirname, "..", "..", "bin", "bklite");

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

function collect(stream: PassThrough): () => string {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    return () => Buffer.concat(chunks).toString("utf8");
}

/** `bklite <args>` through main(), output captured. */
export async function bklite(...args: string[]): Promise<CliResult> {
    const out = new PassThrough();
    const err = new PassThrough();
    const stdout = collect(out);
    const stderr = collect(err);
    const code = await main(args, out, err);
    return { code, stdout: stdout(), stderr: stderr() };
}

/** `node bin/bklite <args>` as its own process. */
export function bkliteProcess(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
    const result = spawnSync(process.execPath, [BKLITE, ...args], { cwd: options.cwd, env: options.env ?? process.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (result.error) {
        throw result.error;
    }
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
