"use strict";
/**
 * The compiled program and CLI: index.ts, src/ and cli/ transpiled to CommonJS in dist/, file by file, as ts-node
 * transpiles them (type checking is `npm run typecheck`'s job, part of `npm test`). `npm ci` builds it through the
 * `prepare` script; bin/bklite (the CLI) and bin/pulumi-program.js (what `pulumi up` runs) check it against the
 * sources at every start and rebuild a missing or stale build under a lock before they run anything, so neither
 * ever runs code older than its sources.
 *
 *   node scripts/build.js           build dist/ (npm run build)
 *   node scripts/build.js --check   exit 0 when dist/ is up to date, 1 saying why it is not
 *
 * Plain JavaScript on purpose: it runs before anything is compiled, and bin/bklite loads it at every start, so it
 * requires only Node's own modules until it has to build.
 */
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

/** Where the build goes, relative to the project. */
const OUT_DIR = "dist";
/** What was built from what: written last, so a build without it is incomplete. */
const STAMP_FILE = "build-info.json";
const STAMP_FORMAT = 1;
/** The TypeScript that is compiled: the program and the CLI (tests, bench, policy and scripts run under ts-node). */
const SOURCES = ["index.ts", "src", "cli"];
/** Files that change the output without being compiled. */
const BUILD_INPUTS = ["tsconfig.json", "scripts/build.js"];
/** How long a build may hold the lock before others take it over (a build takes seconds). */
const LOCK_TIMEOUT_MS = 5 * 60 * 1000;

/** A build that is missing, stale or cannot be made; its message says which and what to do. */
class BuildError extends Error {}

function sha256(file) {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Every file the build depends on, relative to the project, sorted. */
function inputFiles(root) {
    const files = [...BUILD_INPUTS];
    const visit = (rel) => {
        const full = path.join(root, rel);
        if (!fs.existsSync(full)) {
            return;
        }
        if (fs.statSync(full).isDirectory()) {
            for (const entry of fs.readdirSync(full)) {
                visit(path.join(rel, entry));
            }
        } else if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) {
            files.push(rel);
        }
    };
    SOURCES.forEach(visit);
    return files.sort();
}

function readStamp(root) {
    try {
        const stamp = JSON.parse(fs.readFileSync(path.join(root, OUT_DIR, STAMP_FILE), "utf8"));
        return stamp && stamp.format === STAMP_FORMAT && stamp.files && typeof stamp.files === "object"
            ? stamp
            : undefined;
    } catch {
        return undefined;
    }
}

/** A file's content, with what the stamp records of it (stat first: a write after it makes the stamp stale). */
function readInput(root, rel) {
    const stat = fs.statSync(path.join(root, rel));
    const content = fs.readFileSync(path.join(root, rel));
    return {
        content,
        recorded: {
            size: stat.size,
            mtimeMs: stat.mtimeMs,
            sha256: crypto.createHash("sha256").update(content).digest("hex"),
        },
    };
}

/**
 * Why dist/ cannot be run as it is, or undefined when it matches the sources. Cheap when nothing changed (one stat
 * per file); a file whose time changed but whose content did not (a fresh checkout) is hashed, and the stamp is
 * brought up to date so the next start is cheap again.
 */
function staleReason(root) {
    const stamp = readStamp(root);
    if (!stamp) {
        return fs.existsSync(path.join(root, OUT_DIR))
            ? `the build in ${OUT_DIR}/ is incomplete`
            : `there is no build in ${OUT_DIR}/`;
    }
    const files = inputFiles(root);
    const built = Object.keys(stamp.files);
    const added = files.find((f) => !(f in stamp.files));
    if (added) {
        return `${added} is new since the last build`;
    }
    const removed = built.find((f) => !files.includes(f));
    if (removed) {
        return `${removed} was removed since the last build`;
    }
    let touched = false;
    for (const rel of files) {
        const recorded = stamp.files[rel];
        const stat = fs.statSync(path.join(root, rel));
        if (stat.size === recorded.size && stat.mtimeMs === recorded.mtimeMs) {
            continue;
        }
        if (stat.size !== recorded.size || sha256(path.join(root, rel)) !== recorded.sha256) {
            return `${rel} changed since the last build`;
        }
        stamp.files[rel] = { ...recorded, mtimeMs: stat.mtimeMs };
        touched = true;
    }
    if (touched) {
        writeAtomically(path.join(root, OUT_DIR, STAMP_FILE), stampText(stamp), () => undefined);
    }
    return undefined;
}

function stampText(stamp) {
    return `${JSON.stringify(stamp, null, 1)}\n`;
}

/** Writes a file through a temporary name; `onError` decides what a failure means (the stamp refresh is optional). */
function writeAtomically(file, text, onError) {
    const temp = `${file}.${process.pid}.tmp`;
    try {
        fs.writeFileSync(temp, text);
        fs.renameSync(temp, file);
    } catch (e) {
        fs.rmSync(temp, { force: true });
        onError(e);
    }
}

/** The compiler options of tsconfig.json, as ts-node would use them to transpile. */
function compilerOptions(ts, root) {
    const file = path.join(root, "tsconfig.json");
    const read = ts.readConfigFile(file, ts.sys.readFile);
    if (read.error) {
        throw new BuildError(`tsconfig.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, "\n")}`);
    }
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, file);
    return { ...parsed.options, noEmit: false, declaration: false, sourceMap: false, inlineSourceMap: false };
}

