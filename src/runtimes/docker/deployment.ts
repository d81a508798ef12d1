/**
 * A stack on one Docker host: the host firewall for the security rules, the images from the bundle, the workloads as
 * containers, and each declared database made with its owner inside the stack's PostgreSQL through its loopback port.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { firewallRules } from "../../security/resolve";
import { DATABASE, DATABASE_SERVER } from "../../services/shared";
import { PROJECT_ROOT, bkliteCommand } from "../../util/shell";
import { DeployRequest, Deployment, Started } from "../runtime";
import { DockerRuntime } from "./containers";
import { ImageSupply } from "./imageSupply";
import { dockerNames } from "./naming";
import { PostgresDatabase } from "./postgresDatabase";
import { DockerHostFacts } from "./preflight";

export function deployOnDocker(request: DeployRequest, host: DockerHostFacts): Deployment {
    const { parent, name, stack, config } = request;
    const firewall = config.security.hostFirewall ? hostFirewall(request) : undefined;
    const images = new ImageSupply(
        `${name}-images`,
        { stack, bundleDir: host.bundleDir, missingOnHost: host.missingOnHost, bundleDigest: host.bundleDigest },
        { parent },
    );
    const runtime = new DockerRuntime(
        `${name}-docker`,
        { namePrefix: dockerNames(stack).prefix, services: request.workloads },
        {
            values: request.values,
            // An image changes only after the backup of the data the old one wrote.
            imagesAfter: [...images.ready, ...request.before],
            afterStart: {
                ...Object.fromEntries(
                    Object.entries(request.afterStart).map(([service, hook]) => [
                        service,
                        // A replaced container is a new id: what finishes its start runs again.
                        (container) => hook({ resource: container, rerunWhen: [container.id] }),
                    ]),
                ),
                [DATABASE_SERVER.service]: (container) => databases(request, { resource: container }),
            },
        },
        { parent },
    );
    return {
        dataVolumes: runtime.volumeNames,
        serverReady: runtime.containers.server,
        verifyAfter: firewall ? [firewall] : [],
        // A replaced container is a new id.
        verifyWhen: Object.keys(runtime.containers)
            .sort()
            .map((service) => runtime.containers[service].id),
    };
}

/**
 * As root on the Docker host: only the listed sources reach the listed ports; removed with the stack. Changed rules
 * are applied in place: a replacement would run the old one's delete after the new one's create and leave no
 * firewall. The update runs only when the rules (stdin) change.
 */
function hostFirewall({ parent, name, stack, security }: DeployRequest): command.local.Command {
    const apply = bkliteCommand(["firewall", "apply", "--stack", stack, "--rules", "-"]);
    return new command.local.Command(
        `${name}-firewall`,
        {
            create: apply,
            update: apply,
            delete: bkliteCommand(["firewall", "remove", "--stack", stack]),
            stdin: JSON.stringify({ rules: firewallRules(security.rules) }),
            dir: PROJECT_ROOT,
            logging: "stdoutAndStderr",
        },
        { parent },
    );
}

/** Each declared database and its owner role, through the loopback port (the server's keeps its old name). */
function databases(request: DeployRequest, started: Started): pulumi.Resource[] {
    const { parent, name, config } = request;
    return request.databases.map(
        (db) =>
            new PostgresDatabase(
                db.name === DATABASE.name ? `${name}-db` : `${name}-db-${db.name}`,
                {
                    host: "127.0.0.1",
                    port: config.ports.postgres,
                    superuser: DATABASE_SERVER.superuser,
                    database: db.name,
                    owner: db.owner,
                },
                {
                    superuserPassword: request.secret(DATABASE_SERVER.superuserPassword),
                    ownerPassword: request.values[db.passwordRef],
                    after: [started.resource],
                },
                { parent },
            ),
    );
}
