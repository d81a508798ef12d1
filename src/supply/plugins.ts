/**
 * The Pulumi provider plugins the program needs at deploy time, with the exact versions the lockfile pins, and
 * the commands that install them from files on an offline host (so the first `pulumi up` downloads nothing).
 */
import * as fs from "fs";
import * as path from "path";

export interface PluginRequirement {
    name: string;
    version: string;
}

/** Resource plugins of the installed @pulumi packages, at the versions package-lock.json pins. */
export function requiredPlugins(projectDir: string): PluginRequirement[] {
    const lock = JSON.parse(fs.readFileSync(path.join(projectDir, "package-lock.json"), "utf8")) as {
        packages: Record<string, { version?: string; dev?: boolean }>;
    };
    const plugins: PluginRequirement[] = [];
    for (const [key, entry] of Object.entries(lock.packages)) {
        const match = /^node_modules\/(@pulumi\/[^/]+)$/.exec(key);
        if (!match || entry.dev) {
            continue;
        }
        const manifest = path.join(projectDir, key, "package.json");
        const pulumiInfo = fs.existsSync(manifest)
            ? (JSON.parse(fs.readFileSync(manifest, "utf8")).pulumi as
                  { resource?: boolean; name?: string } | undefined)
            : undefined;
        if (pulumiInfo?.resource && pulumiInfo.name && entry.version) {
            plugins.push({ name: pulumiInfo.name, version: entry.version });
        }
    }
    return plugins.sort((a, b) => a.name.localeCompare(b.name));
}

/** The release file of a plugin for an OS and architecture, as Pulumi names it. */
export function pluginFileName(plugin: PluginRequirement, os = "linux", arch = "amd64"): string {
    return `pulumi-resource-${plugin.name}-v${plugin.version}-${os}-${arch}.tar.gz`;
}

/** Shell lines that install every plugin from files in `dir`. */
export function pluginInstallCommands(
    plugins: PluginRequirement[],
    dir: string,
    os = "linux",
    arch = "amd64",
): string[] {
    return plugins.map(
        (p) =>
            `pulumi plugin install resource ${p.name} ${p.version} --file ${path.posix.join(dir, pluginFileName(p, os, arch))}`,
    );
}
