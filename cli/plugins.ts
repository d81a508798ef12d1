import * as path from "path";
import { pluginFileName, pluginInstallCommands, requiredPlugins } from "../components/plugins";
import { parseOptions } from "./usage";

/** `bklite plugins`: the provider plugins the stack needs and how to install them offline. */
export async function pluginsCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
    const values = parseOptions(args, { dir: { type: "string" }, os: { type: "string" }, arch: { type: "string" }, "project-dir": { type: "string" } });
    const projectDir = path.resolve((values["project-dir"] as string | undefined) ?? ".");
    const dir = (values.dir as string | undefined) ?? "plugins";
    const os = (values.os as string | undefined) ?? "linux";
    const arch = (values.arch as string | undefined) ?? "amd64";
    const plugins = requiredPlugins(projectDir);
    out.write(`# provider plugins (from package-lock.json); files expected in ${dir}/:\n`);
    for (const plugin of plugins) {
        out.write(`#   ${plugin.name} ${plugin.version}: ${pluginFileName(plugin, os, arch)}\n`);
    }
    out.write(`${pluginInstallCommands(plugins, dir, os, arch).join("\n")}\n`);
    return 0;
}
