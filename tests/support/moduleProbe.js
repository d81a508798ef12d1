// Loaded into a process with NODE_OPTIONS="--require <this file>": when the process exits, it writes every module
// file it loaded, one a line, to $BKLITE_MODULE_PROBE_OUT. Tests use it to see what a command really loads.
"use strict";
process.on("exit", () => {
    require("fs").writeFileSync(process.env.BKLITE_MODULE_PROBE_OUT, Object.keys(require.cache).join("\n"));
});
