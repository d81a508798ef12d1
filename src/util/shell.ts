/**
 * Building the command lines the program hands to @pulumi/command: the project's own CLI, with every argument
 * quoted for /bin/sh. Secrets never go on a command line (`ps` shows it); they go in the environment or stdin.
 */
import * as fs from "fs";
import * as path from "path";

/** The nearest directory at or above `dir` that holds Pulumi.yaml. */
function projectRootAbove(dir: string): string {
    for (let current = dir; ; current = path.dirname(current)) {
        if (fs.existsSync(path.join(current, "Pulumi.yaml"))) {
            return current;
        }
        if (path.dirname(current) === current) {
            throw new Error(`no Pulumi.yaml in ${dir} or any directory above it`);
        }
    }
}

/** The project directory (where Pulumi.yaml and bin/bklite are), whether this runs from the sources or from dist/. */
export const PROJECT_ROOT = projectRootAbove(__dirname);

/** Quotes one argument for /bin/sh. */
export function shellQuote(arg: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `node bin/bklite <args>` as a shell command, run from the project directory. */
export function bkliteCommand(args: string[]): string {
    return ["node", "bin/bklite", ...args].map(shellQuote).join(" ");
}
