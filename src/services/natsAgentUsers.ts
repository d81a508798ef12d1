/**
 * The users of the agents' NATS account, as a plan: which credentials NATS accepts from agents, and with what
 * rights. Seeding writes them to the file nats-server includes (on its data volume) and has NATS reload it.
 */
import { AgentAccountUser, renderAgentUsers } from "./natsConfig";
import { LEGACY_AGENT_USER, NATS_AGENTS_ADMIN, NATS_SERVER_USER, agentPermissions } from "./natsAccounts";
import { VALUE_REFS } from "./shared";
import { Template, ref, tpl } from "./template";

/** Where NATS reads its config, and keeps its pid and the agents' users (on the data volume). */
export const NATS_CONFIG_FILE = "/etc/nats/nats-server.conf";
export const AGENT_USERS_FILE = "/data/agents/users.conf";
export const NATS_PID_FILE = "/data/agents/nats-server.pid";
/** NATS's monitor port (not published: reached from inside its container). */
export const NATS_MONITOR_PORT = 8222;

/** The files and monitor seeding's script uses, as they are inside NATS's container. */
export const CONTAINER_NATS_FILES = {
    configFile: NATS_CONFIG_FILE,
    usersFile: AGENT_USERS_FILE,
    pidFile: NATS_PID_FILE,
    monitorUrl: `http://127.0.0.1:${NATS_MONITOR_PORT}`,
} as const;

/** A credential, as a region's SidecarEnv holds it. */
export interface AgentCredential {
    user: string;
    password: string;
}

/**
 * The file a new data volume starts with: the server side's user (which keeps the package mirror) and the shared
 * credential of older stacks with an agent's rights, so agents that hold it keep working until seeding has given
 * their region its own user (a stack made new holds no such agents; its first seeding drops it).
 */
export function initialAgentUsers(bucket: string): Template {
    return renderAgentUsers([
        { user: NATS_AGENTS_ADMIN, password: tpl`${ref(VALUE_REFS.natsServerPassword)}` },
        {
            user: LEGACY_AGENT_USER,
            password: tpl`${ref(VALUE_REFS.natsPassword)}`,
            permissions: agentPermissions(bucket),
        },
    ]);
}

export interface AgentUsersPlan {
    users: AgentAccountUser[];
    /** Credentials kept only because a region still hands them out, by user. */
    kept: string[];
    /** Credentials a region hands out that are never granted an agent's rights (the server side's own). */
    refused: string[];
}

/**
 * The agents' users: the server side's user, each region's own user, and, while `handedOut` (what regions' SidecarEnv
 * hold before seeding rewrites it) still names another credential, that one too with an agent's rights, so agents
 * keep working until they have the new one. A credential named like the server side's is never granted. The first
 * password given for a user wins; users are sorted, so the same regions always make the same file.
 */
export function planAgentUsers(args: {
    serverPassword: string;
    regions: ReadonlyArray<AgentCredential>;
    handedOut: ReadonlyArray<AgentCredential>;
    bucket: string;
}): AgentUsersPlan {
    const permissions = agentPermissions(args.bucket);
    const byUser = new Map<string, AgentCredential>();
    const refused: string[] = [];
    for (const credential of [...args.regions, ...args.handedOut]) {
        if (credential.user === NATS_SERVER_USER || credential.user === NATS_AGENTS_ADMIN) {
            refused.push(credential.user);
        } else if (!byUser.has(credential.user)) {
            byUser.set(credential.user, credential);
        }
    }
    const own = new Set(args.regions.map((r) => r.user));
    const agents = [...byUser.values()].sort((a, b) => a.user.localeCompare(b.user));
    return {
        users: [
            { user: NATS_AGENTS_ADMIN, password: args.serverPassword },
            ...agents.map((c) => ({ user: c.user, password: c.password, permissions })),
        ],
        kept: agents.filter((c) => !own.has(c.user)).map((c) => c.user),
        refused: [...new Set(refused)].sort(),
    };
}
