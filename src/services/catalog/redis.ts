/** Redis: Celery's broker and result backend and the server's cache; password in a file, data on a volume. */
import { VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { joinText, ref, tpl } from "../template";

/** The `redis` user of the official redis images (Debian and Alpine variants both use uid 999). */
const REDIS_USER = { uid: 999, gid: 999 };

export const redis: ServiceDefinition = {
    name: "redis",
    defaultImage: "redis:5.0.14",
    data: [
        {
            kind: "volume",
            name: "redis-data",
            mountPath: "/data",
            holds: { notBackedUp: "Celery's queue and the server's cache, which the server refills as it runs" },
        },
    ],
    workload: ({ image }) => ({
        name: "redis",
        image,
        // The password lives in a file, not on the command line where `ps` would show it.
        command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
        env: {},
        // Not published on a host; on a cluster its Service needs the port.
        ports: [{ name: "redis", containerPort: 6379 }],
        files: [
            {
                path: "/usr/local/etc/redis/redis.conf",
                content: joinText(
                    [tpl`requirepass ${ref(VALUE_REFS.redisPassword)}`, "dir /data", "appendonly yes", ""],
                    "\n",
                ),
                mode: "0600",
                // The image's entrypoint runs redis-server as user redis (uid 999), which must read the file.
                owner: REDIS_USER,
            },
        ],
        // An unauthenticated PING answers NOAUTH once the server is up; no password needed in the probe.
        health: healthCheck(["CMD-SHELL", "redis-cli ping | grep -Eq 'PONG|NOAUTH'"], { intervalSeconds: 5 }),
        dependsOn: [],
        routes: [],
    }),
};
