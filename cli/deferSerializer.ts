/**
 * Importing @pulumi/pulumi loads its function serializer (runtime/index.js requires closure/serializeClosure and
 * closure/codePaths at once), and with it the TypeScript compiler and npm's arborist: about half of what importing
 * the SDK costs (pulumi/pulumi#10185). The CLI never serializes a function (no dynamic providers, no callbacks), so
 * before any command loads, it puts stand-ins for those two modules in the module cache whose functions load the
 * real module on first call. `pulumi up` runs the program without this: the SDK there is as it ships.
 */
import * as path from "path";
import Module from "module";

/** The deferred modules (under @pulumi/pulumi/runtime/) and their exports, all functions. */
export const DEFERRED_MODULES: Record<string, string[]> = {
    "closure/serializeClosure.js": ["serializeFunction", "serializeFunctionAsync"],
    "closure/codePaths.js": ["computeCodePaths", "findWorkspaceRoot"],
};

/** Installs the stand-ins; does nothing for a module already loaded or not where this SDK version keeps it. */
export function deferFunctionSerializer(): void {
    let runtimeDir: string;
    try {
        runtimeDir = path.dirname(require.resolve("@pulumi/pulumi/runtime/index.js"));
    } catch {
        return;
    }
    for (const [file, names] of Object.entries(DEFERRED_MODULES)) {
        const filename = path.join(runtimeDir, file);
        if (require.cache[filename]) {
            continue;
        }
        let real: Record<string, (...args: unknown[]) => unknown> | undefined;
        const load = () => {
            if (real === undefined) {
                delete require.cache[filename];
                // eslint-disable-next-line @typescript-eslint/no-require-imports -- the real module, by path, on first use
                real = require(filename) as Record<string, (...args: unknown[]) => unknown>;
            }
            return real;
        };
        const standIn = new Module(filename);
        standIn.filename = filename;
        standIn.loaded = true;
        standIn.exports = Object.fromEntries(
            names.map((name) => [name, (...args: unknown[]) => load()[name](...args)]),
        );
        require.cache[filename] = standIn;
    }
}
