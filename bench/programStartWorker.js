// Starts the program (the dev stack) as Pulumi's Node.js language host starts it, under mocks, and exits when every
// resource is registered. argv[2]: "compiled" (how `pulumi up` runs it now: Pulumi.yaml's `typescript: false`, the
// host requiring the project, whose package.json "main" runs dist/) or "ts-node" (how it ran before: the sources
// through ts-node, transpile-only). Plain JavaScript: it must not load ts-node unless asked to.
"use strict";
const crypto = require("crypto");
const path = require("path");
const root = path.resolve(__dirname, "..");
process.chdir(root);
const mode = process.argv[2];
if (mode === "ts-node") {
    const tsutils = require("@pulumi/pulumi/tsutils");
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
    require("ts-node").register({
        transpileOnly: true,
        project: "tsconfig.json",
        compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", ...compilerOptions },
    });
} else if (mode !== "compiled") {
    throw new Error("usage: programStartWorker.js compiled|ts-node");
}
// The program's own modules, from where the program runs: dist/ compiled, or the sources.
const tree = mode === "compiled" ? path.join(root, "dist", "src") : path.join(root, "src");
const digest = (text) => crypto.createHash("sha256").update(text).digest("hex");
/** What providers compute (generated passwords, keys, certificates, image ids), as the plan stands them in. */
function computed(type, name, inputs) {
    if (type === "docker:index/remoteImage:RemoteImage") {
        return { imageId: `sha256:${digest(String(inputs.name))}` };
    }
    if (type === "random:index/randomPassword:RandomPassword") {
        return { result: `bench${digest(name).slice(0, 27)}` };
    }
    if (type === "tls:index/privateKey:PrivateKey") {
        return { privateKeyPem: `key-${name}`, publicKeyPem: `pub-${name}` };
    }
    if (type.startsWith("tls:index/")) {
        return { certPem: `cert-${name}`, certRequestPem: `csr-${name}` };
    }
    return {};
}
const pulumi = require("@pulumi/pulumi");
require(path.join(tree, "plan", "mockRun"))
    .setRecordingMocks("dev", computed)
    .then(async () => {
        pulumi.runtime.setAllConfig(
            require(path.join(tree, "config", "stackFiles")).readStackFiles(root, "dev").values,
            [],
        );
        // Nothing is read from this host (images, bundle, packages), as in `bklite plan`.
        require(path.join(tree, "plan", "mode")).startPlanRendering();
        // As the language host does: the project's package.json "main" (compiled), or index.ts (before).
        require(mode === "compiled" ? root : path.join(root, "index.ts"));
        await require(path.join(tree, "plan", "mockRun")).settle();
    })
    .catch((e) => {
        process.stderr.write(`${e.stack}\n`);
        process.exitCode = 1;
    });
