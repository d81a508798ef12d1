// Runs the program (index.ts, the dev stack) under ts-node as pulumi's nodejs language host registers it, under
// mocks, and exits when every resource is registered. argv[2]: "pulumi" (the options pulumi builds: transpile-only
// through tsconfig.json's "ts-node" section) or "typecheck" (ts-node's default, how `pulumi up` ran it before).
// Plain JavaScript: it must set up ts-node itself.
"use strict";
const path = require("path");
const root = path.resolve(__dirname, "..");
process.chdir(root);
const mode = process.argv[2];
const tsutils = require("@pulumi/pulumi/tsutils");
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
require("ts-node").register({
    transpileOnly: mode === "typecheck" ? false : compilerOptions.noCheck,
    project: "tsconfig.json",
    compilerOptions: {
        target: "ES2020",
        module: "nodenext",
        moduleResolution: "nodenext",
        sourceMap: "true",
        ...compilerOptions,
    },
});
const pulumi = require("@pulumi/pulumi");
const { readStackFiles } = require("../src/config/stackFiles");
// The test suite's mocks: they compute what providers would (generated passwords, certificates).
require("../tests/support/mocks")
    .setRecordingMocks("dev")
    .then(async () => {
        pulumi.runtime.setAllConfig(readStackFiles(root, "dev").values, []);
        // Nothing is read from this host (images, bundle, packages), as in `bklite plan`.
        require("../src/plan/mode").startPlanRendering();
        require("../index");
        await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
    })
    .catch((e) => {
        process.stderr.write(`${e.stack}\n`);
        process.exitCode = 1;
    });
