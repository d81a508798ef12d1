/**
 * What one service of the platform is: its pinned image, the bk-lite apps it serves, how the server finds it, and
 * its workload for a given config. Each service is one file in catalog/ exporting one of these; the catalog lists them.
 */
import type { SecretName } from "../config/keys";
import type { StackConfig } from "../config/types";
import type { ImageRef } from "../supply/imageRefs";
import type { StreamSettings } from "../nats/streamSettings";
import type { AgentEndpoints } from "./regions";
import { Workload } from "./workload";
import { TextValue } from "./template";

/** What a service's workload is made from. */
export interface WorkloadContext {
    config: StackConfig;
    /** Where agents and browsers reach the stack, as its runtime publishes it. */
    endpoints: AgentEndpoints;
    /** This service's image ref, with the stack's registry, tag and override applied. */
    image: string;
    /** The host address a port published on `port` binds to, from the security rules. */
    bindAddress(port: number): string;
    /** The workloads of the services made before this one (the catalog's order), e.g. what the ingress routes to. */
    peers: ReadonlyArray<Workload>;
}

/** How a service proves it answers, beyond a healthy container. */
export type ServiceProbe =
    /** GET `path` answers `status` (VictoriaMetrics' and VictoriaLogs' /health, MinIO's /minio/health/ready). */
    | { kind: "http"; port: number; path: string; status: number }
    /** AUTH with the password `passwordFrom` names (a VERIFY_SECRETS field), then PING answers PONG (FalkorDB). */
    | { kind: "redis"; port: number; passwordFrom: "falkordbPassword" }
    /** The nats-executor `instance` runs `echo` on `local.execute.<instance>` and replies as the Go executor does. */
    | { kind: "nats-executor"; instance: string };

/** A PostgreSQL database a service keeps its data in, owned by a login role of its own. */
export interface DatabaseNeed {
    name: string;
    owner: string;
    /** The value (VALUE_REFS) holding the owner's password. */
    passwordRef: string;
}

/**
 * Data a service keeps. Backups take every declaration of the services that run and restores put each back, by
 * its kind; nothing else names a service's data. A volume says which kinds of data it holds (taken through them,
 * not as files), or why none of it is kept.
 */
export type ServiceData =
    /** A database in the stack's database server (DATABASE_SERVER), created with its owner. */
    | ({ kind: "database" } & DatabaseNeed)
    /** A JetStream object store bucket (the probe packages), its objects read and written by nats.js. */
    | { kind: "objectStore"; bucket: string }
    /** JetStream streams it consumes: made to exist before it starts; their settings are kept, not the messages. */
    | { kind: "streams"; streams: ReadonlyArray<StreamSettings> }
    /** Every key of a Redis-protocol store on `port` (FalkorDB's graphs), by DUMP and RESTORE, with its password. */
    | { kind: "keyspace"; port: number; password: SecretName }
    /** Every bucket of an S3 store on `port` (MinIO's), through the S3 API as `user` with its password. */
    | { kind: "s3"; port: number; user: string; password: SecretName }
    /** A data volume: kept when the stack is destroyed or the service replaced; see DataVolume. */
    | DataVolume;

/** What kinds of data a volume holds, or why nothing of it is kept by a backup. */
export interface DataVolume {
    kind: "volume";
    name: string;
    mountPath: string;
    holds: ReadonlyArray<Exclude<ServiceData["kind"], "volume">> | { notBackedUp: string };
}

export interface ServiceDefinition {
    /** Service name: its DNS name inside the stack, and its key in `bklite:images.overrides`. */
    name: string;
    /** Pinned: an offline site runs only what was bundled, and two runs must run the same. */
    defaultImage: string;
    /**
     * bk-lite's own images, which no registry serves: where a checkout of the fork (superfm831010/bk-lite, branch
     * huangpu-dev) builds this one (`bklite images build`), relative to the checkout.
     */
    build?: { context: string; dockerfile: string };
    /** The bk-lite apps it is there for; absent for the services every stack runs. */
    apps?: ReadonlyArray<string>;
    /** The data it keeps: its volumes, databases, stores and streams (see ServiceData). */
    data?: ReadonlyArray<ServiceData>;
    /** Secrets of its own, generated unless given (passwords of its data or admin user). */
    secrets?: ReadonlyArray<SecretName>;
    /** The server's settings for reaching it, added to the server's environment when it runs. */
    serverEnv?(config: StackConfig): Record<string, TextValue>;
    /** The server starts only once this service is healthy (upstream's `depends_on: service_healthy`). */
    serverWaits?: boolean;
    /**
     * Why an image given in `bklite:images.overrides` cannot run this spec (a variant without the tools its command or
     * health check needs), naming the tag that works; undefined when it can.
     */
    checkImage?(ref: ImageRef): string | undefined;
    /** How `bklite verify` proves it answers (its app's real use of it), beyond a healthy container. */
    probe?: ServiceProbe;
    /** Its workload; its volumes are its data's (`data`). */
    workload(context: WorkloadContext): Omit<Workload, "volumes">;
}
