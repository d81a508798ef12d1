/**
 * The parts of a pod the workloads share: the init container that waits for what a service depends on, the probes a
 * health check becomes, and file modes as Kubernetes wants them.
 */
import * as k8s from "@pulumi/kubernetes";
import { HealthCheck, Workload, healthGiveUpSeconds } from "../../services/workload";

/**
 * The init container that waits until every service `spec` depends on accepts TCP connections on each of its ports
 * (bash's /dev/tcp: no other tool needed in the image), saying what it waits for every few seconds; none when it
 * depends on nothing that listens.
 */
export function waitFor(
    spec: Workload,
    all: ReadonlyArray<Workload>,
    image: string,
): k8s.types.input.core.v1.Container | undefined {
    const targets = spec.dependsOn.flatMap((name) =>
        (all.find((s) => s.name === name)?.ports ?? []).map((p) => ({ host: name, port: p.containerPort })),
    );
    if (targets.length === 0) {
        return undefined;
    }
    const loops = targets.map(
        ({ host, port }) =>
            `until (exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null; do echo "waiting for ${host}:${port}"; sleep 3; done`,
    );
    return {
        name: "wait-for-dependencies",
        image,
        imagePullPolicy: "IfNotPresent",
        command: [
            "bash",
            "-c",
            [...loops, `echo "${targets.map((t) => `${t.host}:${t.port}`).join(", ")} accept connections"`].join("\n"),
        ],
        resources: { requests: { cpu: "10m", memory: "16Mi" } },
    };
}

/** The exec probe of a health check: CMD runs as given, CMD-SHELL through sh. */
export function probeCommand(h: HealthCheck): string[] {
    const [kind, ...rest] = h.test;
    return kind === "CMD-SHELL" ? ["sh", "-c", rest.join(" ")] : rest;
}

/**
 * Probes from a health check: a startup probe that allows the whole give-up budget (a server running its
 * migrations is not killed in its first minutes), then a readiness probe. No liveness probe: a slow server is
 * not restarted mid-migration.
 */
export function probes(h: HealthCheck): {
    startupProbe: k8s.types.input.core.v1.Probe;
    readinessProbe: k8s.types.input.core.v1.Probe;
} {
    const exec = { command: probeCommand(h) };
    return {
        startupProbe: {
            exec,
            periodSeconds: h.intervalSeconds,
            timeoutSeconds: h.timeoutSeconds,
            failureThreshold: Math.ceil(healthGiveUpSeconds(h) / h.intervalSeconds),
        },
        readinessProbe: {
            exec,
            periodSeconds: h.intervalSeconds,
            timeoutSeconds: h.timeoutSeconds,
            failureThreshold: 3,
        },
    };
}

/** Octal permission string to the decimal mode Kubernetes wants. */
export function mode(octal?: string): number | undefined {
    return octal === undefined ? undefined : parseInt(octal, 8);
}
