/** Connecting to the stack's NATS as the program's commands do: TLS verified with the stack's CA, a name per tool. */
import { NatsConnection, connect } from "nats";

export interface NatsEndpoint {
    url: string;
    user: string;
    password: string;
    /** PEM text of the CA that signed the server certificate. */
    ca?: string;
}

/**
 * Connects once, without reconnecting: a command that loses NATS fails and is re-run, rather than stalling across
 * a server restart.
 */
export function connectNats(endpoint: NatsEndpoint, name: string): Promise<NatsConnection> {
    return connect({
        servers: endpoint.url,
        user: endpoint.user,
        pass: endpoint.password,
        tls: endpoint.ca ? { ca: endpoint.ca } : endpoint.url.startsWith("tls://") ? {} : undefined,
        name,
        maxReconnectAttempts: 0,
        timeout: 10000,
    });
}
