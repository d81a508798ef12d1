/**
 * Traefik routes, rendered from the services' route specs into a file-provider config. Routes match on path
 * alone: an agent that reaches the host by another address still gets /api/v1 from the server (with a Host
 * rule, as in the huangpu compose file, it silently got the web console instead).
 */
import { stringify } from "yaml";
import { Workload } from "./workload";

/** Name of the Traefik entry point the routes attach to. */
export const WEB_ENTRYPOINT = "web";

/** The dynamic config (YAML) routing each service's path prefixes to it, in a stable order. */
export function renderTraefikRoutes(specs: ReadonlyArray<Workload>): string {
    const routers: Record<string, unknown> = {};
    const services: Record<string, unknown> = {};
    const routed = [...specs].filter((s) => s.routes.length > 0).sort((a, b) => a.name.localeCompare(b.name));
    for (const spec of routed) {
        const ports = [...new Set(spec.routes.map((r) => r.port))].sort((a, b) => a - b);
        for (const port of ports) {
            services[serviceName(spec.name, port, ports.length)] = {
                loadBalancer: { servers: [{ url: `http://${spec.name}:${port}` }], passHostHeader: true },
            };
        }
        spec.routes.forEach((route, i) => {
            if (!route.pathPrefix.startsWith("/")) {
                throw new Error(`route ${i} of ${spec.name}: path prefix '${route.pathPrefix}' must start with /`);
            }
            routers[spec.routes.length > 1 ? `${spec.name}-${i}` : spec.name] = {
                rule: `PathPrefix(\`${route.pathPrefix}\`)`,
                entryPoints: [WEB_ENTRYPOINT],
                priority: route.priority,
                service: serviceName(spec.name, route.port, ports.length),
            };
        });
    }
    return stringify({ http: { routers, services } }, { sortMapEntries: true });
}

function serviceName(service: string, port: number, portCount: number): string {
    return portCount > 1 ? `${service}-${port}` : service;
}
