/** A command's `--stack`: the stack's config as the program reads it, and the access of its runtime. */
import * as path from "path";
import { loadStackConfig } from "../src/config/stackFiles";
import { StackConfig } from "../src/config/types";
import { runtimeOf } from "../src/runtimes";
import { RuntimeAccess } from "../src/runtimes/runtime";
import { stackWorkloads } from "../src/services/stack";
import { UsageError } from "./usage";

export interface StackTarget {
    projectDir: string;
    config: StackConfig;
    access: RuntimeAccess;
}

/** The project directory a command reads (its --project-dir, else here). */
export function projectDirOf(values: Record<string, unknown>): string {
    return path.resolve((values["project-dir"] as string | undefined) ?? ".");
}

/** Exactly one of --stack and --spec, as commands that render their spec from the stack file take them. */
export function stackOrSpec(values: Record<string, unknown>, what: string): { stack?: string; spec?: string } {
    const stack = values.stack as string | undefined;
    const spec = values.spec as string | undefined;
    if ((stack === undefined) === (spec === undefined)) {
        throw new UsageError(`give the stack to ${what} with --stack STACK, or its spec with --spec FILE|-`);
    }
    return { stack, spec };
}

/** Stack `stack`'s config from Pulumi.STACK.yaml and its runtime's access (options over the config's). */
export function stackTarget(values: Record<string, unknown>, stack: string): StackTarget {
    const projectDir = projectDirOf(values);
    const config = loadStackConfig(projectDir, stack);
    const access = runtimeOf(config.runtime).access({
        stack,
        config,
        workloads: stackWorkloads(config),
        options: values,
    });
    return { projectDir, config, access };
}
