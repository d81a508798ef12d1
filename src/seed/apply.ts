/**
 * `bklite seed apply`: makes bk-lite's database and object store hold what the spec says. Order: validate the
 * spec; wait for the server's migrations; take an advisory lock; detect the schema; plan every region, SidecarEnv
 * row and package (refusing conflicts before anything changes); upload and verify the objects that are missing;
 * then write every row in one transaction, rolled back whole on any error.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NatsConnection } from "nats";
import { Client } from "pg";
import { formatBytes } from "../supply/bundle";
import { connectNats } from "../nats/client";
import { WaitProgress, waitProgress } from "../util/waitProgress";
import { SEED_ENV, SeedConnection } from "./connection";
import { controllerWithCa } from "./controllerPackage";
import { djangoPasswordHash, uncheckableHash, verifyDjangoPassword } from "./djangoPassword";
import { ObjectBucket, fileDigest } from "./objectStore";
import {
    NatsFiles,
    RunBesideNats,
    ensurePackageMirror,
    regionCredentials,
    waitForRetired,
    writeAgentUsers,
} from "./agentUsers";
import { connectPostgres, readSchemaFacts } from "./postgres";
import { AgentCredential, planAgentUsers } from "../services/natsAgentUsers";
import {
    Counts,
    EnvWrite,
    ExistingEnv,
    PackageTarget,
    SchemaVariant,
    decidePackage,
    objectKey,
    packageTarget,
    diffEnv,
    diffRekey,
    zeroCounts,
} from "./diff";
import { TABLES, detectSchema } from "./schema";
import { SeedAdmin, SeedSpec } from "./spec";

export interface SeedSummary {
    schema: string;
    /** The console login: its password updated, already the stack's, or not in the spec. */
    admin?: "updated" | "unchanged" | "not managed";
    regions: Counts;
    sidecarEnv: Counts;
    packages: Counts;
    objects: { uploaded: number; unchanged: number };
    bytesSent: number;
    /** With --reencrypt: secret rows outside the spec re-encrypted from the previous key (the spec's own count as updated). */
    reencrypted?: number;
    /** The agents' NATS users: how many, the old credentials dropped once seeded, and the package mirror. */
    natsAgents?: { users: number; retired: string[]; mirror: "made" | "present" };
}

export interface ApplyOptions {
    force?: boolean;
    /** Rewrite secret values SECRET_KEY cannot decrypt (rotating it) instead of refusing them. */
    reencrypt?: boolean;
    /** How long to wait for the server's migrations to create the tables. */
    migrationTimeoutMs?: number;
    pollMs?: number;
    /** How often a wait says it is still waiting (30 s by default). */
    progressEveryMs?: number;
    /** Progress lines (stderr in the CLI). */
    log?: (line: string) => void;
    /**
     * Where NATS runs, to write the agents' users there (the CLI always gives it; tests without NATS do not), and how
     * long agents may keep using a credential their region no longer hands out before it is dropped.
     */
    natsAgents?: { run: RunBesideNats; files: NatsFiles; graceMs: number };
}

/** Arbitrary but fixed: every `bklite seed apply` on a database takes this advisory lock. */
const LOCK_KEY = 0x626b6c74; // "bklt"
const CREATED_BY = "system";

async function waitForTables(
    db: Client,
    deadline: number,
    pollMs: number,
    timeoutMs: number,
    progress: WaitProgress,
): Promise<void> {
    for (;;) {
        const { rows } = await db.query<{ missing: string[] }>(
            `SELECT array_agg(t) FILTER (WHERE to_regclass(t) IS NULL) AS missing FROM unnest($1::text[]) AS t`,
            [TABLES as unknown as string[]],
        );
        const missing = rows[0].missing ?? [];
        if (missing.length === 0) {
            return;
        }
        if (Date.now() >= deadline) {
            throw new Error(
                `bk-lite's tables ${missing.join(", ")} did not appear within ${Math.round(timeoutMs / 1000)} s: the server creates them with its migrations when it starts; check that it is running and look at its log (docker logs bklite-<stack>-server, or kubectl -n <namespace> logs deploy/server)`,
            );
        }
        progress.note(`the server's migrations to create ${missing.join(", ")}`);
        await new Promise((r) => setTimeout(r, pollMs));
    }
}

