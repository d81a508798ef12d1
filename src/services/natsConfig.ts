/**
 * NATS server config, rendered by the program so no operator writes it by hand: JetStream on the data volume,
 * TLS with the stack's own CA, one user whose password is a reference filled in by the runtime.
 */
import { Template, ValueRef, joinText, tpl } from "./template";

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
    user: string;
    password: ValueRef;
    /** Users besides the server's, each held to the subjects it may use. */
    limitedUsers?: ReadonlyArray<NatsLimitedUser>;
}

/** Subjects a user may (allow) and may not (deny) publish or subscribe to; nats-server's own permission terms. */
export interface NatsSubjectRules {
    allow?: ReadonlyArray<string>;
    deny?: ReadonlyArray<string>;
}

export interface NatsLimitedUser {
    user: string;
    password: ValueRef;
    publish: NatsSubjectRules;
    subscribe: NatsSubjectRules;
}

function subjectRules(rules: NatsSubjectRules): string {
    const list = (values: ReadonlyArray<string>) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
    const parts = [
        ...(rules.allow ? [`allow: ${list(rules.allow)}`] : []),
        ...(rules.deny ? [`deny: ${list(rules.deny)}`] : []),
    ];
    return `{ ${parts.join(", ")} }`;
}

function limitedUser(u: NatsLimitedUser): Template {
    const permissions = `permissions: { publish: ${subjectRules(u.publish)}, subscribe: ${subjectRules(u.subscribe)} }`;
    return tpl`      { user: ${JSON.stringify(u.user)}, password: "${u.password}", ${permissions} }`;
}

/** The account's users: the server's alone on one line (as every stack so far has it), or one per line. */
function users(o: NatsConfigOptions): Template[] {
    if (!o.limitedUsers?.length) {
        return [tpl`    users: [ { user: "${o.user}", password: "${o.password}" } ]`];
    }
    const server = tpl`      { user: "${o.user}", password: "${o.password}" }`;
    return [tpl`    users: [`, server, ...o.limitedUsers.map(limitedUser), tpl`    ]`];
}

/** Renders nats-server.conf. Clients must use TLS (`allow_non_tls` is off); no client certificate is required. */
export function renderNatsConfig(o: NatsConfigOptions): Template {
    return joinText(
        [
            `port: ${o.clientPort}`,
            `monitor_port: ${o.monitorPort}`,
            `server_name: bklite-nats`,
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
            `  BKLITE: {`,
            `    jetstream: enabled`,
            ...users(o),
            `  }`,
            `}`,
            ``,
        ],
        "\n",
    );
}
