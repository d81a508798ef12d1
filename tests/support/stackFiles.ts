/**
 * The committed stack files, read as the program would see them (see components/config/stackFiles.ts).
 */
import * as path from "path";
import { ProjectFile, readProjectFile as readProject, readStackConfig } from "../../components/config/stackFiles";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export function readProjectFile(): ProjectFile & { config: NonNullable<ProjectFile["config"]> } {
    const project = readProject(PROJECT_ROOT);
    return { ...project, config: project.config ?? {} };
}

/** The config a program sees for this stack, with `overrides` applied (namespaced keys; `undefined` removes). */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    return readStackConfig(PROJECT_ROOT, stack, overrides).values;
}