/**
 * Detects the schema, waiting while the server's migrations are still changing it: an unknown schema is refused
 * as soon as it stops changing (two polls alike), or at the deadline.
 */
async function waitForSchema(
    db: Client,
    deadline: number,
    pollMs: number,
    progress: WaitProgress,
): Promise<SchemaVariant> {
    let previous = "";
    for (;;) {
        const facts = await readSchemaFacts(db);
        try {
            return detectSchema(facts.columns, facts.uniques);
        } catch (err) {
            const signature = JSON.stringify(facts);
            if (signature === previous || Date.now() >= deadline) {
                throw err;
            }
            progress.note("the server's migrations to complete the schema (it is incomplete)");
            previous = signature;
        }
        await new Promise((r) => setTimeout(r, pollMs));
    }
}

/**
 * The advisory lock, polled rather than blocked on so the wait shows progress. No deadline: the other apply may be
 * in a long upload, and it ends one way or the other.
 */
async function takeLock(db: Client, pollMs: number, progress: WaitProgress): Promise<void> {
    for (;;) {
        const { rows } = await db.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_KEY]);
        if (rows[0].ok) {
            return;
        }
        progress.note("another bklite seed apply, which holds the lock, to finish");
        await new Promise((r) => setTimeout(r, pollMs));
    }
}

interface PackageWork {
    target: PackageTarget;
    key: string;
    digest: string;
    size: number;
    upload: boolean;
    row: "create" | "update" | "unchanged";
    rowId?: number;
}

/** Progress of an upload on stderr: bytes, total and rate, at most a few lines a second. */
function progressReporter(log: (line: string) => void, label: string, total: number): (bytes: number) => void {
    const started = Date.now();
    let last = 0;
    return (bytes) => {
        const now = Date.now();
        if (now - last < 500 && bytes < total) {
            return;
        }
        last = now;
        const seconds = Math.max((now - started) / 1000, 0.001);
        log(`uploading ${label}: ${formatBytes(bytes)} of ${formatBytes(total)} (${formatBytes(bytes / seconds)}/s)`);
    };
}

/** Applies a validated spec. Throws on any problem; writes nothing unless everything is ready to be written. */
export async function applySeed(
    spec: SeedSpec,
    conn: SeedConnection,
    options: ApplyOptions = {},
): Promise<SeedSummary> {
    const log = options.log ?? (() => undefined);
    const timeoutMs = options.migrationTimeoutMs ?? 15 * 60 * 1000;
    const pollMs = options.pollMs ?? 2000;
    const deadline = Date.now() + timeoutMs;
    checkPackageFiles(spec, conn);
    // Controller zips are uploaded as copies holding the stack's CA, made here and removed at the end.
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), "bklite-seed-"));
    const progress = (): WaitProgress => waitProgress(log, options.progressEveryMs);
    const db = await connectPostgres(conn.pgUrl, deadline, pollMs, progress(), log).catch((e) => {
        fs.rmSync(staging, { recursive: true, force: true });
        throw e;
    });
    let locked = false;
    let nc: NatsConnection | undefined;
    try {
        await waitForTables(db, deadline, pollMs, timeoutMs, progress());
        await takeLock(db, pollMs, progress());
        locked = true;
        const schema = await waitForSchema(db, deadline, pollMs, progress());
        log(`schema: ${schema.name}`);
        const regions = await diffRegions(db, spec, schema, conn, options);
        const summary = initialSummary(schema, regions, options);
        let bucket: ObjectBucket | undefined;
        if (spec.packages.length > 0) {
            // An upload must not stall across a server restart: it fails, and the next run finishes it.
            const endpoint = { url: conn.natsUrl, user: conn.natsUser, password: conn.natsPassword, ca: conn.natsCa };
            nc = await connectNats(endpoint, "bklite-seed");
            bucket = await ObjectBucket.open(nc, conn.bucket);
        }
        const work = await diffPackages(
            db,
            spec,
            schema,
            bucket,
            { conn, staging, force: options.force ?? false },
            regions.refusals,
        );
        // The console login: the server created the user with its own password; give it the stack's.
        const admin = spec.admin ? await planAdmin(db, spec.admin, regions.refusals, log) : undefined;
        summary.admin = admin ? (admin.hash ? "updated" : "unchanged") : "not managed";
        if (regions.refusals.length > 0) {
            throw new Error(`refused; nothing was written:\n${regions.refusals.map((r) => `  - ${r}`).join("\n")}`);
        }
        const agents = options.natsAgents
            ? await beforeSidecarEnv(db, spec, conn, { ...options.natsAgents, nc }, log)
            : undefined;
        nc = agents?.nc ?? nc;
        await uploadObjects(bucket, work, summary, log);
        await writeRows(db, { regions, work, admin, schema }, summary);
        if (agents && options.natsAgents) {
            summary.natsAgents = await afterSidecarEnv(agents, options.natsAgents, { ...options, pollMs }, log);
        }
        return summary;
    } finally {
        if (locked) {
            await db.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
        }
        await db.end().catch(() => undefined);
        await nc?.close().catch(() => undefined);
        fs.rmSync(staging, { recursive: true, force: true });
    }
}

