/**
 * Deploys what a mock run of the program registered, on a real Docker engine, the way the providers would: the
 * network, the volumes, each container (Engine API create with its command, env, health check, ports bound to
 * their addresses, aliases, restart policy and log options; one archive upload per `uploads` entry, with its mode
 * and owner; start; wait until healthy), the PostgreSQL provider's role and database once PostgreSQL is up, and the
 * local commands (`bklite seed apply`, ...) run with `sh -c` in their directory with their environment and stdin.
 * Resources go in the order the program registered them, which already follows their dependencies.
 */
import { spawn } from "child_process";
import { Client } from "pg";
import { RecordedResource } from "../../src/plan/mockRun";
import { containerLogs, dockerApi, singleFileTar } from "./dockerApi";

const CONTAINER = "docker:index/container:Container";

/** Seconds of a Go duration ("2m0s") as the engine takes them: nanoseconds. */
function nanoseconds(duration: string): number {
    const [, h = "0", m = "0", s = "0"] = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)s$/.exec(duration) ?? [];
    return (Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1e9;
}

export interface Replayed {
    /** Container ids by service name. */
    containers: Record<string, string>;
    /** What each local command printed, by resource name. */
    commands: Record<string, { code: number; stdout: string; stderr: string }>;
}

export interface ReplayOptions {
    /** The image each service runs instead of its RemoteImage (the stand-ins), by service name. */
    images: Record<string, string>;
    /** Lines about progress. */
    log?: (line: string) => void;
}

/** The engine's create request for a recorded docker.Container, as the provider makes it. */
export function createRequest(c: RecordedResource, image: string, network: string): Record<string, unknown> {
    const i = c.inputs;
    const h = i.healthcheck;
    const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const p of i.ports ?? []) {
        portBindings[`${p.internal}/${p.protocol}`] = [{ HostIp: p.ip, HostPort: String(p.external) }];
    }
    return {
        Image: image,
        Hostname: i.hostname,
        Entrypoint: i.entrypoints,
        Cmd: i.command,
        Env: i.envs,
        Labels: Object.fromEntries((i.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
        ExposedPorts: Object.fromEntries(Object.keys(portBindings).map((k) => [k, {}])),
        Healthcheck: {
            Test: h.tests,
            Interval: nanoseconds(h.interval),
            Timeout: nanoseconds(h.timeout),
            StartPeriod: nanoseconds(h.startPeriod),
            Retries: h.retries,
        },
        StopTimeout: i.stopTimeout,
        HostConfig: {
            Binds: (i.volumes ?? []).map(
                (v: { volumeName: string; containerPath: string }) => `${v.volumeName}:${v.containerPath}`,
            ),
            PortBindings: portBindings,
            RestartPolicy: { Name: i.restart },
            LogConfig: { Type: i.logDriver, Config: i.logOpts },
            NetworkMode: i.networkMode,
        },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: i.networksAdvanced[0].aliases } } },
    };
}

/** Waits until the container is healthy; fails with its log when it is unhealthy, stops, or takes too long. */
export async function waitHealthy(id: string, name: string, timeoutSeconds: number): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const state = (await dockerApi("GET", `/containers/${id}/json`)).State;
        if (state.Health?.Status === "healthy") {
            return;
        }
        if (state.Health?.Status === "unhealthy" || (!state.Running && !state.Restarting) || Date.now() > deadline) {
            const probes = (state.Health?.Log ?? [])
                .slice(-2)
                .map((p: { Output: string }) => p.Output.trim())
                .join(" | ");
            throw new Error(
                `${name} is not healthy (${state.Status}, health ${state.Health?.Status}; last probes: ${probes})\n${await containerLogs(id)}`,
            );
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/**
 * Runs a recorded local command as @pulumi/command does: `sh -c` in its directory, its environment and stdin; its
 * `create` (a new or replaced command), or its `update` (an updated one that has one).
 */
export function runCommand(
    c: RecordedResource,
    which: "create" | "update" = "create",
): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("/bin/sh", ["-c", c.inputs[which] ?? c.inputs.create], {
            cwd: c.inputs.dir,
            env: { ...process.env, ...(c.inputs.environment ?? {}) },
            stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        // A command that does not read its input may end first: Go's os/exec, which runs it, ignores that EPIPE.
        child.stdin.on("error", (err: NodeJS.ErrnoException) => err.code === "EPIPE" || reject(err));
        child.stdin.end(c.inputs.stdin ?? "");
    });
}

