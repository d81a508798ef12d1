/**
 * Running the `bklite` CLI in tests: always as its own process through bin/bklite, the entry point operators and
 * the program use, so every test runs the compiled CLI (rebuilt first when the sources changed).
 */
import { spawn, spawnSync } from "child_process";
import * as path from "path";

/** The executable operators run. */
export const BKLITE = path.resolve(__dirname, "..", "..", "bin", "bklite");

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** `node bin/bklite <args>` as an argument vector, for tests that spawn it themselves (stdin, namespaces). */
export function bkliteArgv(args: string[]): string[] {
    return [process.execPath, BKLITE, ...args];
}

/** `bklite <args>`, output captured; asynchronous, so servers the test started keep answering meanwhile. */
export function bklite(...args: string[]): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const [command, ...rest] = bkliteArgv(args);
        const child = spawn(command, rest, { stdio: ["ignore", "pipe", "pipe"] });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        child.on("error", reject);
        child.on("close", (code) =>
            resolve({
                code: code ?? -1,
                stdout: Buffer.concat(stdout).toString("utf8"),
                stderr: Buffer.concat(stderr).toString("utf8"),
            }),
        );
    });
}

/** `bklite <args>` run to completion, with a working directory, environment or standard input of its own. */
export function bkliteProcess(
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): CliResult {
    const [command, ...rest] = bkliteArgv(args);
    const result = spawnSync(command, rest, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        input: options.input,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error) {
        throw result.error;
    }
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