/**
 * Before the SidecarEnv changes: NATS accepts the regions' own users and, with an agent's rights, what they hand out
 * now; the agents' package mirror exists.
 */
async function beforeSidecarEnv(
    db: Client,
    spec: SeedSpec,
    conn: SeedConnection,
    target: { run: RunBesideNats; files: NatsFiles; nc?: NatsConnection },
    log: (line: string) => void,
) {
    const regions = spec.regions.map((r) => ({ user: r.env.NATS_USERNAME ?? "", password: r.env.NATS_PASSWORD ?? "" }));
    const handedOut: AgentCredential[] = [];
    for (const [region, credential] of await regionCredentials(
        db,
        spec.regions.map((r) => r.name),
        conn.secretKey,
    )) {
        if (typeof credential !== "string") {
            handedOut.push(credential);
        } else if (credential === "undecryptable") {
            log(
                `region ${region}: its NATS_PASSWORD does not decrypt with SECRET_KEY; its agents' old credential is not kept`,
            );
        }
    }
    const plan = (given: AgentCredential[]) =>
        planAgentUsers({ serverPassword: conn.natsPassword, regions, handedOut: given, bucket: conn.bucket });
    const plans = { during: plan(handedOut), after: plan([]) };
    await writeAgentUsers(plans.during, target.run, target.files, log);
    const endpoint = { url: conn.natsUrl, user: conn.natsUser, password: conn.natsPassword, ca: conn.natsCa };
    const nc = target.nc ?? (await connectNats(endpoint, "bklite-seed"));
    const mirror = await ensurePackageMirror(endpoint, nc, conn.bucket);
    log(`agents' package mirror: ${mirror}`);
    return { plans, mirror, nc };
}

/**
 * Once the SidecarEnv is written: the credentials no region hands out any more are dropped, when no agent is
 * connected with them or the grace is over.
 */
async function afterSidecarEnv(
    agents: Awaited<ReturnType<typeof beforeSidecarEnv>>,
    target: { run: RunBesideNats; files: NatsFiles; graceMs: number },
    options: { pollMs: number; progressEveryMs?: number },
    log: (line: string) => void,
): Promise<NonNullable<SeedSummary["natsAgents"]>> {
    const retired = agents.plans.during.kept;
    const stragglers = retired.length
        ? await waitForRetired(retired, target, {
              graceMs: target.graceMs,
              pollMs: options.pollMs,
              progressEveryMs: options.progressEveryMs ?? 30000,
              log,
          })
        : [];
    if (stragglers.length > 0) {
        log(
            `dropping ${retired.join(", ")} with ${stragglers.length} agents still connected (${stragglers.map((c) => c.address).join(", ")}): they reconnect once their sidecar has the new configuration; restart a sidecar that does not`,
        );
    }
    await writeAgentUsers(agents.plans.after, target.run, target.files, log);
    return { users: agents.plans.after.users.length - 1, retired, mirror: agents.mirror };
}

/** Package files are read before anything else: a missing file is a spec problem. */
function checkPackageFiles(spec: SeedSpec, conn: SeedConnection): void {
    for (const pkg of spec.packages) {
        if (!fs.existsSync(pkg.file) || !fs.statSync(pkg.file).isFile()) {
            throw new Error(`package file ${pkg.file} does not exist; nothing was written`);
        }
    }
    if (spec.packages.some((p) => p.type === "controller") && !conn.natsCa) {
        throw new Error(
            `${SEED_ENV.natsCa} is required: a controller package is uploaded with the stack's NATS CA in it; nothing was written`,
        );
    }
}

