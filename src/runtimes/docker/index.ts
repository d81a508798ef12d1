/** The Docker runtime: the stack's services as containers on one host. */
import { Runtime } from "../runtime";
import { dockerAccess } from "./access";
import { dockerEndpoints, unusedOnDocker } from "./config";
import { dockerNames } from "./naming";
import { readDockerHost } from "./preflight";

export const dockerRuntime: Runtime = {
    name: "docker",
    checkConfig: () => undefined,
    unusedSettings: unusedOnDocker,
    endpoints: dockerEndpoints,
    // Containers reach each other by their service's name on the stack's network.
    serviceNames: (_config, service) => [service],
    // Published on the host: NATS for agents, PostgreSQL on loopback only.
    commandAddress: (config, service) => `127.0.0.1:${service === "nats" ? config.ports.nats : config.ports.postgres}`,
    // The stack's containers, which seeding execs in (to write NATS's agents' users).
    commandArgs: (_config, stack) => ["--docker-stack", stack],
    serviceAddress: (stack, _config, service) => {
        const names = dockerNames(stack);
        return { container: names.container(service), network: names.network };
    },
    enforcesHostFirewall: (config) => config.security.hostFirewall,
    newStackFile: {
        comment: "docker: one host, containers with their data on named volumes (docs/what-gets-deployed.md).",
        settings: [],
    },
    prepare: (request) => {
        const host = readDockerHost(request);
        return {
            warnings: [],
            // The provider SDKs load only when a stack is deployed, never for the CLI.
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, see above
            deploy: (deploy) => (require("./deployment") as typeof import("./deployment")).deployOnDocker(deploy, host),
        };
    },
    access: dockerAccess,
};
