/**
 * Where an operator's command gets its BKLITE_* variables when they are not set: the deployed stack's
 * `operatorEnvironment` output (one secret, the connection the program's own commands use), read with the Pulumi
 * CLI. Variables already set win, so a site can point one at another address. No value is ever printed.
 */
import { spawnSync } from "child_process";
import { InputError } from "../src/util/inputError";

export const OPERATOR_ENVIRONMENT_OUTPUT = "operatorEnvironment";

/** The Pulumi CLI: BKLITE_PULUMI (a stand-in in tests), else `pulumi` from PATH. */
function pulumiBinary(): string {
    return process.env.BKLITE_PULUMI || "pulumi";
}

/** The command that reads the output, as an operator would type it. */
export function outputCommand(stack: string): string {
    return `pulumi stack output ${OPERATOR_ENVIRONMENT_OUTPUT} --json --show-secrets --stack ${stack}`;
}

/**
 * Fills the unset BKLITE_* variables of `env` from stack `stack`'s output when any of `needed` is unset; refuses at
 * once, saying what to do, when the Pulumi CLI is missing or cannot read the stack.
 */
export function fillFromStack(
    stack: string,
    projectDir: string,
    needed: ReadonlyArray<string>,
    env: NodeJS.ProcessEnv = process.env,
): void {
    const unset = needed.filter((name) => !env[name]);
    if (unset.length === 0) {
        return;
    }
    const result = spawnSync(pulumiBinary(), outputCommand(stack).split(" ").slice(1), {
        cwd: projectDir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        maxBuffer: 16 * 1024 * 1024,
    });
    const how = `set them (${unset.join(", ")} and the rest the command names), or run \`${outputCommand(stack)}\` where the Pulumi CLI and the stack's passphrase are`;
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
        throw new InputError(
            `${unset.join(", ")} not set, and no Pulumi CLI here to read them from stack ${stack}: ${how}`,
        );
    }
    if (result.status !== 0) {
        const said = (result.stderr || String(result.error ?? "")).trim().split("\n").slice(-1)[0];
        throw new InputError(`reading stack ${stack}'s ${OPERATOR_ENVIRONMENT_OUTPUT} failed (${said}): ${how}`);
    }
    let values: unknown;
    try {
        values = JSON.parse(result.stdout);
    } catch {
        values = undefined;
    }
    if (typeof values !== "object" || values === null || Array.isArray(values)) {
        throw new InputError(
            `stack ${stack} has no ${OPERATOR_ENVIRONMENT_OUTPUT} output yet (deployed by an older version): run \`pulumi up\` once, or ${how}`,
        );
    }
    for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        if (name.startsWith("BKLITE_") && typeof value === "string" && !env[name]) {
            env[name] = value;
        }
    }
}