/** A literal for SQL text (CREATE ROLE takes no parameters). */
function literal(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/** The service a recorded container runs (its `io.bklite.service` label). */
function serviceOf(r: RecordedResource): string {
    return (r.inputs.labels as Array<{ label: string; value: string }>).find((l) => l.label === "io.bklite.service")!
        .value;
}

/** Creates a recorded container as the provider does (create, uploads, start) and waits until it is healthy. */
async function createContainer(r: RecordedResource, options: ReplayOptions, network: string): Promise<string> {
    const { Id: id } = await dockerApi(
        "POST",
        `/containers/create?name=${encodeURIComponent(r.inputs.name)}`,
        createRequest(r, options.images[serviceOf(r)], network),
    );
    for (const u of r.inputs.uploads ?? []) {
        const tar = singleFileTar(
            u.file,
            Buffer.from(u.content, "utf8"),
            parseInt(u.permissions ?? "0644", 8),
            Number(u.owner ?? 0),
            Number(u.group ?? 0),
        );
        await dockerApi("PUT", `/containers/${id}/archive?path=/`, undefined, tar);
    }
    await dockerApi("POST", `/containers/${id}/start`);
    options.log?.(`started ${r.inputs.name}; waiting until healthy`);
    await waitHealthy(id, r.inputs.name, r.inputs.waitTimeout);
    return id;
}

/** Deploys the recorded resources; stops at the first failure, naming it. */
export async function replay(resources: ReadonlyArray<RecordedResource>, options: ReplayOptions): Promise<Replayed> {
    const log = options.log ?? (() => undefined);
    const result: Replayed = { containers: {}, commands: {} };
    const network = resources.find((r) => r.type === "docker:index/network:Network")!.inputs;
    await dockerApi("POST", "/networks/create", {
        Name: network.name,
        Driver: network.driver,
        Labels: Object.fromEntries(network.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
    });
    for (const v of resources.filter((r) => r.type === "docker:index/volume:Volume")) {
        await dockerApi("POST", "/volumes/create", {
            Name: v.inputs.name,
            Labels: Object.fromEntries(
                v.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value]),
            ),
        });
    }
    const providers = new Map(
        resources.filter((r) => r.type === "pulumi:providers:postgresql").map((p) => [p.urn, p.inputs]),
    );
    for (const r of resources) {
        if (r.type === CONTAINER) {
            result.containers[serviceOf(r)] = await createContainer(r, options, network.name);
        } else if (r.type === "postgresql:index/role:Role" || r.type === "postgresql:index/database:Database") {
            const provider = providers.get(r.provider.slice(0, r.provider.lastIndexOf("::")))!;
            const db = new Client({
                host: provider.host,
                port: Number(provider.port),
                user: provider.username,
                password: provider.password,
                database: "postgres",
            });
            await db.connect();
            try {
                await db.query(
                    r.type === "postgresql:index/role:Role"
                        ? `CREATE ROLE "${r.inputs.name}" LOGIN PASSWORD ${literal(r.inputs.password)}`
                        : `CREATE DATABASE "${r.inputs.name}" OWNER "${r.inputs.owner}" TEMPLATE template0 ENCODING 'UTF8'`,
                );
            } finally {
                await db.end();
            }
            log(`created ${r.type.split(":").pop()} ${r.inputs.name}`);
        } else if (r.type === "command:local:Command") {
            log(`running ${r.name}: ${r.inputs.create}`);
            const run = await runCommand(r);
            result.commands[r.name] = run;
            if (run.code !== 0) {
                throw new Error(`${r.name} (${r.inputs.create}) exited ${run.code}:\n${run.stderr}`);
            }
        }
    }
    return result;
}