/** What the regions and their SidecarEnv need, from what is there; `refusals` gathers every refusal of the run. */
interface RegionsDiff {
    regionIds: Map<string, number>;
    toCreate: string[];
    env: ReturnType<typeof diffEnv>;
    rekey: ReturnType<typeof diffRekey>;
    refusals: string[];
}

async function diffRegions(
    db: Client,
    spec: SeedSpec,
    schema: SchemaVariant,
    conn: SeedConnection,
    options: ApplyOptions,
): Promise<RegionsDiff> {
    const names = spec.regions.map((r) => r.name);
    const { rows: regionRows } = await db.query<{ id: string; name: string }>(
        "SELECT id, name FROM node_mgmt_cloudregion WHERE name = ANY($1::text[])",
        [names],
    );
    const regionIds = new Map(regionRows.map((r) => [r.name, Number(r.id)]));
    const { rows: envRows } = await db.query<{ id: string; key: string; value: string; type: string; region: string }>(
        `SELECT e.id, e.key, e.value, e.type, r.name AS region FROM node_mgmt_sidecarenv e
           JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id WHERE r.name = ANY($1::text[])`,
        [names],
    );
    const existing = new Map<string, ExistingEnv[]>();
    for (const row of envRows) {
        const stored = { id: Number(row.id), key: row.key, value: row.value, type: row.type };
        existing.set(row.region, [...(existing.get(row.region) ?? []), stored]);
    }
    const env = diffEnv(spec.regions, existing, schema, conn.secretKey);
    // Every secret row, in any region: one that SECRET_KEY cannot read means the key is wrong, or being rotated.
    const { rows: secretRows } = await db.query<{ id: string; key: string; value: string; region: string }>(
        `SELECT e.id, e.key, e.value, r.name AS region FROM node_mgmt_sidecarenv e
           JOIN node_mgmt_cloudregion r ON r.id = e.cloud_region_id WHERE e.type = 'secret' ORDER BY r.name, e.key, e.id`,
    );
    const rekey = diffRekey(
        secretRows.map((r) => ({ ...r, id: Number(r.id) })),
        spec.regions,
        { secretKey: conn.secretKey, previousSecretKey: conn.previousSecretKey, reencrypt: options.reencrypt ?? false },
    );
    const toCreate = names.filter((n) => !regionIds.has(n));
    return { regionIds, toCreate, env, rekey, refusals: [...env.problems, ...rekey.problems] };
}

function initialSummary(schema: SchemaVariant, regions: RegionsDiff, options: ApplyOptions): SeedSummary {
    const given = regions.regionIds.size + regions.toCreate.length;
    return {
        schema: schema.name,
        regions: { created: regions.toCreate.length, updated: 0, unchanged: given - regions.toCreate.length },
        sidecarEnv: regions.env.counts,
        packages: zeroCounts(),
        objects: { uploaded: 0, unchanged: 0 },
        bytesSent: 0,
        ...(options.reencrypt ? { reencrypted: regions.rekey.writes.length } : {}),
    };
}

/** Decides every package's object and row before a byte is sent; a refused one is added to `refusals`. */
async function diffPackages(
    db: Client,
    spec: SeedSpec,
    schema: SchemaVariant,
    bucket: ObjectBucket | undefined,
    run: { conn: SeedConnection; staging: string; force: boolean },
    refusals: string[],
): Promise<PackageWork[]> {
    const work: PackageWork[] = [];
    for (const pkg of spec.packages) {
        const file = pkg.type === "controller" ? controllerWithCa(pkg.file, run.conn.natsCa!, run.staging) : pkg.file;
        const size = fs.statSync(file).size;
        const digest = await fileDigest(file);
        const target = packageTarget(pkg, file);
        const where = schema.packageArchitecture
            ? {
                  sql: "os = $1 AND object = $2 AND version = $3 AND cpu_architecture = $4",
                  args: [target.os, target.object, target.version, target.cpuArchitecture],
              }
            : { sql: "os = $1 AND object = $2 AND version = $3", args: [target.os, target.object, target.version] };
        const { rows } = await db.query<{ id: string; name: string }>(
            `SELECT id, name FROM node_mgmt_packageversion WHERE ${where.sql}`,
            where.args,
        );
        const key = objectKey(target, schema);
        const object = await bucket!.info(key);
        const decision = decidePackage({
            row: rows[0],
            objectDigest: object?.digest,
            localDigest: digest,
            name: path.basename(pkg.file),
            force: run.force,
        });
        if ("refuse" in decision) {
            refusals.push(`package ${target.os}/${target.object} ${target.version}: ${decision.refuse}`);
            continue;
        }
        const rowId = rows[0] ? Number(rows[0].id) : undefined;
        work.push({ target, key, digest, size, upload: decision.upload, row: decision.row, rowId });
    }
    return work;
}

