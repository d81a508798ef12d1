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
