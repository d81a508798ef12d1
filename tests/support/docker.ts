/**
 * Real Docker for integration tests: small images made locally with `docker import` of a busybox-static rootfs
 * (no registry is reachable), and a throwaway registry on loopback from Debian's docker-registry.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { freePort, httpGet, requireBinary, start, tempDir, waitFor } from "./processes";

export function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Fails with a clear message when no Docker engine answers (`.ci/run` starts one). */
export function requireDockerEngine(): void {
    requireBinary("docker");
    try {
        docker("info", "--format", "{{.ServerVersion}}");
    } catch (err) {
        throw new Error(
            `no Docker engine answers (${(err as Error).message.split("\n")[0]}); .ci/run installs docker.io and starts dockerd`,
            { cause: err },
        );
    }
}

/**
 * Imports a tiny runnable image (busybox-static plus a marker file that makes its content unique, and `files`: path
 * in the image to the host file put there, e.g. a static binary).
 */
export function makeImage(ref: string, marker: string, extraBytes = 0, files: Record<string, string> = {}): string {
    const busybox = requireBinary("busybox");
    const root = tempDir("rootfs");
    try {
        fs.mkdirSync(path.join(root, "bin"));
        fs.copyFileSync(busybox, path.join(root, "bin", "busybox"));
        fs.chmodSync(path.join(root, "bin", "busybox"), 0o755);
        for (const applet of ["sh", "sleep", "nc", "httpd", "wget", "cat", "echo", "rm", "tr"]) {
            fs.symlinkSync("busybox", path.join(root, "bin", applet));
        }
        fs.writeFileSync(path.join(root, "marker"), marker);
        // What every real image has, and what `exec` records a program's pid in.
        fs.mkdirSync(path.join(root, "tmp"));
        fs.chmodSync(path.join(root, "tmp"), 0o1777);
        for (const [dest, source] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(root, dest)), { recursive: true });
            fs.copyFileSync(source, path.join(root, dest));
            fs.chmodSync(path.join(root, dest), 0o755);
        }
        if (extraBytes > 0) {
            // Incompressible filler, for benchmarks that need archives of a real size.
            fs.writeFileSync(path.join(root, "filler"), require("crypto").randomBytes(extraBytes));
        }
        const tarball = path.join(root, "..", `${path.basename(root)}.tar`);
        execFileSync("tar", ["-C", root, "-cf", tarball, "."]);
        try {
            return execFileSync("docker", ["import", tarball, ref], { encoding: "utf8" }).trim();
        } finally {
            fs.rmSync(tarball, { force: true });
        }
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}

export function imageId(ref: string): string | undefined {
    try {
        return docker("image", "inspect", "--format", "{{.Id}}", ref);
    } catch {
        return undefined;
    }
}

export function removeImages(refs: string[]): void {
    for (const ref of refs) {
        try {
            docker("image", "rm", "--force", ref);
        } catch {
            // already gone
        }
    }
}

/** A registry on 127.0.0.1 (Docker allows plain HTTP to loopback registries), storing into a temp dir. */
export async function startRegistry(): Promise<{ address: string; stop: () => Promise<void> }> {
    const binary = requireBinary("docker-registry");
    const dir = tempDir("registry");
    const port = await freePort();
    const config = path.join(dir, "config.yml");
    fs.writeFileSync(
        config,
        [
            "version: 0.1",
            "log:",
            "  level: warn",
            "storage:",
            "  filesystem:",
            `    rootdirectory: ${path.join(dir, "data")}`,
            "http:",
            `  addr: 127.0.0.1:${port}`,
            "",
        ].join("\n"),
    );
    const server = start(binary, ["serve", config]);
    await waitFor(
        async () => (await httpGet(`http://127.0.0.1:${port}/v2/`)).status === 200,
        15000,
        () => server.output(),
    );
    return {
        address: `127.0.0.1:${port}`,
        stop: async () => {
            await server.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * A stack's PostgreSQL container as the docker runtime names it (`<prefix>-postgres` on the `prefix` network), its
 * port published on loopback for the test's own queries.
 */
export function runPostgres(prefix: string, image: string, adminPassword: string, hostPort: number): void {
    docker(
        "run",
        "-d",
        "--name",
        `${prefix}-postgres`,
        "--network",
        prefix,
        "-e",
        `POSTGRES_PASSWORD=${adminPassword}`,
        "-e",
        "PGDATA=/var/lib/postgresql/data/pgdata",
        "-p",
        `127.0.0.1:${hostPort}:5432`,
        image,
    );
}

/** A container in a service's place that only waits and stops at once: what a restore stops and starts again. */
export function runIdleService(prefix: string, service: string, image: string): void {
    docker(
        "run",
        "-d",
        "--name",
        `${prefix}-${service}`,
        "--network",
        prefix,
        "--stop-timeout",
        "2",
        "--entrypoint",
        "/bin/sh",
        image,
        "-c",
        "trap 'exit 0' TERM; while :; do sleep 1; done",
    );
}

/**
 * versitygw (an S3 server over a directory, goPrograms.ts) in MinIO's place on the stack's network: MinIO's port,
 * its root user `minio` and `password`, every request's signature checked.
 */
export function runVersitygw(prefix: string, image: string, password: string): void {
    docker(
        ...["run", "-d", "--name", `${prefix}-minio`, "--network", prefix, "--entrypoint", "/bin/sh", image, "-c"],
        `mkdir -p /data /meta && exec /usr/bin/versitygw --access minio --secret ${password} --port :9000 posix --sidecar /meta /data`,
    );
}
