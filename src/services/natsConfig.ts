/**
 * NATS server config, rendered by the program so no operator writes it by hand: JetStream on the data volume, TLS
 * with the stack's own CA, and the two accounts of services/natsAccounts.ts. The server side's user is in this file
 * (its password a reference filled in by the runtime); the agents' users are in a file of their own on the data
 * volume, which `bklite seed apply` writes and has NATS reload, so regions and their credentials change without a
 * restart and the shared credential of older stacks is dropped once seeding has moved every region off it.
 */
import {
    AGENTS_ACCOUNT,
    EXECUTOR_SUBJECTS,
    AGENT_PUBLISHED,
    MIRROR_API_PREFIX,
    MIRROR_DELIVER_PREFIX,
    NatsPermissions,
    SERVER_ACCOUNT,
    objectStream,
} from "./natsAccounts";
import { Template, TextValue, ValueRef, joinText, tpl } from "./template";

export interface NatsConfigOptions {
    clientPort: number;
    monitorPort: number;
    /**
     * JetStream storage root (nats-server keeps streams in `<storeDir>/jetstream`): on the data volume, or
     * streams and probe packages vanish with the container.
     */
    storeDir: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    /** The server side's user and password. */
    user: string;
    password: ValueRef;
    /** The agents' users file, relative to the config file's directory (nats-server resolves includes so). */
    agentUsersInclude: string;
    /** Where nats-server writes its pid, which a reload signals. */
    pidFile: string;
    /** The object store bucket agents read packages from (through their account's mirror of it). */
    bucket: string;
}

const list = (values: ReadonlyArray<string>) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;

/** What crosses between the accounts; each side declares its half, and only to the other account. */
function accountLinks(bucket: string): { server: string[]; agents: string[] } {
    const stream = objectStream(bucket);
    // The mirror in AGENTS creates its consumer on BKLITE's stream and answers its flow control through these.
    const mirrorServices = [`$JS.API.CONSUMER.CREATE.${stream}`, `$JS.API.CONSUMER.CREATE.${stream}.>`];
    const deliver = `${MIRROR_DELIVER_PREFIX}.${stream}.>`;
    const to = (subject: string) => subject.replace(/^\$JS\.API/, MIRROR_API_PREFIX);
    const commands = EXECUTOR_SUBJECTS.map((s) => `${s}.*`);
    return {
        server: [
            `exports: [`,
            ...mirrorServices.map((s) => `  { service: ${JSON.stringify(s)}, accounts: [${AGENTS_ACCOUNT}] }`),
            `  { service: ${JSON.stringify(`$JS.FC.${stream}.>`)}, accounts: [${AGENTS_ACCOUNT}] }`,
            `  { stream: ${JSON.stringify(deliver)}, accounts: [${AGENTS_ACCOUNT}] }`,
            `]`,
            `imports: [`,
            ...AGENT_PUBLISHED.map(
                (s) => `  { stream: { account: ${AGENTS_ACCOUNT}, subject: ${JSON.stringify(s)} } }`,
            ),
            ...commands.map((s) => `  { service: { account: ${AGENTS_ACCOUNT}, subject: ${JSON.stringify(s)} } }`),
            `]`,
        ],
        agents: [
            `exports: [`,
            ...AGENT_PUBLISHED.map((s) => `  { stream: ${JSON.stringify(s)}, accounts: [${SERVER_ACCOUNT}] }`),
            ...commands.map((s) => `  { service: ${JSON.stringify(s)}, accounts: [${SERVER_ACCOUNT}] }`),
            `]`,
            `imports: [`,
            ...mirrorServices.map(
                (s) =>
                    `  { service: { account: ${SERVER_ACCOUNT}, subject: ${JSON.stringify(s)} }, to: ${JSON.stringify(to(s))} }`,
            ),
            `  { service: { account: ${SERVER_ACCOUNT}, subject: ${JSON.stringify(`$JS.FC.${stream}.>`)} } }`,
            `  { stream: { account: ${SERVER_ACCOUNT}, subject: ${JSON.stringify(deliver)} } }`,
            `]`,
        ],
    };
}

const indent = (lines: string[], by: string) => lines.map((l) => `${by}${l}`);

/** Renders nats-server.conf. Clients must use TLS (`allow_non_tls` is off); no client certificate is required. */
export function renderNatsConfig(o: NatsConfigOptions): Template {
    const links = accountLinks(o.bucket);
    return joinText(
        [
            `port: ${o.clientPort}`,
            `monitor_port: ${o.monitorPort}`,
            `server_name: bklite-nats`,
            `pid_file: ${JSON.stringify(o.pidFile)}`,
            `jetstream {`,
            `  store_dir: "${o.storeDir}"`,
            `  max_mem: 1G`,
            `  max_file: 10G`,
            `}`,
            `tls {`,
            `  cert_file: "${o.certFile}"`,
            `  key_file: "${o.keyFile}"`,
            `  ca_file: "${o.caFile}"`,
            `  timeout: 3`,
            `  verify: false`,
            `}`,
            `accounts {`,
            `  ${SERVER_ACCOUNT}: {`,
            `    jetstream: enabled`,
            tpl`    users: [ { user: "${o.user}", password: "${o.password}" } ]`,
            ...indent(links.server, "    "),
            `  }`,
            `  ${AGENTS_ACCOUNT}: {`,
            `    jetstream: enabled`,
            `    include ${JSON.stringify(o.agentUsersInclude)}`,
            ...indent(links.agents, "    "),
            `  }`,
            `}`,
            ``,
        ],
        "\n",
    );
}

/** One user of the agents' account: the server side's (no limits) or an agent's. */
export interface AgentAccountUser {
    user: string;
    password: TextValue;
    /** Absent: every right in the account (the server side's user that keeps the mirror). */
    permissions?: NatsPermissions;
}

function permissionsText(p: NatsPermissions): string {
    const subscribe = `{ allow: ${list(p.subscribe.allow)}, deny: ${list(p.subscribe.deny)} }`;
    const responses = p.allowResponses ? ", allow_responses: true" : "";
    return `permissions: { publish: { allow: ${list(p.publish.allow)} }, subscribe: ${subscribe}${responses} }`;
}

/** The agents' users file (`users: [...]`, included in the AGENTS account); passwords in it, so it is 0600. */
export function renderAgentUsers(users: ReadonlyArray<AgentAccountUser>): Template {
    // A password given as text (one a region handed out, which may hold any character) is quoted with escapes; a
    // reference is one of the stack's secrets, whose characters need none.
    const quoted = (password: TextValue) =>
        typeof password === "string" ? JSON.stringify(password) : joinText(['"', password, '"']);
    const lines = users.map((u) =>
        joinText([
            `  { user: ${JSON.stringify(u.user)}, password: `,
            quoted(u.password),
            `${u.permissions ? `, ${permissionsText(u.permissions)}` : ""} }`,
        ]),
    );
    return joinText(
        ["# The users of the AGENTS account (bklite seed apply writes them).", "users: [", ...lines, "]", ""],
        "\n",
    );
}
