import * as path from "path";
import { serviceImageSources } from "../src/services/stack";
import { loadStackConfig } from "../src/config/stackFiles";
import { LoadLine, bundleImages, loadBundle } from "../src/supply/bundle";
import { dockerCli } from "../src/supply/dockerCli";
import { checkRegistryPrefix } from "../src/supply/imageRefs";
import { CommandHandler } from "./types";
import { UsageError } from "./usage";

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
