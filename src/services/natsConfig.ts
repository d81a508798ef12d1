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
            tpl`    users: [ { user: "${o.user}", password: "${o.password}" } ]`,
            `  }`,
            `}`,
            ``,
        ],
        "\n",
    );
}
