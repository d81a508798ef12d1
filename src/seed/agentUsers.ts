/**
 * Seeding's half of the agents' NATS users: before the regions' SidecarEnv is rewritten, NATS learns the regions'
 * own users while still accepting what the regions hand out now (with an agent's rights); the package mirror the
 * agents read is made; and once the SidecarEnv is written, the credentials no region hands out any more are dropped.
 * The users file is written and NATS reloaded by one shell script that runs where NATS runs (inside its container,
 * or beside a local server), checks the new file with `nats-server -t` first and waits for the reload to show.
 */
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { Client } from "pg";
import { DiscardPolicy, NatsConnection, StorageType } from "nats";
import { connectNats } from "../nats/client";
import { renderText } from "../services/template";
import { renderAgentUsers } from "../services/natsConfig";
import { AgentCredential, AgentUsersPlan } from "../services/natsAgentUsers";
import { MIRROR_API_PREFIX, MIRROR_DELIVER_PREFIX, NATS_AGENTS_ADMIN, objectStream } from "../services/natsAccounts";
import { storedPlaintext } from "./diff";
import { runStreaming } from "../runtimes/exec";
import { ObjectBucket } from "./objectStore";

/** Where the script finds NATS's files and monitor. */
export interface NatsFiles {
    configFile: string;
    usersFile: string;
    pidFile: string;
    monitorUrl: string;
}

/** Runs a program where NATS runs, the content on its standard input; rejects with what it printed when it fails. */
export type RunBesideNats = (argv: string[], stdin: Readable) => Promise<string>;

/** Runs argv on this host (beside a local nats-server), `stdin` on its standard input. */
export const runHere: RunBesideNats = (argv, stdin) => runStreaming(argv[0], argv.slice(1), { stdin });

/**
 * The files of a NATS that runs on this host with a config the program rendered (`--nats-config`): its pid file,
 * monitor port and the agents' users file it includes, read from the config. Throws naming what is missing.
 */
export function localNatsFiles(configFile: string): NatsFiles {
    const text = fs.readFileSync(configFile, "utf8");
    const pid = /^pid_file: "(.*)"$/m.exec(text)?.[1];
    const monitor = /^monitor_port: (\d+)$/m.exec(text)?.[1];
    const include = /^\s*include "(.*)"$/m.exec(text)?.[1];
    if (!pid || !monitor || !include) {
        throw new Error(
            `${configFile} is not a NATS config the program rendered (it needs pid_file, monitor_port and the AGENTS account's include)`,
        );
    }
    return {
        configFile,
        usersFile: path.resolve(path.dirname(configFile), include),
        pidFile: pid,
        monitorUrl: `http://127.0.0.1:${monitor}`,
    };
}

/** A shell command printing a page of NATS's monitor: the image's busybox wget, or curl beside a local server. */
function monitorGet(url: string): string {
    return `{ wget -qO- '${url}' 2>/dev/null || curl -s '${url}'; }`;
}

/**
 * The script: the new file replaces the old only if nats-server accepts the whole config with it (else the old is
 * put back), then NATS is signalled to reload and the script waits for the monitor's config_load_time to change.
 */
export function writeUsersScript(files: NatsFiles): string[] {
    const script = [
        "set -e",
        `load_time() { ${monitorGet(`${files.monitorUrl}/varz`)} | grep -o '"config_load_time": *"[^"]*"'; }`,
        "umask 077",
        `f=${files.usersFile}`,
        'mkdir -p "$(dirname "$f")"',
        'cat > "$f.new"',
        '[ -f "$f" ] && cp "$f" "$f.old" || : > "$f.old"',
        'mv "$f.new" "$f"',
        `if ! out=$(nats-server -t -c ${files.configFile} 2>&1); then mv "$f.old" "$f"; echo "nats-server refused the agents' users: $out" >&2; exit 3; fi`,
        "before=$(load_time)",
        `kill -HUP "$(cat ${files.pidFile})"`,
        "i=0",
        'while [ "$i" -lt 100 ]; do [ "$(load_time)" != "$before" ] && exit 0; sleep 0.1; i=$((i+1)); done',
        'echo "NATS did not reload its config within 10 s; see its log" >&2',
        "exit 4",
    ].join("\n");
    return ["sh", "-c", script];
}

/**
 * What each region's SidecarEnv in the database hands out now: NATS_USERNAME and NATS_PASSWORD (decrypted with
 * SECRET_KEY), or why there is none. Seeding keeps these working while agents move; verify tests them.
 */
export type HandedOut = AgentCredential | "missing" | "undecryptable";

