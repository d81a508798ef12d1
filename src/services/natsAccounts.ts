/**
 * Who may do what on the stack's NATS. Two accounts keep agents apart from the server side:
 * - BKLITE: the server, its `default` nats-executor, Telegraf, Vector and the program's own commands, with
 *   JetStream (the object store of packages, the streams). One user, never handed to agents.
 * - AGENTS: one user per cloud region, written to that region's SidecarEnv. Agents publish metrics and log lines
 *   (exported to BKLITE), answer the commands the server sends them (BKLITE imports those subjects as services, so
 *   replies travel back mapped, never on BKLITE's inboxes), and read packages from a read-only mirror of the object
 *   store in their own account (nats.go's object store reads through JetStream consumers, whose deliveries would
 *   otherwise cross the accounts on BKLITE's inboxes).
 *
 * Every subject below is cited from the fork the default images are built from, superfm831010/bk-lite at
 * huangpu-dev 3d6d49b (written "F:" below).
 */
import * as crypto from "crypto";

/** The server side's account. */
export const SERVER_ACCOUNT = "BKLITE";
/** The agents' account. */
export const AGENTS_ACCOUNT = "AGENTS";

/** The server side's user (BKLITE account): the server, the `default` executor, Telegraf, Vector, the CLI. */
export const NATS_SERVER_USER = "bklite";
/** The server side's user in the agents' account, which keeps the package mirror there; same password. */
export const NATS_AGENTS_ADMIN = "bklite-agents";
/**
 * The user every agent and the server shared before per-region users (the fork's and upstream's compose hand
 * `admin` to agents through DEFAULT_ZONE_VAR_NATS_USERNAME, F: deploy-huangpu/docker-compose.yml:262-267). It is
 * kept, in the agents' account with an agent's rights, only while a region's SidecarEnv still hands it out.
 */
export const LEGACY_AGENT_USER = "admin";

/** The server-side executor's instance id (F: deploy-huangpu/docker-compose.yml:230, NATS_INSTANCE_ID=default). */
export const SERVER_EXECUTOR = "default";

/**
 * The subjects nats-executor serves, each `<prefix>.<instance id>`; an agent's instance id is its sidecar node id
 * (F: server/apps/node_mgmt/support-files/collectors/NATS-Executor.json:16,33 renders `nats_instanceId: ${node.id}`).
 * F: agents/nats-executor/local/executor.go:130-134,183-187,238-242 (local.execute, download.local, unzip.local);
 * agents/nats-executor/ssh/executor.go:83-87,125-129,217-221 (ssh.execute, download.remote, upload.remote); the
 * server sends them with these prefixes (F: server/apps/rpc/executor.py:9-21).
 */
export const EXECUTOR_SUBJECTS = [
    "local.execute",
    "download.local",
    "unzip.local",
    "ssh.execute",
    "download.remote",
    "upload.remote",
] as const;

/**
 * What agents publish: Telegraf's NATS output on `metrics.<node ip, dashed>` (F: server/apps/node_mgmt/
 * support-files/collectors/Telegraf.json:16,35; the ip at services/sidecar.py:362) and Vector's NATS sink on
 * `vector` (F: collectors/Vector.json:16 and server/apps/log/plugins/Vector/*.child.toml.j2). Nothing the server
 * renders for agents subscribes to NATS but nats-executor.
 */
export const AGENT_PUBLISHED = ["metrics.*", "vector"] as const;

/** The mirror's external API prefix, and the subject prefix its deliveries cross the accounts on. */
export const MIRROR_API_PREFIX = "$JS.BKLITE.API";
export const MIRROR_DELIVER_PREFIX = "agents.deliver";

/** The JetStream stream behind an object store bucket (nats.go names it so). */
export function objectStream(bucket: string): string {
    return `OBJ_${bucket}`;
}

/**
 * The JetStream API subjects an agent's nats-executor uses to fetch a package, against its account's mirror:
 * `js.ObjectStore(bucket)` asks STREAM.INFO, `Get` reads the object's meta with STREAM.MSG.GET and its chunks
 * through an ordered consumer it creates, deletes and answers flow control for (F: agents/nats-executor/jetstream/
 * server.go:21-47, nats.go v1.46.1 as F's agents/nats-executor/go.mod:7 pins). No subject that writes, purges or
 * deletes a stream or an object is among them.
 */
export function agentObjectStoreSubjects(bucket: string): string[] {
    const stream = objectStream(bucket);
    return [
        `$JS.API.STREAM.INFO.${stream}`,
        `$JS.API.STREAM.MSG.GET.${stream}`,
        `$JS.API.CONSUMER.CREATE.${stream}`,
        `$JS.API.CONSUMER.CREATE.${stream}.>`,
        `$JS.API.CONSUMER.DELETE.${stream}.>`,
        `$JS.FC.${stream}.>`,
    ];
}

/** nats-server's permissions of one user. */
export interface NatsPermissions {
    publish: { allow: string[] };
    subscribe: { allow: string[]; deny: string[] };
    /** Replies only to requests received (a reply subject is usable once). */
    allowResponses: boolean;
}

/**
 * An agent's rights: publish metrics and log lines, read the package mirror, receive the commands addressed to a
 * node and reply to them (nats-executor answers with msg.Respond, F: local/executor.go:175, ssh/executor.go:117),
 * and its own inboxes (JetStream's answers). Never a command subject to publish, and never the server-side
 * executor's subjects to read: controller installs send SSH passwords there (F: server/apps/node_mgmt/tasks/
 * installer.py:134-237). Node ids carry no region, so every agent may receive any node's commands.
 */
export function agentPermissions(bucket: string): NatsPermissions {
    return {
        publish: { allow: [...AGENT_PUBLISHED, ...agentObjectStoreSubjects(bucket)] },
        subscribe: {
            allow: [...EXECUTOR_SUBJECTS.map((s) => `${s}.*`), "_INBOX.>"],
            deny: EXECUTOR_SUBJECTS.map((s) => `${s}.${SERVER_EXECUTOR}`),
        },
        allowResponses: true,
    };
}

/** NATS user names: letters, digits, `-`, `_` and `.`; anything else in a region name is spelled as its hash. */
const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,48}$/;

/**
 * A region's NATS user: `agent-<region>`, or for a region named in other characters `agent-<slug>-<hash>` (the
 * hash keeps two such regions apart). Stable: the user is renamed only when the region is.
 */
export function agentUserName(region: string): string {
    if (PLAIN_NAME.test(region)) {
        return `agent-${region}`;
    }
    const slug = region
        .replace(/[^A-Za-z0-9_.-]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 32);
    const hash = crypto.createHash("sha256").update(region, "utf8").digest("hex").slice(0, 10);
    return `agent-${slug ? `${slug}-` : ""}${hash}`;
}

/**
 * A region's agent password: HMAC-SHA256 of the region's name under the stack's generated `natsAgentKey`, 32 hex
 * characters. Stable across runs; one region's password says nothing of another's or of the key.
 */
export function agentPassword(agentKey: string, region: string): string {
    return crypto.createHmac("sha256", agentKey).update(`bklite-agent:${region}`, "utf8").digest("hex").slice(0, 32);
}
