/**
 * The database server holds every database the services declare. Where the program can reach it (a Docker host's
 * loopback port) it declares them with @pulumi/postgresql; where it cannot (a cluster's ClusterIP), the server's
 * own first start creates them from a script.
 */
import { DatabaseNeed } from "./definition";
import { DATABASE_SERVER } from "./shared";
import { joinText, ref, tpl } from "./template";
import { Workload, WorkloadFile } from "./workload";

/**
 * On a cluster the program cannot reach PostgreSQL to declare databases, so PostgreSQL's own entrypoint creates each
 * role and the database it owns on first start, from this script (a Secret: it holds the roles' passwords). A
 * database added after the first start (mlops switched on later) is not created by it; see the README.
 */
export function databaseInitScript(databases: ReadonlyArray<DatabaseNeed>): WorkloadFile {
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

/** The workloads, the database server's among them carrying databaseInitScript for every declared database. */
export function withDatabasesCreatedAtFirstStart(
    workloads: ReadonlyArray<Workload>,
    databases: ReadonlyArray<DatabaseNeed>,
): Workload[] {
    const script = databaseInitScript(databases);
    return workloads.map((w) => (w.name === DATABASE_SERVER.service ? { ...w, files: [...w.files, script] } : w));
}
