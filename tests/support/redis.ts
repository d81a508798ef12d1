/** A throwaway redis-server with a password (from its config file), standing in for FalkorDB's Redis protocol. */
import * as fs from "fs";
import * as path from "path";
import { freePort, requireBinary, start, tempDir, waitFor } from "./processes";
import * as net from "net";

export interface TestRedis {
    port: number;
    password: string;
    stop(): Promise<void>;
}

export async function startRedis(password: string): Promise<TestRedis> {
    const binary = requireBinary("redis-server");
    const dir = tempDir("redis");
    const port = await freePort();
    const conf = path.join(dir, "redis.conf");
    fs.writeFileSync(
        conf,
        [
            `port ${port}`,
            "bind 127.0.0.1",
            `requirepass ${password}`,
            'save ""',
            "appendonly no",
            `dir ${dir}`,
            "",
        ].join("\n"),
    );
    const server = start(binary, [conf]);
    await waitFor(
        () =>
            new Promise((resolve) => {
                const socket = net.connect({ host: "127.0.0.1", port }, () => {
                    socket.destroy();
                    resolve(true);
                });
                socket.on("error", () => resolve(false));
            }),
        15000,
        () => server.output(),
    );
    return {
        port,
        password,
        stop: async () => {
            await server.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
