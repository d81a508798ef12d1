/**
 * What every runtime does, so that nothing outside a runtime's folder asks which runtime it is: a small set of verbs
 * each runtime implements (as Kubernetes' container runtime interface gives the kubelet one for every runtime). The
 * runtime is chosen once, from `bklite:runtime` (see index.ts). Three groups of verbs:
 *
 * - config: what it checks of the config, and where agents and browsers reach the stack;
 * - deployment: `prepare` reads the host or cluster before anything is registered, then deploys the workloads with
 *   whatever guards the security rules there (a host firewall, NetworkPolicies);
 * - access: how this machine reaches a deployed stack's services (exec, stop and start, addresses, port-forwards),
 *   which seeding, verification, backups, restores and the CLI use, and nothing else.
 */
import type { Readable, Writable } from "stream";
import type * as pulumi from "@pulumi/pulumi";
import type { AddProblem } from "../config/problems";
import type { RuntimeName, SecretName, StackConfig } from "../config/types";
import type { ResolvedSecurity } from "../security/resolve";
import type { DatabaseNeed } from "../services/definition";
import type { AgentEndpoints } from "../services/regions";
import type { Workload } from "../services/workload";

/** The parts of the config that say where a stack's published ports are. */
export type EndpointConfig = Pick<StackConfig, "hostAddress" | "ports" | "kubernetes">;

/** The services the program's own commands reach: the database server and NATS. */
export type CommandTarget = "postgres" | "nats";

export interface Runtime {
    readonly name: RuntimeName;

    /**
     * Checks of the rest of the config that only this runtime makes (what it cannot honour), added to the config's
     * one problem list; `refused` says whether a key already has a problem.
     */
    checkConfig(config: StackConfig, add: AddProblem, refused: (key: string) => boolean): void;
    /** Settings the stack file sets that this runtime does not use: said as warnings, not refused. */
    unusedSettings(config: StackConfig, keysSet: ReadonlyArray<string>): string[];
    /** Where agents and browsers reach the stack: the host address and the ports published for them. */
    endpoints(config: EndpointConfig): AgentEndpoints;
    /** The names the stack's own clients reach a service by (the NATS certificate names each one). */
    serviceNames(config: StackConfig, service: string): string[];
    /**
     * Where the program's commands, run on the deploy host, name the database server or NATS: a port the host
     * publishes, or the service's own name, which their access (`reach`) makes reachable.
     */
    commandAddress(config: StackConfig, service: CommandTarget): string;
    /** The arguments those commands take to reach the stack (its containers; a cluster's namespace and context). */
    commandArgs(config: StackConfig, stack: string): string[];
    /** Where `bklite verify` finds a service it probes, as its spec records it. */
    serviceAddress(stack: string, config: StackConfig, service: string): ServiceAddress;
    /** Whether the security rules are enforced on the deploy host itself (and verified there). */
    enforcesHostFirewall(config: StackConfig): boolean;
    /** What a new site's stack file (`bklite init`) says of this runtime: a comment, and the settings it starts with. */
    newStackFile: { comment: string; settings: string[] };

    /**
     * Reads the deploy host or the cluster before anything is registered, and stops the run (with every reason and
     * its fix) when the stack cannot be deployed there; a plan reads nothing and assumes what a deployment would find.
     */
    prepare(request: PreflightRequest): Prepared;

    /** How this machine reaches a deployed stack's services. */
    access(target: AccessTarget): RuntimeAccess;
}

export interface PreflightRequest {
    stack: string;
    config: StackConfig;
    workloads: ReadonlyArray<Workload>;
    /** A plan (`bklite plan`): read nothing from this host, so the plan depends on the commit alone. */
    planning: boolean;
}

/** A runtime that has read its host or cluster, ready to deploy. */
export interface Prepared {
    /** Said once the platform exists (e.g. a cluster that could not be read, so was not checked). */
    warnings: string[];
    deploy(request: DeployRequest): Deployment;
}

/** A deployed service, to the resources that finish its start. */
export interface Started {
    resource: pulumi.Resource;
    /** Values that change when it is replaced or restarts with new settings. */
    rerunWhen?: pulumi.Input<string>[];
}

