// The program as `pulumi up` runs it (package.json "main", with Pulumi.yaml's `typescript: false`): the compiled
// JavaScript in dist/, never TypeScript compiled at deploy time. A build older than the sources is rebuilt first, as
// bin/bklite does, so a deployment always runs the checkout's code; type checking is `npm test`'s.
"use strict";
const path = require("path");
const { ensureBuilt } = require("../scripts/build");

const root = path.resolve(__dirname, "..");
ensureBuilt(root, (line) => process.stderr.write(`bklite: ${line}\n`));
module.exports = require(path.join(root, "dist", "index.js"));
