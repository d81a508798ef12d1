/**
 * Running the `bklite` CLI in tests: always as its own process through bin/bklite, the entry point operators and
 * the program use, so every test runs the compiled CLI (rebuilt first when the sources changed).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { tempDir } from "./processes";

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

/**
 * `bklite <args>` as its own process with only PATH and `env` in its environment, started in the project root;
 * `onStderr` hears its progress as it comes. `done` settles with its output (143 when it was stopped with SIGTERM).
 */
export function startCli(
    args: string[],
    env: Record<string, string>,
    onStderr?: (text: string) => void,
): { child: ChildProcess; done: Promise<CliResult> } {
    const [node, ...cli] = bkliteArgv(args);
    const child = spawn(node, cli, {
        cwd: path.resolve(__dirname, "..", ".."),
        env: { PATH: process.env.PATH, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => {
        stderr += d;
        onStderr?.(stderr);
    });
    const done = new Promise<CliResult>((resolve) =>
        child.on("close", (code, signal) =>
            resolve({ code: code ?? (signal === "SIGTERM" ? 143 : -1), stdout, stderr }),
        ),
    );
    return { child, done };
}

/** A Pulumi project of its own in a new temporary directory: this project's Pulumi.yaml and a stack's config. */
export function stackProject(prefix: string, stack: string, config: Record<string, unknown>): string {
    const project = tempDir(prefix);
    fs.copyFileSync(path.resolve(__dirname, "..", "..", "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), stringify({ config }));
    return project;
}
