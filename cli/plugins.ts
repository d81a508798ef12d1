import * as fs from "fs";
import * as path from "path";
import { InputError } from "../src/util/inputError";
import { pluginFileName, pluginInstallCommands, requiredPlugins } from "../src/supply/plugins";
import { CommandHandler } from "./types";

/** `bklite plugins`: the provider plugins the stack needs and how to install them offline. */
export const plugins: CommandHandler = async ({ values, out }) => {
    const projectDir = path.resolve((values["project-dir"] as string | undefined) ?? ".");
    const dir = (values.dir as string | undefined) ?? "plugins";
    const os = (values.os as string | undefined) ?? "linux";
    const arch = (values.arch as string | undefined) ?? "amd64";
    if (!fs.existsSync(path.join(projectDir, "package-lock.json"))) {
        throw new InputError(
            `${projectDir} has no package-lock.json: run bklite plugins in the project directory, or pass --project-dir DIR`,
        );
    }
    const required = requiredPlugins(projectDir);
    out.write(`# provider plugins (from package-lock.json); files expected in ${dir}/:\n`);
    for (const plugin of required) {
        out.write(`#   ${plugin.name} ${plugin.version}: ${pluginFileName(plugin, os, arch)}\n`);
    }
    out.write(`${pluginInstallCommands(required, dir, os, arch).join("\n")}\n`);
    return 0;
};
