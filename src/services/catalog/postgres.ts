/** PostgreSQL: the server's database (and MLflow's when mlops is on), on a retained volume, loopback only. */
import { DATABASE, VALUE_REFS } from "../shared";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";
import { ref, tpl } from "../template";

export const postgres: ServiceDefinition = {
    name: "postgres",
    defaultImage: "postgres:15.10",
    // The databases the services declare (kind database) live here, and are taken one by one with pg_dump.
    data: [{ kind: "volume", name: "postgres-data", mountPath: "/var/lib/postgresql/data", holds: ["database"] }],
    workload: ({ config, image }) => ({
        name: "postgres",
        image,
        env: {
            POSTGRES_USER: DATABASE.superuser,
            POSTGRES_PASSWORD: tpl`${ref(VALUE_REFS.postgresAdminPassword)}`,
            PGDATA: "/var/lib/postgresql/data/pgdata",
        },
        ports: [{ name: "postgres", containerPort: 5432, hostPort: config.ports.postgres, hostIp: "127.0.0.1" }],
        files: [],
        // Over TCP, so the init-time server (socket only) does not count as ready.
        health: healthCheck(["CMD-SHELL", `pg_isready -h 127.0.0.1 -U ${DATABASE.superuser}`], {
            intervalSeconds: 5,
            startPeriodSeconds: 30,
            retries: 24,
        }),
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 60,
        stateful: true,
    }),
};
