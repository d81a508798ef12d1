/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program (every value a
 * string, objects and lists as JSON, project defaults for keys the stack does not set), so the CLI, `bklite plan`
 * and the tests see exactly the config `pulumi up` would.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { MiB, readBounded } from "../util/boundedRead";
import { InputError } from "../util/inputError";
import { CONFIG_NAMESPACE } from "./keys";
import { parseStackConfig } from "./parse";
import { ConfigError } from "./problems";
import { stackNameProblem } from "./stackName";
import { formatProblem } from "../util/problem";
import { ConfigSource, StackConfig } from "./types";

export interface ProjectFile {
    name: string;
    config?: Record<
        string,
        { type: string; description?: string; default?: unknown; secret?: boolean; items?: { type: string } }
    >;
    [key: string]: unknown;
}

/** The most a Pulumi.yaml or stack file may hold: real ones are a few KiB. */
export const MAX_STACK_FILE_BYTES = 4 * MiB;

/**
 * A YAML file as a document, its problems reported with the file, line and column: never the parser's own
 * message alone, which does not name the file and quotes the text around the error.
 */
export function readYamlFile(file: string, fix: string): unknown {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile()) {
        throw new InputError(`${file} does not exist: ${fix}`);
    }
    const text = readBounded(file, MAX_STACK_FILE_BYTES, file, "a Pulumi project or stack file is a few KiB");
    try {
        return parse(text);
    } catch (err) {
        const where = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
        const reason = (err as Error).message.split("\n")[0].replace(/ at line \d+, column \d+.*$/, "");
        throw new InputError(
            `${file}${where ? `:${where.line}:${where.col}` : ""}: not valid YAML (${reason}): fix the file and run again`,
        );
    }
}

export function readProjectFile(projectDir: string): ProjectFile {
    const file = path.join(projectDir, "Pulumi.yaml");
    const project = readYamlFile(file, "run from the project directory or pass --project-dir");
    if (typeof project !== "object" || project === null || typeof (project as ProjectFile).name !== "string") {
        throw new InputError(
            `${file}: not a Pulumi project file (no name): run from the project directory or pass --project-dir`,
        );
    }
    return project as ProjectFile;
}

/** Refuses a name that is not a stack's before it reaches a path. */
export function requireStackName(stack: string): void {
    const problem = stackNameProblem(stack);
    if (problem !== undefined) {
        throw new InputError(formatProblem(problem));
    }
}

/** The stack file of a stack: Pulumi.<stack>.yaml in the project directory. */
export function stackFilePath(projectDir: string, stack: string): string {
    requireStackName(stack);
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/** The stack file's config map as written (namespaced keys); `file` replaces Pulumi.<stack>.yaml. */
export function readStackFile(
    projectDir: string,
    stack: string,
    file: string = stackFilePath(projectDir, stack),
): Record<string, unknown> {
    const parsed = readYamlFile(file, `is '${stack}' the right stack name?`) as { config?: unknown } | null;
    const config = parsed?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new InputError(`${file}: config must be a map of keys (bklite:<key>: value): fix the file and run again`);
    }
    return config as Record<string, unknown>;
}

/** How the CLI passes one config value: strings as they are, everything else as JSON. */
export function toConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

function isSecure(value: unknown): boolean {
    return (
        typeof value === "object" &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length === 1 &&
        "secure" in value
    );
}

export interface StackFileValues {
    /** Namespaced keys to the strings a program would see; encrypted values are left out. */
    values: Record<string, string>;
    /** Namespaced keys whose values are encrypted (`secure:`) and so cannot be read without the passphrase. */
    encrypted: string[];
}

/**
 * The config a program sees for this stack, with `overrides` applied (`undefined` removes a key); `stackFile`
 * replaces Pulumi.<stack>.yaml (as `pulumi --config-file` does).
 */
export function readStackFiles(
    projectDir: string,
    stack: string,
    overrides: Record<string, unknown> = {},
    stackFile?: string,
): StackFileValues {
    const project = readProjectFile(projectDir);
    const values: Record<string, string> = {};
    const encrypted: string[] = [];
    for (const [key, decl] of Object.entries(project.config ?? {})) {
        if (decl.default !== undefined) {
            values[`${project.name}:${key}`] = toConfigString(decl.default);
        }
    }
    for (const [key, value] of Object.entries({ ...readStackFile(projectDir, stack, stackFile), ...overrides })) {
        if (value === undefined) {
            delete values[key];
        } else if (isSecure(value)) {
            delete values[key];
            encrypted.push(key);
        } else {
            values[key] = toConfigString(value);
        }
    }
    return { values, encrypted };
}

/** A config source over stack-file config; encrypted keys count as given secrets. */
export function stackFileSource(config: StackFileValues): ConfigSource {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const strip = (keys: string[]) => keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    return {
        get: (key) => config.values[`${prefix}${key}`],
        keys: () => strip([...Object.keys(config.values), ...config.encrypted]),
        otherKeys: () => [...Object.keys(config.values), ...config.encrypted].filter((k) => !k.startsWith(prefix)),
        encrypted: () => strip(config.encrypted),
        // A value this reader can see was written in plaintext.
        isSecret: (key) => config.encrypted.includes(`${prefix}${key}`),
    };
}

/**
 * A stack's config handed over as StackFileValues (`--stack-config`, how the program passes it), checked for its
 * shape and then validated by the one parser, as its stack file would be; `where` names it in errors.
 */
export function stackConfigFromValues(given: unknown, where: string): StackConfig {
    const shaped = given as Partial<StackFileValues> | null;
    const values = shaped?.values;
    const encrypted = shaped?.encrypted;
    const valid =
        typeof values === "object" &&
        values !== null &&
        !Array.isArray(values) &&
        Object.values(values).every((v) => typeof v === "string") &&
        Array.isArray(encrypted) &&
        encrypted.every((k) => typeof k === "string") &&
        Object.keys(shaped!).every((k) => k === "values" || k === "encrypted");
    if (!valid) {
        throw new InputError(
            `${where}: not a stack config as the program passes it ({"values": {"bklite:KEY": "string"}, "encrypted": ["bklite:KEY"]}); pass the stack's file instead (--project-dir)`,
        );
    }
    const result = parseStackConfig(stackFileSource({ values, encrypted }));
    if (result.config === undefined) {
        throw new ConfigError(result.problems);
    }
    return result.config;
}

/** Reads and validates a stack's config from its files; throws a ConfigError listing every problem. */
export function loadStackConfig(projectDir: string, stack: string): StackConfig {
    requireStackName(stack);
    const result = parseStackConfig(stackFileSource(readStackFiles(projectDir, stack)));
    if (result.config === undefined) {
        throw new ConfigError(result.problems);
    }
    return result.config;
}
