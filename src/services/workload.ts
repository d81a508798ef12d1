/**
 * A workload: one service as a runtime runs it (a container on Docker, a Deployment's or StatefulSet's pod on
 * Kubernetes), as plain data. The runtimes turn workloads into resources without knowing what bk-lite is.
 */
import { TextValue } from "./template";

/** A port the service listens on inside the network. */
export interface WorkloadPort {
    /** Name used by rules and routes: http, nats, postgres, ... */
    name: string;
    /** Port inside the container. */
    containerPort: number;
    protocol?: "tcp" | "udp";
    /** Published on the host at this port; absent means reachable only inside the stack network. */
    hostPort?: number;
    /** Address the published port binds to on the host: `127.0.0.1` for host-only services. */
    hostIp?: string;
}

/** A named data volume that must outlive the container, `pulumi destroy` and replacements. */
export interface WorkloadVolume {
    /** Short name, unique in the stack: the runtime derives the volume name from it. */
    name: string;
    mountPath: string;
}

/** A file the runtime writes into the container before it starts. */
export interface WorkloadFile {
    path: string;
    content: TextValue;
    /** Octal permission string, e.g. "0600". */
    mode?: string;
    /** Numeric owner, for images whose entrypoint drops root before reading the file. Default root. */
    owner?: { uid: number; gid: number };
}

/** Health check: `test` is an exec array (`["CMD", ...]` or `["CMD-SHELL", "..."]`). */
export interface HealthCheck {
    test: string[];
    intervalSeconds: number;
    timeoutSeconds: number;
    startPeriodSeconds: number;
    retries: number;
}

/** An HTTP route the ingress sends to this service. */
export interface Route {
    /** Path prefix matched on path alone (no Host rule), e.g. `/api/v1` or `/`. */
    pathPrefix: string;
    /** Container port requests go to. */
    port: number;
    /** Higher wins when prefixes overlap. */
    priority: number;
}

export interface Workload {
    /** Service name: also its DNS name inside the stack network. */
    name: string;
    image: string;
    /** Replaces the image's entrypoint (Docker's entrypoint, a container's `command` on Kubernetes). */
    entrypoint?: string[];
    /** Arguments to the entrypoint (Docker's command, a container's `args` on Kubernetes). */
    command?: string[];
    env: Record<string, TextValue>;
    ports: WorkloadPort[];
    volumes: WorkloadVolume[];
    files: WorkloadFile[];
    health: HealthCheck;
    /** Services that must be healthy before this one starts. */
    dependsOn: string[];
    /** Services it connects to without waiting for them at start (where network policies must let it through). */
    connectsTo?: string[];
    routes: Route[];
    /** Seconds to wait after SIGTERM before the container is killed. */
    stopGraceSeconds?: number;
    /** A database-like service with a stable identity and its own data (a StatefulSet on Kubernetes). */
    stateful?: boolean;
    /**
     * Two must never run at once (it runs schedulers, migrations or listeners): the old one stops before the new one
     * starts, as Docker replaces a container (the Recreate strategy on Kubernetes).
     */
    singleInstance?: boolean;
}

/** What most services' probes need: every 10 s, 5 s to answer, 10 s to start, 12 failures before giving up. */
const HEALTH_DEFAULTS = { intervalSeconds: 10, timeoutSeconds: 5, startPeriodSeconds: 10, retries: 12 } as const;

/** A health check running `test`, with the timings that differ from the usual ones. */
export function healthCheck(test: string[], timings: Partial<Omit<HealthCheck, "test">> = {}): HealthCheck {
    return { test, ...HEALTH_DEFAULTS, ...timings };
}

/**
 * Worst-case seconds before a failing service is declared unhealthy: the start period, then `retries`
 * consecutive failed probes, each taking at most interval + timeout.
 */
export function healthGiveUpSeconds(h: HealthCheck): number {
    return h.startPeriodSeconds + h.retries * (h.intervalSeconds + h.timeoutSeconds);
}

/** Host ports published by more than one service, with the services publishing each. */
export function findHostPortConflicts(specs: ReadonlyArray<Workload>): Array<{ hostPort: number; owners: string[] }> {
    const owners = new Map<string, string[]>();
    for (const spec of specs) {
        for (const port of spec.ports) {
            if (port.hostPort !== undefined) {
                const key = `${port.hostPort}/${port.protocol ?? "tcp"}`;
                owners.set(key, [...(owners.get(key) ?? []), `${spec.name}.${port.name}`]);
            }
        }
    }
    return [...owners.entries()]
        .filter(([, names]) => names.length > 1)
        .map(([key, names]) => ({ hostPort: Number(key.split("/")[0]), owners: names }));
}