/** Removes every container, the network and the volumes of a stack, by its name prefix; what is gone is fine. */
export async function removeStack(prefix: string): Promise<void> {
    const containers: Array<{ Id: string }> = await dockerApi(
        "GET",
        `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`io.bklite.stack=${prefix}`] }))}`,
    );
    for (const c of containers) {
        await dockerApi("DELETE", `/containers/${c.Id}?force=1&v=1`).catch(() => undefined);
    }
    await dockerApi("DELETE", `/networks/${prefix}`).catch(() => undefined);
    const { Volumes: volumes }: { Volumes: Array<{ Name: string }> | null } = await dockerApi(
        "GET",
        `/volumes?filters=${encodeURIComponent(JSON.stringify({ label: [`io.bklite.stack=${prefix}`] }))}`,
    );
    for (const v of volumes ?? []) {
        await dockerApi("DELETE", `/volumes/${v.Name}?force=1`).catch(() => undefined);
    }
}

export interface Changed extends Replayed {
    /** The containers replaced (delete, then create), by service. */
    replaced: string[];
    /** The local commands run again, by resource name. */
    reran: string[];
}

/** The inputs of a command whose change makes the provider run it again. */
const COMMAND_INPUTS = ["create", "update", "dir", "environment", "stdin", "triggers"];

/**
 * A second `pulumi up`, from the resources a first run registered (`before`) to a second's (`after`), applied as the
 * providers apply the difference: a container whose inputs changed is replaced, deleted first when the program
 * asked for deleteBeforeReplace (its fixed name and host ports allow nothing else), and a command whose create,
 * environment, stdin, directory or triggers changed runs again; the rest is left alone. Refuses a change to what
 * this replay does not replace (network, volumes, the PostgreSQL provider's objects): the test would be wrong.
 */
export async function replayChange(
    before: ReadonlyArray<RecordedResource>,
    after: ReadonlyArray<RecordedResource>,
    deployed: Replayed,
    options: ReplayOptions,
): Promise<Changed> {
    const result: Changed = { containers: { ...deployed.containers }, commands: {}, replaced: [], reran: [] };
    const old = new Map(before.map((r) => [r.urn, r]));
    const network = after.find((r) => r.type === "docker:index/network:Network")!.inputs.name as string;
    for (const r of after) {
        const was = old.get(r.urn);
        if (r.type === CONTAINER) {
            if (was !== undefined && JSON.stringify(was.inputs) === JSON.stringify(r.inputs)) {
                continue;
            }
            if (was !== undefined && !r.deleteBeforeReplace) {
                throw new Error(`${r.name} is replaced create-first, but its name ${r.inputs.name} is fixed`);
            }
            const service = serviceOf(r);
            options.log?.(`replacing ${r.inputs.name}: delete, then create`);
            await dockerApi("DELETE", `/containers/${r.inputs.name}?force=1`).catch(() => undefined);
            result.containers[service] = await createContainer(r, options, network);
            result.replaced.push(service);
        } else if (r.type === "command:local:Command") {
            const differs = (k: string) => JSON.stringify(was?.inputs[k]) !== JSON.stringify(r.inputs[k]);
            if (COMMAND_INPUTS.some(differs)) {
                // Changed triggers replace the command (create runs); other changes update it (update runs).
                const which = was === undefined || differs("triggers") ? "create" : "update";
                options.log?.(`running ${r.name} again (${which}): ${r.inputs[which] ?? r.inputs.create}`);
                result.commands[r.name] = await runCommand(r, which);
                result.reran.push(r.name);
            }
        } else if ((r.custom && r.type.startsWith("docker:")) || r.type.startsWith("postgresql:")) {
            if (JSON.stringify(was?.inputs) !== JSON.stringify(r.inputs)) {
                throw new Error(`${r.name} (${r.type}) changed, which this replay does not apply`);
            }
        }
    }
    return result;
}
