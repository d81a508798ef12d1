/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program: every value a
 * string (objects and lists as JSON), project defaults filled in for keys the stack does not set.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export interface ProjectFile {
    name: string;
    config: Record<string, { type: string; description?: string; default?: unknown; secret?: boolean; items?: { type: string } }>;
    [key: string]: unknown;
}

export function readProjectFile(): ProjectFile {
    return parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as ProjectFile;
}

/** The stack file's config map as written (namespaced keys). */
export function readStackFile(stack: string): Record<string, unknown> {
    const file = parse(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
    return file.config ?? {};
}

/** How the CLI passes one config value: strings as they are, everything else as JSON. */
export function toConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The config a program sees for this stack, with `overrides` applied (namespaced keys; `undefined` removes). */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    const project = readProjectFile();
    const config: Record<string, string> = {};
    for (const [key, decl] of Object.entries(project.config ?? {})) {
        if (decl.default !== undefined) {
            config[`${project.name}:${key}`] = toConfigString(decl.default);
        }
    }
    for (const [key, value] of Object.entries({ ...readStackFile(stack), ...overrides })) {
        if (value === undefined) {
            delete config[key];
        } else {
            config[key] = toConfigString(value);
        }
    }
    return config;
}
