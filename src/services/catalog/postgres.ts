/** PostgreSQL: the server's database (and MLflow's when mlops is on), on a retained volume, loopback only. */
import { DATABASE, VALUE_REFS } from "../shared";
import { DatabaseNeed, ServiceDefinition } from "../definition";
import { WorkloadFile } from "../workload";
import { joinText, ref, tpl } from "../template";

/**
 * On a cluster the program cannot reach PostgreSQL to declare databases, so PostgreSQL's own entrypoint creates each
 * role and the database it owns on first start, from this script (a Secret: it holds the roles' passwords). A
 * database added after the first start (mlops switched on later) is not created by it; see the README.
 */
export function postgresInitScript(databases: ReadonlyArray<DatabaseNeed>): WorkloadFile {
    return {
        path: "/docker-entrypoint-initdb.d/10-bklite.sql",
        content: joinText(
            [
                ...databases.flatMap((d) => [
                    tpl`CREATE ROLE ${d.owner} LOGIN PASSWORD '${ref(d.passwordRef)}';`,
                    `CREATE DATABASE ${d.name} OWNER ${d.owner} ENCODING 'UTF8';`,
                ]),
                "",
            ],
            "\n",
        ),
        // Read by the entrypoint after it drops to the postgres user.
        mode: "0644",
    };
}

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
        health: {
            test: ["CMD-SHELL", `pg_isready -h 127.0.0.1 -U ${DATABASE.superuser}`],
            intervalSeconds: 5,
            timeoutSeconds: 5,
            startPeriodSeconds: 30,
            retries: 24,
        },
        dependsOn: [],
        routes: [],
        stopGraceSeconds: 60,
        stateful: true,
    }),
};
