/**
 * The services of a bk-lite platform and their default images. Tags are pinned: an offline site can only
 * run what was bundled, so a moving tag would make two sites (or two runs) differ.
 */

export const SERVICE_NAMES = ["server", "web", "postgres", "nats", "redis", "traefik"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Default image of each service (bklite-facts §1.1 and §1.5; nats uses its alpine variant for a health probe). */
export const DEFAULT_IMAGES: Readonly<Record<ServiceName, string>> = {
    server: "bklite/server:huangpu-v1.0",
    web: "bklite/web:huangpu-v1.0",
    postgres: "postgres:15.10",
    nats: "nats:2.10.25-alpine",
    redis: "redis:5.0.14",
    traefik: "traefik:3.3.3",
};