export interface DeployRequest {
    /** The platform: every resource is its child, named `${name}-...`. */
    parent: pulumi.ComponentResource;
    name: string;
    stack: string;
    config: StackConfig;
    workloads: Workload[];
    security: ResolvedSecurity;
    /** The PostgreSQL databases the running services declare. */
    databases: DatabaseNeed[];
    /** The values workloads refer to by name: secrets, keys and certificates. */
    values: Readonly<Record<string, pulumi.Input<string>>>;
    secret(name: SecretName): pulumi.Output<string>;
    /** What must be done before any workload changes (the backup before an upgrade). */
    before: pulumi.Resource[];
    /** Resources that finish a service's start, by service name; services that depend on it wait for them too. */
    afterStart: Readonly<Record<string, (started: Started) => pulumi.Resource[]>>;
}

/** What a deployment hands back to the platform. */
export interface Deployment {
    /** Data volumes (Docker) or claims (Kubernetes), kept when the stack is destroyed. */
    dataVolumes: pulumi.Output<string[]>;
    /** The server, healthy: seeding waits for it. */
    serverReady: pulumi.Resource;
    /** What verification waits for besides seeding (the host firewall). */
    verifyAfter: pulumi.Resource[];
    /** Values that change when a running service is replaced or rolled out again: verification runs again. */
    verifyWhen: pulumi.Input<string>[];
}

/**
 * Where a service answers, seen from where verify runs: a fixed address, a container on the stack's Docker network
 * (its address read from the engine: the host can reach a bridge network), or a Kubernetes Service (port-forwarded).
 */
export type ServiceAddress = { host: string } | { container: string; network: string } | { kubeService: string };

/** Which deployed stack to reach, and how: from its config, or from a command's options alone. */
export interface AccessTarget {
    stack: string;
    config?: StackConfig;
    /** The stack's workloads (which run as what); known with the config. */
    workloads?: ReadonlyArray<Workload>;
    /** The command's options that point at it (`--kube-namespace`, `--kube-context`), over the config's. */
    options?: Readonly<Record<string, unknown>>;
}

export type ServiceState = "running" | "stopped" | "absent";

export interface ExecOptions {
    /** Fed to the program's standard input. */
    stdin?: Readable;
    /** Where its standard output goes; collected and returned when absent. */
    stdout?: Writable;
    /** Aborting stops the program and everything it started inside the service, then the local client. */
    signal?: AbortSignal;
}

/** A stopped service, as plain data (a restore's journal keeps it): what `start` needs to bring it back. */
export interface StoppedService {
    service: string;
    /** How many ran (Docker: 1; a workload's replicas). */
    replicas: number;
}

/** The verbs every runtime gives for reaching a deployed stack. */
export interface RuntimeAccess {
    /** Where the services are, for messages: "Docker (containers bklite-prod-*)" or "namespace bklite". */
    readonly where: string;
    state(service: string): Promise<ServiceState>;
    /** Runs `argv` inside the service; rejects with the tail of its stderr on a non-zero exit. */
    exec(service: string, argv: string[], options?: ExecOptions): Promise<string>;
    /**
     * Stops a running service; `beforeStopping` hears what will bring it back before anything stops (a journal
     * records it there, so a process killed meanwhile still knows what to start).
     */
    stop(service: string, beforeStopping?: (stopped: StoppedService) => void): Promise<StoppedService>;
    /** Starts what `stop` stopped, as it was; starting what runs changes nothing. */
    start(stopped: StoppedService): Promise<void>;
    /** `host:port` where this machine reaches `port` of `service`. */
    address(service: string, port: number, signal?: AbortSignal): Promise<string>;
    /** `host:port` where this machine reaches `port` at an address a verify spec gives. */
    locate(address: ServiceAddress, port: number, signal?: AbortSignal): Promise<string>;
    /** A URL the program's commands were given (commandAddress), as this machine reaches it. */
    reach(url: string): Promise<string>;
    /** How an operator runs a program in `service` by hand, for messages (`docker exec bklite-prod-postgres`). */
    execHint(service: string): string;
    /** Stops what reaching the services started (port-forwards). */
    close(): Promise<void>;
}
