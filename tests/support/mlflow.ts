/**
 * MLflow as the fork's image has it: a Python environment with exactly PyPI's mlflow and psycopg2-binary (the image
 * is ghcr.io/mlflow/mlflow plus `pip install psycopg2-binary`; deploy/docker/mlflow/Dockerfile on huangpu-dev),
 * nothing else, boto3 least of all. Made once per machine in the test cache (a venv cannot be moved once made, so
 * it is made in place, under the cache's lock, and marked complete last).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { requireBinary } from "./processes";
import { RootFs, imageExists, importRootFs } from "./rootFs";
import { cacheDir, lock } from "./testCache";

/** The newest mlflow PyPI serves here with its own pins (3.18.0 needs an mlflow-skinny PyPI does not have yet). */
export const MLFLOW_PACKAGES = ["mlflow==3.17.2", "psycopg2-binary==2.9.13"];

/** The venv's directory (its bin/ has python and mlflow). */
export function mlflowEnvironment(log: (line: string) => void = () => undefined): string {
    const dir = path.join(cacheDir(), "pypi", `mlflow-venv-${MLFLOW_PACKAGES.join("-")}`);
    const complete = path.join(dir, ".complete");
    if (fs.existsSync(complete)) {
        return dir;
    }
    const release = lock(dir, log);
    try {
        if (!fs.existsSync(complete)) {
            log(`installing ${MLFLOW_PACKAGES.join(" ")} from PyPI into ${dir} (once per machine, about a minute)`);
            fs.rmSync(dir, { recursive: true, force: true });
            execFileSync(requireBinary("python3"), ["-m", "venv", dir], { stdio: ["ignore", "ignore", "pipe"] });
            execFileSync(
                path.join(dir, "bin", "pip"),
                ["install", "--quiet", "--only-binary=:all:", ...MLFLOW_PACKAGES],
                {
                    stdio: ["ignore", "ignore", "pipe"],
                    timeout: 15 * 60 * 1000,
                },
            );
            fs.writeFileSync(complete, `${MLFLOW_PACKAGES.join("\n")}\n`);
        }
    } finally {
        release();
    }
    return dir;
}

/**
 * An image with MLflow as the fork's image has it (PyPI's mlflow and psycopg2-binary, nothing else): the venv above
 * at its own path (a venv cannot move), the interpreter it was made with and that interpreter's standard library,
 * `python` and `mlflow` on PATH, busybox for a shell. Tagged by its content, so it is made once.
 */
export function mlflowImage(log: (line: string) => void = () => undefined): string {
    const venv = mlflowEnvironment(log);
    const config = Object.fromEntries(
        fs
            .readFileSync(path.join(venv, "pyvenv.cfg"), "utf8")
            .split("\n")
            .filter((line) => line.includes("="))
            .map((line) => line.split("=").map((part) => part.trim())),
    );
    const interpreter = fs.realpathSync(config.executable);
    const minor = /^(\d+\.\d+)/.exec(config.version)![1];
    const stdlib = path.join(path.dirname(fs.realpathSync(config.home)), "lib", `python${minor}`);
    const fsys = new RootFs();
    const busybox = requireBinary("busybox");
    fsys.file("/bin/busybox", busybox);
    for (const applet of ["sh", "cat", "echo", "mkdir", "rm", "sleep", "wget", "env"]) {
        fsys.link(`/bin/${applet}`, "busybox");
    }
    fsys.link("/usr/bin/env", "/bin/busybox");
    fsys.file(config.executable, interpreter);
    // The venv's python links to the interpreter by another name (python3) where it was made: the same link here.
    const linked = fs.readlinkSync(path.join(venv, "bin", "python3"));
    if (path.isAbsolute(linked) && linked !== config.executable) {
        fsys.link(linked, path.basename(config.executable));
    }
    for (const entry of fs.readdirSync(stdlib, { withFileTypes: true })) {
        // The interpreter's own site-packages are not the image's: only the venv's packages are.
        if (entry.name !== "site-packages" && entry.name !== "test") {
            const from = path.join(stdlib, entry.name);
            if (entry.isDirectory()) {
                fsys.tree(from, from);
            } else {
                fsys.file(from, from);
            }
        }
    }
    fsys.tree(venv, venv);
    fsys.link("/usr/local/bin/python", path.join(venv, "bin", "python"));
    fsys.link("/usr/local/bin/mlflow", path.join(venv, "bin", "mlflow"));
    fsys.dir("/tmp", 0o1777);
    const ref = `bklite-standin/mlflow:${fsys.digest().slice(0, 16)}`;
    if (!imageExists(ref)) {
        log(`making ${ref}: ${MLFLOW_PACKAGES.join(" ")} from PyPI`);
        importRootFs(fsys, ref, [
            'CMD ["python"]',
            "ENV PATH=/usr/local/bin:/usr/bin:/bin",
            "LABEL io.bklite.stand-in=bklite/mlflow:huangpu-v1.0",
            `LABEL io.bklite.runs=${JSON.stringify(`the real program: PyPI's ${MLFLOW_PACKAGES.join(" ")}`)}`,
        ]);
    }
    return ref;
}
