/** Connecting to the stack's NATS as the program's commands do: TLS verified with the stack's CA, a name per tool. */
import { NatsConnection, connect } from "nats";
import { SEED_ENV } from "../seed/connection";
import { TLS_CERTIFICATE_CODES } from "../util/tlsErrors";

export interface NatsEndpoint {
    url: string;
    user: string;
    password: string;
    /** PEM text of the CA that signed the server certificate. */
    ca?: string;
}

/**
 * Connects once, without reconnecting: a command that loses NATS fails and is re-run, rather than stalling across
 * a server restart. A failure says what went wrong in words, which variable to fix and how.
 */
export async function connectNats(endpoint: NatsEndpoint, name: string): Promise<NatsConnection> {
    try {
        return await connect({
            servers: endpoint.url,
            user: endpoint.user,
            pass: endpoint.password,
            tls: endpoint.ca ? { ca: endpoint.ca } : endpoint.url.startsWith("tls://") ? {} : undefined,
            name,
            maxReconnectAttempts: 0,
            timeout: 10000,
        });
    } catch (err) {
        throw new Error(natsFailure(err as NatsError, endpoint), { cause: err });
    }
}

/**
 * The endpoint whose credential NATS accepts: `endpoint`'s, or, when NATS refuses it and a `previous` credential is
 * given, that one (a backup taken before an upgrade meets NATS still running the older release's config, whose
 * server-side user is the one all agents shared). Anything but a refused credential fails as it is.
 */
export async function acceptedEndpoint(
    endpoint: NatsEndpoint,
    previous: { user: string; password: string } | undefined,
    log: (line: string) => void,
): Promise<NatsEndpoint> {
    try {
        await (await connectNats(endpoint, "bklite-credential-check")).close();
        return endpoint;
    } catch (err) {
        const refused = natsFailureKind(((err as Error).cause ?? err) as NatsError) === "authentication";
        if (!refused || previous === undefined) {
            throw err;
        }
        const older = { ...endpoint, ...previous };
        await (await connectNats(older, "bklite-credential-check")).close();
        log(
            `NATS refused ${endpoint.user} and accepted ${previous.user}: it still runs the release before; using that`,
        );
        return older;
    }
}

type NatsError = Error & { code?: string; chainedError?: Error & { code?: string } };

/** What kind of failure a NATS connection error is: each has its own fix, and only some are worth retrying. */
export type NatsFailureKind =
    "authentication" | "refused" | "unknown host" | "certificate name" | "certificate" | "timeout" | "other";

export function natsFailureKind(err: NatsError): NatsFailureKind {
    const code = err.chainedError?.code ?? err.code ?? "";
    if (code === "AUTHORIZATION_VIOLATION" || /authorization violation/i.test(err.message)) {
        return "authentication";
    }
    if (code === "ECONNREFUSED" || code === "CONNECTION_REFUSED") {
        return "refused";
    }
    if (code === "ENOTFOUND") {
        return "unknown host";
    }
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
        return "certificate name";
    }
    if (TLS_CERTIFICATE_CODES.has(code)) {
        return "certificate";
    }
    return code === "TIMEOUT" || code === "ETIMEDOUT" || /timeout/i.test(err.message) ? "timeout" : "other";
}

/** What a failed NATS connection means for the operator: the cause in words, the variable and the fix. */
export function natsFailure(err: NatsError, endpoint: NatsEndpoint): string {
    const host = hostOf(endpoint.url);
    const kind = natsFailureKind(err);
    if (kind === "authentication") {
        return `NATS at ${host} refused the user "${endpoint.user}" and its password (Authorization Violation): set ${SEED_ENV.natsUser} and ${SEED_ENV.natsPassword} to the server side's NATS user, bklite, and its password (bklite:natsServerPassword)`;
    }
    if (kind === "refused") {
        return `nothing accepts connections at ${host} (connection refused): ${SEED_ENV.natsUrl} must name the stack's NATS client port, and NATS must be running`;
    }
    if (kind === "unknown host") {
        return `the NATS host in ${SEED_ENV.natsUrl} (${host}) is not known to DNS: fix the host name`;
    }
    if (kind === "certificate name") {
        return `NATS's certificate does not name ${host} (${err.message}): connect by a name or address the certificate holds, or add it to the stack's certificate`;
    }
    if (kind === "certificate") {
        const ca =
            endpoint.ca === undefined
                ? `${SEED_ENV.natsCa} is not set`
                : `the CA in ${SEED_ENV.natsCa} did not sign it`;
        return `NATS's certificate at ${host} could not be verified (${err.message}): ${ca}; set ${SEED_ENV.natsCa} to the stack's CA certificate (PEM text or its file)`;
    }
    if (kind === "timeout") {
        return `NATS at ${host} did not answer within 10 s: check ${SEED_ENV.natsUrl}, that NATS is running and that no firewall drops the port`;
    }
    return `cannot connect to NATS at ${host} (${SEED_ENV.natsUrl}): ${err.message}`;
}

/** host:port of a URL, without credentials; the text itself when it does not parse. */
function hostOf(url: string): string {
    try {
        return new URL(url).host;
    } catch {
        return "an unparseable URL";
    }
}
