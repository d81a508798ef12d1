/** Traefik: the one published HTTP entrypoint, routing by path to the services that declare routes. */
import { WEB_ENTRYPOINT, renderTraefikRoutes } from "../traefikRoutes";
import { ServiceDefinition } from "../definition";
import { healthCheck } from "../workload";

export const traefik: ServiceDefinition = {
    name: "traefik",
    defaultImage: "traefik:3.3.3",
    workload: ({ config, image, bindAddress, peers }) => ({
        name: "traefik",
        image,
        // File provider only: no Docker socket is mounted anywhere. Dashboard and API off.
        command: [
            `--entrypoints.${WEB_ENTRYPOINT}.address=:80`,
            "--providers.file.filename=/etc/traefik/dynamic.yml",
            "--providers.file.watch=true",
            "--api.dashboard=false",
            "--ping=true",
            "--log.level=INFO",
            "--accesslog=true",
        ],
        env: {},
        ports: [
            { name: "http", containerPort: 80, hostPort: config.ports.http, hostIp: bindAddress(config.ports.http) },
        ],
        files: [
            {
                path: "/etc/traefik/dynamic.yml",
                content: renderTraefikRoutes(peers.filter((s) => s.routes.length > 0)),
                mode: "0644",
            },
        ],
        health: healthCheck(["CMD", "traefik", "healthcheck", "--ping"], { retries: 6 }),
        // After the server, so /api/v1 works as soon as agents can connect; web may still be starting.
        dependsOn: ["server"],
        routes: [],
    }),
};
