/**
 * What `bklite backup` and `bklite restore` read from the environment: the seed's NATS and SECRET_KEY variables,
 * and the passwords of the stores the services declare (FalkorDB's, MinIO's). Free of heavy imports, so the CLI's
 * help names them without loading the clients.
 */
import { SEED_ENV_HELP } from "../seed/connection";
import { VERIFY_SECRETS_HELP } from "../verify/env";

/** The variable a store's password comes in: `falkordbPassword` in BKLITE_FALKORDB_PASSWORD. */
export function secretEnv(secret: string): string {
    return `BKLITE_${secret.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
}

/** The shared NATS password of the release before, for a backup that meets NATS still running its config. */
export const NATS_PREVIOUS_PASSWORD = "BKLITE_NATS_PREVIOUS_PASSWORD";

export const BACKUP_ENV_HELP: Record<string, string> = {
    BKLITE_SECRET_KEY:
        "the server's SECRET_KEY: a backup records its fingerprint, a restore refuses a backup made under another (required)",
    BKLITE_PREVIOUS_SECRET_KEY:
        "while rotating SECRET_KEY: the key before it; a backup records whichever of the two the stored secret values decrypt with",
    BKLITE_NATS_PASSWORD: "NATS password, for the object store and the streams (required)",
    BKLITE_NATS_URL:
        "NATS as this machine reaches it (default: the stack's, tls://127.0.0.1:<natsPort> on Docker, the nats Service through a port-forward on a cluster)",
    BKLITE_NATS_USER: "NATS user (default bklite, the server side's)",
    [NATS_PREVIOUS_PASSWORD]:
        "the NATS password all agents and the server shared in the release before (bklite:natsPassword, user admin): used only when NATS refuses BKLITE_NATS_USER because it still runs that release's config, as before an upgrade (optional)",
    BKLITE_NATS_CA: SEED_ENV_HELP.BKLITE_NATS_CA,
    [secretEnv("falkordbPassword")]:
        `${VERIFY_SECRETS_HELP.BKLITE_FALKORDB_PASSWORD}: its graphs are backed up and restored`,
    [secretEnv("minioPassword")]:
        "MinIO's password (needed when mlops is installed): its buckets, MLflow's artifacts, are backed up and restored",
    BKLITE_DOCKER: "the docker CLI to run on a Docker host (default: docker from PATH)",
    BKLITE_KUBECTL: "the kubectl to run on a cluster (default: kubectl from PATH)",
    BKLITE_STATE_DIR:
        "where a restore keeps its journal and its copies of what it replaces, in restores/STACK (default: $XDG_STATE_HOME/bklite, else ~/.local/state/bklite); private, removed when the restore ends",
};