export async function regionCredentials(
    db: Client,
    regions: ReadonlyArray<string>,
    secretKey: string,
): Promise<Map<string, HandedOut>> {
    const { rows } = await db.query<{ region: string; key: string; value: string; type: string }>(
        `SELECT r.name AS region, e.key, e.value, e.type FROM node_mgmt_sidecarenv e
           JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id
          WHERE r.name = ANY($1::text[]) AND e.key IN ('NATS_USERNAME', 'NATS_PASSWORD')`,
        [regions],
    );
    const found = new Map<string, HandedOut>();
    for (const region of regions) {
        const user = rows.find((r) => r.region === region && r.key === "NATS_USERNAME")?.value;
        const stored = rows.find((r) => r.region === region && r.key === "NATS_PASSWORD");
        const password = stored ? storedPlaintext(stored, secretKey) : undefined;
        found.set(region, !user || !stored ? "missing" : password === undefined ? "undecryptable" : { user, password });
    }
    return found;
}

/** Writes the users of a plan where NATS runs, and says what it kept or refused. */
export async function writeAgentUsers(
    plan: AgentUsersPlan,
    run: RunBesideNats,
    files: NatsFiles,
    log: (line: string) => void,
): Promise<void> {
    const content = renderText(renderAgentUsers(plan.users), {});
    await run(writeUsersScript(files), Readable.from([content]));
    const agents = plan.users.length - 1;
    log(
        `NATS agents' users: ${agents} written` +
            (plan.kept.length ? `; kept until their regions are seeded: ${plan.kept.join(", ")}` : "") +
            (plan.refused.length ? `; never granted to agents: ${plan.refused.join(", ")}` : ""),
    );
}

/**
 * The agents' read-only copy of the package bucket, in their account: a mirror of BKLITE's stream through the
 * exported consumer API. It is made once (with the bucket, if the server has not made that yet); deletes are
 * refused on it, and no agent may write to it.
 */
export async function ensurePackageMirror(
    endpoint: { url: string; password: string; ca?: string },
    serverSide: NatsConnection,
    bucket: string,
): Promise<"made" | "present"> {
    await ObjectBucket.open(serverSide, bucket);
    const nc = await connectNats({ ...endpoint, user: NATS_AGENTS_ADMIN }, "bklite-seed-mirror");
    try {
        const jsm = await nc.jetstreamManager();
        const name = objectStream(bucket);
        const present = await jsm.streams.info(name).then(
            () => true,
            (err: Error) => {
                if (/stream not found/i.test(err.message)) {
                    return false;
                }
                throw err;
            },
        );
        if (present) {
            return "present";
        }
        await jsm.streams.add({
            name,
            storage: StorageType.File,
            num_replicas: 1,
            discard: DiscardPolicy.New,
            // The object store's meta messages roll up; a mirror that refused them would stop.
            allow_rollup_hdrs: true,
            allow_direct: true,
            deny_delete: true,
            mirror: {
                name,
                external: { api: MIRROR_API_PREFIX, deliver: `${MIRROR_DELIVER_PREFIX}.${name}` },
            },
        });
        return "made";
    } finally {
        await nc.close();
    }
}

/** An agent connected with a credential about to be dropped. */
export interface AgentConnection {
    user: string;
    address: string;
}

/** NATS's connections authenticated as one of `users` now, from its monitor (connz). */
export async function connectionsOf(
    users: ReadonlyArray<string>,
    run: RunBesideNats,
    files: NatsFiles,
): Promise<AgentConnection[]> {
    const url = `${files.monitorUrl}/connz?auth=true&limit=100000`;
    const out = await run(["sh", "-c", monitorGet(url)], Readable.from([]));
    const connz = JSON.parse(out) as { connections?: Array<{ authorized_user?: string; ip?: string; port?: number }> };
    return (connz.connections ?? [])
        .filter((c) => c.authorized_user !== undefined && users.includes(c.authorized_user))
        .map((c) => ({ user: c.authorized_user!, address: `${c.ip ?? "?"}:${c.port ?? "?"}` }));
}

/**
 * Waits, up to `graceMs`, until no agent is connected with a credential about to be dropped: bk-lite's sidecar
 * re-reads its collectors' configuration every 30 s, and the server caches a rendered configuration for 5 minutes,
 * so agents restart their collectors with the new credential within about 5.5 minutes of seeding. Returns the
 * connections still there when the grace ran out (they reconnect once their sidecar has the new configuration).
 */
export async function waitForRetired(
    users: ReadonlyArray<string>,
    target: { run: RunBesideNats; files: NatsFiles },
    options: { graceMs: number; pollMs: number; progressEveryMs: number; log: (line: string) => void },
): Promise<AgentConnection[]> {
    const deadline = Date.now() + options.graceMs;
    let said = 0;
    for (;;) {
        const left = await connectionsOf(users, target.run, target.files);
        if (left.length === 0 || Date.now() >= deadline) {
            return left;
        }
        if (Date.now() - said >= options.progressEveryMs) {
            said = Date.now();
            const seconds = Math.ceil((deadline - Date.now()) / 1000);
            options.log(
                `waiting for agents to move off ${users.join(", ")}: ${left.length} still connected with it (${left.map((c) => c.address).join(", ")}); their sidecars pick up the new credential within about 5.5 minutes; dropping it in ${seconds} s at the latest`,
            );
        }
        await new Promise((resolve) =>
            setTimeout(resolve, Math.min(options.pollMs, Math.max(deadline - Date.now(), 0))),
        );
    }
}
