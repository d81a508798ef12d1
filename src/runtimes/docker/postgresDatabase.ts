import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";

export interface PostgresDatabaseArgs {
    /** Where the program reaches PostgreSQL: the loopback-published port of the container. */
    host: string;
    port: number;
    superuser: string;
    database: string;
    /** Login role that owns the database; the application connects as this role. */
    owner: string;
}

/** Kept out of the component's inputs: component args are stored in state, and these are secrets and wiring. */
export interface PostgresDatabaseConnection {
    superuserPassword: pulumi.Input<string>;
    ownerPassword: pulumi.Input<string>;
    /** Resources that must be ready before the provider connects (the healthy PostgreSQL container). */
    after: pulumi.Input<pulumi.Resource>[];
}

/**
 * The application database and the role that owns it, declared with @pulumi/postgresql (so no init SQL file
 * has to be shipped, the huangpu deployment's missing initdb.sql). The superuser is used only by this
 * component's provider. Both objects are kept on delete: the data lives in them.
 */
export class PostgresDatabase extends pulumi.ComponentResource {
    /** Name of the database. */
    public readonly databaseName: pulumi.Output<string>;
    /** Name of the owning role. */
    public readonly ownerName: pulumi.Output<string>;

    constructor(
        name: string,
        args: PostgresDatabaseArgs,
        connection: PostgresDatabaseConnection,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("bklite:index:PostgresDatabase", name, args, opts);
        const provider = new postgresql.Provider(
            `${name}-provider`,
            {
                host: args.host,
                port: args.port,
                username: args.superuser,
                password: pulumi.secret(connection.superuserPassword),
                database: "postgres",
                sslmode: "disable",
                superuser: true,
                connectTimeout: 30,
            },
            { parent: this, dependsOn: connection.after },
        );
        const owner = new postgresql.Role(
            `${name}-owner`,
            { name: args.owner, login: true, password: pulumi.secret(connection.ownerPassword) },
            { parent: this, provider, dependsOn: connection.after, retainOnDelete: true },
        );
        const database = new postgresql.Database(
            `${name}-database`,
            { name: args.database, owner: owner.name, encoding: "UTF8" },
            { parent: this, provider, retainOnDelete: true },
        );
        this.databaseName = database.name;
        this.ownerName = owner.name;
        this.registerOutputs({ databaseName: this.databaseName, ownerName: this.ownerName });
    }
}
