/** The Docker runtime: the stack's services as containers on one host. */
import { Runtime } from "../runtime";
import { dockerAccess } from "./access";
import { dockerEndpoints, unusedOnDocker } from "./config";
import { dockerNames } from "./naming";
import { prepareDockerHost } from "./preflight";

export const dockerRuntime: Runtime = {
    name: "docker",
    checkConfig: () => undefined,
    unusedSettings: unusedOnDocker,
    endpoints: dockerEndpoints,
    // Containers reach each other by their service's name on the stack's network.
    serviceNames: (_config, service) => [service],
    // Published on the host: NATS for agents, PostgreSQL on loopback only.
    commandAddress: (config, service) => `127.0.0.1:${service === "nats" ? config.ports.nats : config.ports.postgres}`,
    commandArgs: () => [],
    serviceAddress: (stack, _config, service) => {
        const names = dockerNames(stack);
        return { container: names.container(service), network: names.network };
    },
    enforcesHostFirewall: (config) => config.security.hostFirewall,
    prepare: prepareDockerHost,
    access: dockerAccess,
};