/** Objects first: a row is written only for an object that is stored and verified. */
async function uploadObjects(
    bucket: ObjectBucket | undefined,
    work: ReadonlyArray<PackageWork>,
    summary: SeedSummary,
    log: (line: string) => void,
): Promise<void> {
    for (const item of work) {
        if (!item.upload) {
            summary.objects.unchanged++;
            continue;
        }
        let info;
        try {
            info = await bucket!.put(item.key, item.target.file, {
                description: item.target.name,
                onProgress: progressReporter(log, item.key, item.size),
            });
        } catch (err) {
            throw new Error(
                `uploading ${item.key} failed (${(err as Error).message}); no row was written for it, and a re-run uploads it again`,
                { cause: err },
            );
        }
        const readBack = await bucket!.readDigest(info);
        if (info.digest !== item.digest || readBack.digest !== item.digest || readBack.size !== item.size) {
            throw new Error(
                `object ${item.key} does not read back as the file (${readBack.digest}, ${readBack.size} bytes; expected ${item.digest}, ${item.size} bytes); no row was written`,
            );
        }
        summary.objects.uploaded++;
        summary.bytesSent += item.size;
        log(`stored ${item.key} (${formatBytes(item.size)}, ${item.digest})`);
    }
}

/** Every row in one transaction, rolled back whole on any error. */
async function writeRows(
    db: Client,
    plan: {
        regions: RegionsDiff;
        work: ReadonlyArray<PackageWork>;
        admin?: { id: number; hash?: string };
        schema: SchemaVariant;
    },
    summary: SeedSummary,
): Promise<void> {
    await db.query("BEGIN");
    try {
        await createRegions(db, plan.regions, plan.schema);
        for (const write of [...plan.regions.env.writes, ...plan.regions.rekey.writes]) {
            await writeEnv(db, write, plan.regions.regionIds.get(write.region)!);
        }
        for (const item of plan.work) {
            await writePackageRow(db, item, plan.schema);
            summary.packages[item.row === "create" ? "created" : item.row === "update" ? "updated" : "unchanged"]++;
        }
        if (plan.admin?.hash) {
            await db.query("UPDATE system_mgmt_user SET password = $1 WHERE id = $2", [plan.admin.hash, plan.admin.id]);
        }
        await db.query("COMMIT");
    } catch (err) {
        await db.query("ROLLBACK").catch(() => undefined);
        throw new Error(`writing to the database failed and everything was rolled back: ${(err as Error).message}`, {
            cause: err,
        });
    }
}

/** The regions the spec names that do not exist yet, `default` first (region 1 to bk-lite, when still free). */
async function createRegions(db: Client, regions: RegionsDiff, schema: SchemaVariant): Promise<void> {
    if (regions.toCreate.length > 0) {
        // Django's node_init creates `default` with an explicit id 1, which does not advance the identity sequence;
        // without this, the next region would be handed id 1 again.
        await db.query(
            "SELECT setval(pg_get_serial_sequence('node_mgmt_cloudregion', 'id'), GREATEST((SELECT max(id) FROM node_mgmt_cloudregion), 1))",
        );
    }
    for (const name of [...regions.toCreate].sort((a, b) => Number(b === "default") - Number(a === "default"))) {
        const idFree =
            name === "default" && (await db.query("SELECT 1 FROM node_mgmt_cloudregion WHERE id = 1")).rowCount === 0;
        const { rows } = await insert(
            db,
            "node_mgmt_cloudregion",
            {
                ...(idFree ? { id: 1 } : {}),
                name,
                introduction: name === "default" ? "default cloud region!" : "managed by bklite-infra",
                ...timestamps(),
                ...(schema.regionProxy ? { proxy_address: "" } : {}),
            },
            "id",
        );
        regions.regionIds.set(name, Number(rows[0].id));
        if (idFree) {
            await db.query(
                "SELECT setval(pg_get_serial_sequence('node_mgmt_cloudregion', 'id'), (SELECT max(id) FROM node_mgmt_cloudregion))",
            );
        }
    }
}