/**
 * Transpiles every source into a new directory, then puts it in place of dist/ in two renames, so dist/ is always
 * either the old build or the whole new one. Returns the number of files built.
 */
function build(root) {
    let ts;
    try {
        ts = require(require.resolve("typescript", { paths: [root] }));
    } catch {
        throw new BuildError(`the TypeScript compiler is not installed in ${root}/node_modules: run npm ci there`);
    }
    const options = compilerOptions(ts, root);
    const files = inputFiles(root);
    const temp = path.join(root, `${OUT_DIR}.build-${process.pid}`);
    fs.rmSync(temp, { recursive: true, force: true });
    const stamp = { format: STAMP_FORMAT, typescript: ts.version, files: {} };
    const problems = [];
    try {
        for (const rel of files) {
            const { content, recorded } = readInput(root, rel);
            stamp.files[rel] = recorded;
            if (!rel.endsWith(".ts")) {
                continue;
            }
            const result = ts.transpileModule(content.toString("utf8"), {
                compilerOptions: options,
                fileName: rel,
                reportDiagnostics: true,
            });
            for (const d of result.diagnostics || []) {
                const where =
                    d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
                problems.push(
                    `${rel}${where ? `:${where.line + 1}:${where.character + 1}` : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
                );
            }
            const out = path.join(temp, rel.replace(/\.ts$/, ".js"));
            fs.mkdirSync(path.dirname(out), { recursive: true });
            fs.writeFileSync(out, result.outputText);
        }
        if (problems.length > 0) {
            throw new BuildError(`the sources do not compile:\n${problems.map((p) => `  ${p}`).join("\n")}`);
        }
        fs.writeFileSync(path.join(temp, STAMP_FILE), stampText(stamp));
        const dist = path.join(root, OUT_DIR);
        const old = `${dist}.old-${process.pid}`;
        if (fs.existsSync(dist)) {
            fs.renameSync(dist, old);
        }
        fs.renameSync(temp, dist);
        fs.rmSync(old, { recursive: true, force: true });
    } finally {
        fs.rmSync(temp, { recursive: true, force: true });
    }
    return files.filter((f) => f.endsWith(".ts")).length;
}

function processAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return e.code === "EPERM";
    }
}

/** Sleeps without a busy loop (the lock is waited for synchronously: nothing else runs before the build is there). */
function sleep(ms) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` holding dist.lock (a directory: mkdir is atomic), so two CLIs starting at once on a stale build do not
 * build over each other. A lock whose owner is gone, or older than LOCK_TIMEOUT_MS, is taken over.
 */
function withBuildLock(root, log, fn) {
    const lock = path.join(root, `${OUT_DIR}.lock`);
    const owner = path.join(lock, "owner");
    let waiting = false;
    for (;;) {
        try {
            fs.mkdirSync(lock);
            fs.writeFileSync(owner, String(process.pid));
            break;
        } catch (e) {
            if (e.code !== "EEXIST") {
                throw e;
            }
        }
        let holder;
        let age = 0;
        try {
            holder = Number(fs.readFileSync(owner, "utf8"));
            age = Date.now() - fs.statSync(lock).mtimeMs;
        } catch {
            // Between its mkdir and its write: give it a moment.
        }
        if ((holder && !processAlive(holder)) || age > LOCK_TIMEOUT_MS) {
            fs.rmSync(lock, { recursive: true, force: true });
            continue;
        }
        if (!waiting) {
            log(`waiting for the build another process is making${holder ? ` (pid ${holder})` : ""}`);
            waiting = true;
        }
        sleep(100);
    }
    try {
        return fn();
    } finally {
        fs.rmSync(lock, { recursive: true, force: true });
    }
}

/**
 * Makes sure dist/ matches the sources, rebuilding it when it does not and saying so through `log`. Throws a
 * BuildError naming the reason and the fix when it cannot.
 */
function ensureBuilt(root, log) {
    const reason = staleReason(root);
    if (!reason) {
        return;
    }
    try {
        withBuildLock(root, log, () => {
            const still = staleReason(root);
            if (still) {
                log(`${still}: building the program and the CLI into ${OUT_DIR}/`);
                build(root);
            }
        });
    } catch (e) {
        const why = e instanceof BuildError ? e.message : `${e.code ? `${e.code}: ` : ""}${e.message}`;
        throw new BuildError(
            `${reason}, and it could not be rebuilt: ${why}\nRun \`npm run build\` in ${root} (as a user who may write there).`,
        );
    }
}

module.exports = { BuildError, OUT_DIR, STAMP_FILE, build, ensureBuilt, inputFiles, staleReason };

if (require.main === module) {
    const root = path.resolve(__dirname, "..");
    const log = (line) => process.stderr.write(`build: ${line}\n`);
    try {
        if (process.argv.includes("--check")) {
            const reason = staleReason(root);
            process.stderr.write(
                reason ? `build: ${reason}; run npm run build\n` : `build: ${OUT_DIR}/ is up to date\n`,
            );
            process.exitCode = reason ? 1 : 0;
        } else {
            const started = Date.now();
            const count = withBuildLock(root, log, () => build(root));
            log(`${count} files compiled into ${OUT_DIR}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        }
    } catch (e) {
        process.stderr.write(`build: ${e instanceof BuildError ? e.message : e.stack}\n`);
        process.exitCode = 1;
    }
}
