/**
 * Every service the platform can run, one definition a file in this folder, in start-planning order (the ingress last:
 * it routes to the others). Which of them a stack runs follows from `bklite:installApps`.
 */
import { neededServices } from "../appNeeds";
import { ServiceDefinition } from "../definition";
import { falkordb } from "./falkordb";
import { minio } from "./minio";
import { mlflow } from "./mlflow";
import { nats } from "./nats";
import { natsExecutor } from "./natsExecutor";
import { postgres } from "./postgres";
import { redis } from "./redis";
import { server } from "./server";
import { telegraf } from "./telegraf";
import { traefik } from "./traefik";
import { vector } from "./vector";
import { victoriaLogs } from "./victoriaLogs";
import { victoriaMetrics } from "./victoriaMetrics";
import { web } from "./web";

export const SERVICES: ReadonlyArray<ServiceDefinition> = [
    postgres,
    redis,
    nats,
    falkordb,
    victoriaMetrics,
    victoriaLogs,
    minio,
    natsExecutor,
    telegraf,
    vector,
    mlflow,
    server,
    web,
    traefik,
];

export const SERVICE_NAMES: ReadonlyArray<string> = SERVICES.map((s) => s.name);
export type ServiceName = string;

/** Default image of each service. Tags are pinned: an offline site can only run what was bundled. */
export const DEFAULT_IMAGES: Readonly<Record<string, string>> = Object.fromEntries(
    SERVICES.map((s) => [s.name, s.defaultImage]),
);

/**
 * bk-lite apps this program cannot back: the services they need are not among SERVICES. Refused by validation
 * with the reason, rather than deployed half-working.
 */
export const UNSUPPORTED_APPS: Readonly<Record<string, string>> = {
    opspilot: "needs metis (the RAG server) and pgvector, which this program does not run",
    patch_mgmt: "is not an app of the huangpu server image, and its services are not modelled here",
};

/**
 * The services a stack with these apps runs: every core service, those of the apps installed, and those an
 * installed app needs from another (APP_NEEDS: CMDB's collection needs VictoriaMetrics and Telegraf).
 */
export function servicesFor(installApps: ReadonlyArray<string>): ServiceDefinition[] {
    const needed = neededServices(installApps);
    return SERVICES.filter(
        (s) => s.apps === undefined || s.apps.some((app) => installApps.includes(app)) || needed.includes(s.name),
    );
}
