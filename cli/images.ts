import * as path from "path";
import { ownImageBuilds, serviceImageSources } from "../src/services/stack";
import { loadStackConfig } from "../src/config/stackFiles";
import { LoadLine, bundleImages, loadBundle } from "../src/supply/bundle";
import { dockerBinary, dockerCli } from "../src/supply/dockerCli";
import { checkRegistryPrefix } from "../src/supply/imageRefs";
import { CommandHandler } from "./types";
import { UsageError } from "./usage";
import * as fs from "fs";
import { spawn } from "child_process";
import { InputError } from "../src/util/inputError";

/** `bklite images bundle`: the stack's images saved into a directory. */
export const imagesBundle: CommandHandler = async ({ values, out, err }) => {
    const stack = values.stack as string;
    const dir = path.resolve(values.dir as string);
    const projectDir = path.resolve((values["project-dir"] as string | undefined) ?? ".");
    const images = serviceImageSources(loadStackConfig(projectDir, stack));
    err.write(`bundling ${images.length} images of stack ${stack} into ${dir}\n`);
    const result = await bundleImages({ images, dir, docker: dockerCli(), log: (line) => out.write(`${line}\n`) });
    err.write(
        `bundle done: ${result.saved.length} saved, ${result.unchanged.length} unchanged, ${result.removed.length} removed\n`,
    );
    return 0;
};

/** `bklite images load`: a bundle verified and loaded, optionally pushed. */
export const imagesLoad: CommandHandler = async ({ values, out, err }) => {
    const dir = path.resolve(values.dir as string);
    const pushTo = values.push as string | undefined;
    if (pushTo !== undefined) {
        const problem = checkRegistryPrefix(pushTo);
        if (problem) {
            throw new UsageError(`--push ${problem}`);
        }
    }
    const lines = await loadBundle({
        dir,
        docker: dockerCli(),
        pushTo,
        log: (line) => out.write(`${formatLine(line)}\n`),
    });
    const failed = lines.filter((l) => l.status === "failed");
    const count = (status: LoadLine["status"]) => lines.filter((l) => l.status === status).length;
    err.write(
        `load done: ${count("loaded")} loaded, ${count("present")} already present, ${count("pushed")} pushed, ${failed.length} failed\n`,
    );
    return failed.length > 0 ? 1 : 0;
};

function formatLine(line: LoadLine): string {
    return `${line.status.padEnd(8)} ${line.subject}  ${line.detail}`;
}

/**
 * `bklite images build`: bk-lite's own images the stack runs, built from a checkout of the fork with the refs the
 * stack expects. Every Dockerfile is looked for first: a checkout that lacks one builds nothing.
 */
export const imagesBuild: CommandHandler = async ({ values, out, err }) => {
    const stack = values.stack as string;
    const source = path.resolve(values.source as string);
    const projectDir = path.resolve((values["project-dir"] as string | undefined) ?? ".");
    const builds = ownImageBuilds(loadStackConfig(projectDir, stack));
    const missing = builds.flatMap((b) =>
        [b.dockerfile, b.context].filter((p) => !fs.existsSync(path.join(source, p))).map((p) => `${b.service}: ${p}`),
    );
    if (missing.length > 0) {
        throw new InputError(
            `${source} is not a checkout of the fork that builds these images (git clone -b huangpu-dev https://github.com/superfm831010/bk-lite); missing, nothing was built:\n${missing.map((m) => `  - ${m}`).join("\n")}`,
        );
    }
    for (const [i, b] of builds.entries()) {
        err.write(`[${i + 1}/${builds.length}] building ${b.ref} (${b.service}) from ${b.dockerfile}\n`);
        const args = ["build", "-f", path.join(source, b.dockerfile), "-t", b.ref, path.join(source, b.context)];
        await streamed(args, (line) => out.write(`${b.service}: ${line}\n`));
    }
    err.write(`build done: ${builds.map((b) => b.ref).join(", ") || "no bk-lite image in this stack"}\n`);
    return 0;
};

/** Runs the docker CLI, each line of its output to `line` as it comes; rejects naming the build that failed. */
function streamed(args: string[], line: (text: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(dockerBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
        let rest = "";
        const onData = (data: Buffer) => {
            const lines = (rest + data.toString()).split("\n");
            rest = lines.pop()!;
            lines.filter((l) => l.trim() !== "").forEach(line);
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", onData);
        child.on("error", (e) => reject(new Error(`cannot run ${dockerBinary()}: ${e.message}`)));
        child.on("close", (code) => {
            if (rest.trim() !== "") {
                line(rest);
            }
            if (code === 0) {
                resolve();
            } else {
                reject(new Error(`docker ${args.join(" ")} failed (exit ${code}): its output is above`));
            }
        });
    });
}