/** Where the console's users live, and the realm its login checks (bk-lite's default domain). */
const USER_TABLE = "system_mgmt_user";
const LOGIN_DOMAIN = "domain.com";

/**
 * The console user's row, and the new hash to write when its stored one does not verify against the password (a
 * hash that already verifies is left alone, so a re-run changes nothing). A missing table or user is a refusal.
 */
async function planAdmin(
    db: Client,
    admin: SeedAdmin,
    refusals: string[],
    log: (line: string) => void,
): Promise<{ id: number; hash?: string } | undefined> {
    const { rows: tables } = await db.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
        [USER_TABLE],
    );
    if (tables.length === 0) {
        refusals.push(
            `console user ${admin.username}: the table ${USER_TABLE} does not exist; the server creates it when system_mgmt is installed`,
        );
        return undefined;
    }
    const { rows } = await db.query<{ id: string; password: string }>(
        `SELECT id, password FROM ${USER_TABLE} WHERE username = $1 AND domain = $2`,
        [admin.username, LOGIN_DOMAIN],
    );
    if (rows.length === 0) {
        refusals.push(
            `console user ${admin.username}: the server has not created it (its startup runs create_user ${admin.username}); check the server's log, then apply again`,
        );
        return undefined;
    }
    const id = Number(rows[0].id);
    const uncheckable = uncheckableHash(rows[0].password);
    if (uncheckable) {
        log(
            `console user ${admin.username}: its stored password hash is refused unchecked (${uncheckable}); it is replaced`,
        );
    }
    return verifyDjangoPassword(admin.password, rows[0].password)
        ? { id }
        : { id, hash: djangoPasswordHash(admin.password) };
}

/** Marks a column to be set to the database's `now()`. */
const NOW = Symbol("now()");

/** The columns bk-lite's TimeInfo and MaintainerInfo mixins require (NOT NULL, no database default). */
function timestamps(): Record<string, unknown> {
    return {
        created_at: NOW,
        updated_at: NOW,
        created_by: CREATED_BY,
        updated_by: CREATED_BY,
        domain: "domain.com",
        updated_by_domain: "domain.com",
    };
}

/** INSERT of one row; every value is a parameter except NOW. Table names come from this file, never from input. */
function insert(db: Client, table: string, row: Record<string, unknown>, returning?: string) {
    const params: unknown[] = [];
    const columns = Object.keys(row);
    const values = columns.map((c) => (row[c] === NOW ? "now()" : `$${params.push(row[c])}`));
    return db.query<{ id: string }>(
        `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${values.join(", ")})${returning ? ` RETURNING ${returning}` : ""}`,
        params,
    );
}

async function writeEnv(db: Client, write: EnvWrite, regionId: number): Promise<void> {
    if (write.action === "update") {
        await db.query("UPDATE node_mgmt_sidecarenv SET value = $1, type = $2 WHERE id = $3", [
            write.stored,
            write.type,
            write.id,
        ]);
    } else {
        // As node_init seeds them: preset (is_pre), no description.
        await insert(db, "node_mgmt_sidecarenv", {
            key: write.key,
            value: write.stored,
            description: "",
            cloud_region_id: regionId,
            type: write.type,
            is_pre: true,
        });
    }
}

async function writePackageRow(db: Client, item: PackageWork, schema: SchemaVariant): Promise<void> {
    const t = item.target;
    if (item.row === "update") {
        await db.query(
            "UPDATE node_mgmt_packageversion SET name = $1, updated_at = now(), updated_by = $2 WHERE id = $3",
            [t.name, CREATED_BY, item.rowId],
        );
    } else if (item.row === "create") {
        // As controller_package_init writes them: created by "system", empty description.
        await insert(db, "node_mgmt_packageversion", {
            type: t.type,
            os: t.os,
            object: t.object,
            version: t.version,
            name: t.name,
            description: "",
            ...timestamps(),
            ...(schema.packageArchitecture ? { cpu_architecture: t.cpuArchitecture } : {}),
        });
    }
}
