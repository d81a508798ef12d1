/**
 * Loaded by mocha before any test (.mocharc.json): brings the CLI's build in dist/ up to date once, as bin/bklite
 * would at its first start, so no test sees the one-off rebuild note on stderr after a source was edited.
 */
import * as path from "path";

const { ensureBuilt } = require("../../scripts/build") as {
    ensureBuilt(root: string, log: (line: string) => void): void;
};
ensureBuilt(path.resolve(__dirname, "..", ".."), (line) => process.stderr.write(`tests: ${line}\n`));
