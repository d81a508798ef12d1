/**
 * A copy of this checkout elsewhere, for tests that change sources, builds or stack files without touching the
 * real ones (so two runs of the suite never disturb each other). node_modules is linked, not copied.
 */
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "./processes";
import { PROJECT_ROOT } from "./stackFiles";

/** Copies the project (without .git, node_modules and the build) to a new directory; returns its path. */
export function copyCheckout(prefix: string, options: { withBuild?: boolean } = {}): string {
    const copy = path.join(tempDir(prefix), "checkout");
    fs.mkdirSync(copy);
    for (const entry of fs.readdirSync(PROJECT_ROOT)) {
        const skip = entry === ".git" || entry === "node_modules" || (entry.startsWith("dist") && !options.withBuild);
        if (!skip) {
            fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(copy, entry), {
                recursive: true,
                preserveTimestamps: true,
            });
        }
    }
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(copy, "node_modules"));
    return copy;
}
