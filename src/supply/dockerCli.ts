/**
 * The few Docker operations the image tooling needs, through the `docker` CLI (which honours DOCKER_HOST and
 * contexts as the operator has set them up). Arguments are passed as a list, never through a shell.
 */
import { spawn } from "child_process";

export interface DockerImages {
    /** Local images: every `repository:tag` (normalised, see normaliseRef) to its image id. */
    inventory(): Promise<Map<string, string>>;
    pull(ref: string): Promise<void>;
    /** Writes `docker save` of the refs to `file`. */
    save(refs: string[], file: string): Promise<void>;
    load(file: string): Promise<void>;
    tag(source: string, target: string): Promise<void>;
    push(ref: string): Promise<void>;
}

/** Docker Hub refs as `docker image ls` prints them: no `docker.io/` and no `library/`. */
export function normaliseRef(ref: string): string {
    return ref.replace(/^(?:docker\.io|index\.docker\.io)\//, "").replace(/^library\//, "");
}

/** The docker CLI to run: BKLITE_DOCKER (a stand-in in tests), else `docker` from PATH. */
export function dockerBinary(): string {
    return process.env.BKLITE_DOCKER ?? "docker";
}

/** Runs the docker CLI; rejects with its stderr on a non-zero exit. */
export function runDocker(args: string[], binary = dockerBinary()): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr += d));
        child.on("error", (err) => reject(new Error(`cannot run ${binary}: ${err.message}`)));
        child.on("close", (code) => {
            if (code === 0) {
                resolve(stdout);
            } else {
                reject(
                    new Error(
                        `docker ${args[0]} ${args[1] ?? ""} failed: ${(stderr || stdout).trim().split("\n").slice(-3).join(" ")}`,
                    ),
                );
            }
        });
    });
}

/** The `docker image ls` format parseImageList reads. */
export const IMAGE_LIST_FORMAT = "{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}";

/**
 * Parses `docker image ls --digests --no-trunc --format IMAGE_LIST_FORMAT`: every `repository:tag`, and every
 * `repository@digest` for digest-pinned refs, to its image id.
 */
export function parseImageList(text: string): Map<string, string> {
    const images = new Map<string, string>();
    for (const line of text.split("\n")) {
        const [ref, id, digest] = line.trim().split(/\s+/);
        if (!ref || !id) {
            continue;
        }
        const repository = ref.slice(0, ref.lastIndexOf(":"));
        if (!ref.endsWith(":<none>") && repository !== "<none>") {
            images.set(normaliseRef(ref), id);
        }
        if (digest && digest.startsWith("sha256:") && repository !== "<none>") {
            images.set(normaliseRef(`${repository}@${digest}`), id);
        }
    }
    return images;
}

/** The docker CLI as a DockerImages. */
export function dockerCli(binary?: string): DockerImages {
    const run = (...args: string[]) => runDocker(args, binary);
    return {
        inventory: async () =>
            parseImageList(await run("image", "ls", "--digests", "--no-trunc", "--format", IMAGE_LIST_FORMAT)),
        pull: async (ref) => void (await run("pull", "--quiet", ref)),
        save: async (refs, file) => void (await run("save", "--output", file, ...refs)),
        load: async (file) => void (await run("load", "--quiet", "--input", file)),
        tag: async (source, target) => void (await run("tag", source, target)),
        push: async (ref) => void (await run("push", "--quiet", ref)),
    };
}
