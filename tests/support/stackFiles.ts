/**
 * The committed stack files, read as the program would see them (see src/config/stackFiles.ts).
 */
import * as path from "path";
import { ProjectFile, readProjectFile as readProject, readStackFiles } from "../../src/config/stackFiles";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export function readProjectFile(): ProjectFile & { config: NonNullable<ProjectFile["config"]> } {
    const project = readProject(PROJECT_ROOT);
    return { ...project, config: project.config ?? {} };
}

/** The config a program sees for this stack, with `overrides` applied (namespaced keys; `undefined` removes). */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    return readStackFiles(PROJECT_ROOT, stack, overrides).values;
}

/** Stand-in probe package files for stacks whose package files are not in the repository (they are git-ignored). */
const standIns = new Map<string, string>();
export function standInPackageFile(name = "fusion-collectors-linux-amd64.zip"): string {
    let file = standIns.get(name);
    if (!file) {
        const fs = require("fs") as typeof import("fs");
        const os = require("os") as typeof import("os");
        file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bklite-package-")), name);
        fs.writeFileSync(file, `stand-in probe package ${name}\n`);
        standIns.set(name, file);
    }
    return file;
}

/** The stack's config with every probe package pointed at a stand-in file of the same name, for program runs under mocks. */
export function programConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    const config = stackConfig(stack, overrides);
    const packages = config["bklite:probePackages"];
    if (packages !== undefined) {
        const list = JSON.parse(packages) as Array<{ file: string }>;
        config["bklite:probePackages"] = JSON.stringify(
            list.map((p) => ({ ...p, file: standInPackageFile(path.basename(p.file)) })),
        );
    }
    return config;
}
