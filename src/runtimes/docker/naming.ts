/** How a stack's Docker objects are named: `bklite-<stack>` for its network, and as prefix of its containers and volumes. */

export interface DockerNames {
    /** The prefix of every object name, and the network's name. */
    prefix: string;
    network: string;
    container(service: string): string;
    volume(name: string): string;
}

export function dockerNames(stack: string): DockerNames {
    const prefix = `bklite-${stack}`;
    return {
        prefix,
        network: prefix,
        container: (service) => `${prefix}-${service}`,
        volume: (name) => `${prefix}-${name}`,
    };
}
