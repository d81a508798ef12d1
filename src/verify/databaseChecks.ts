/**
 * What seeding wrote, read back as the server reads it: each region with all six SidecarEnv keys equal to the
 * spec's (the NATS password decrypting with SECRET_KEY to the agents' password) and a NODE_SERVER_URL that answers
 * from here; each probe package with its row and an object whose SHA-256 is the file's (the controller zip's with
 * the stack's CA in it, as seeding uploads it).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { REQUIRED_REGION_KEYS } from "../services/regions";
import { controllerWithCa } from "../seed/controllerPackage";
import { ObjectBucket, fileDigest } from "../seed/objectStore";
import { objectKey, packageTarget, storedPlaintext } from "../seed/diff";
import { readSchemaFacts } from "../seed/postgres";
import { detectSchema } from "../seed/schema";
import { SeedPackage } from "../seed/spec";
import { connectNats } from "../nats/client";
import { Check, CheckContext, fail, ok, reason } from "./check";

const RESEED = "seeding writes it: run `pulumi up` (or `bklite seed apply` with the stack's spec)";

/** bk-lite's database for a check, closed when the check ends. */
export async function database(context: CheckContext): Promise<Client> {
    const db = new Client({ connectionString: context.secrets.pgUrl, connectionTimeoutMillis: 10000 });
    db.on("error", () => undefined);
    context.defer(() => db.end().catch(() => undefined));
    await db.connect();
    return db;
}

/** Whether a URL answers HTTP from here (any status: the point is that it is reachable). */
async function answers(context: CheckContext, url: string): Promise<string | undefined> {
    try {
        const response = await fetch(`${url.replace(/\/$/, "")}/`, { signal: context.signal, redirect: "manual" });
        await response.arrayBuffer();
        return undefined;
    } catch (err) {
        return reason(err);
    }
}

export function regionChecks(regions: ReadonlyArray<{ name: string; env: Record<string, string> }>): Check[] {
    return regions.map((region) => ({
        name: `region ${region.name}`,
        async run(context) {
            const expected = `all ${REQUIRED_REGION_KEYS.length} keys as seeded; NATS_PASSWORD decrypting, and not the server side's; NODE_SERVER_URL ${region.env.NODE_SERVER_URL} answering`;
            try {
                const db = await database(context);
                const { rows } = await db.query<{ key: string; value: string; type: string }>(
                    `SELECT e.key, e.value, e.type FROM node_mgmt_cloudregion r LEFT JOIN node_mgmt_sidecarenv e ON e.cloud_region_id = r.id WHERE r.name = $1`,
                    [region.name],
                );
                if (rows.length === 0) {
                    return fail(expected, "the region does not exist", `${RESEED}; it must be in bklite:regions`);
                }
                const stored = new Map(rows.filter((r) => r.key !== null).map((r) => [r.key, r]));
                const problems: string[] = [];
                for (const key of REQUIRED_REGION_KEYS) {
                    const row = stored.get(key);
                    const want = region.env[key];
                    if (row === undefined) {
                        problems.push(`${key} missing`);
                    } else if (key === "NATS_PASSWORD") {
                        // Whether NATS takes it is the agent rights check's to say.
                        const plain = storedPlaintext(row, context.secrets.secretKey);
                        if (row.type !== "secret" || plain === undefined) {
                            problems.push("NATS_PASSWORD does not decrypt with SECRET_KEY");
                        } else if (plain === context.secrets.natsPassword) {
                            problems.push(
                                "NATS_PASSWORD is the server side's NATS password, which agents must never hold",
                            );
                        }
                    } else if (row.value !== want) {
                        problems.push(`${key} is ${JSON.stringify(row.value)}, not ${JSON.stringify(want)}`);
                    }
                }
                const url = stored.get("NODE_SERVER_URL")?.value;
                if (url !== undefined && url === region.env.NODE_SERVER_URL) {
                    const unreachable = await answers(context, url);
                    if (unreachable !== undefined) {
                        problems.push(`NODE_SERVER_URL ${url} does not answer from here: ${unreachable}`);
                    }
                }
                return problems.length === 0
                    ? ok(expected, `${REQUIRED_REGION_KEYS.length} keys as seeded; NODE_SERVER_URL answers`)
                    : fail(
                          expected,
                          problems.join("; "),
                          `${RESEED}; a region's addresses come from bklite:regions (nodeServerUrl, env) and bklite:hostAddress`,
                      );
            } catch (err) {
                return fail(expected, reason(err), "check BKLITE_PG_URL and that PostgreSQL is running");
            }
        },
    }));
}

export function packageChecks(packages: ReadonlyArray<SeedPackage>): Check[] {
    if (packages.length === 0) {
        return [
            {
                name: "packages",
                run: async () => ({
                    status: "warn",
                    expected: "the controller package and collectors, so the console can install agents",
                    found: "none configured",
                    fix: "list the controller zip (and collectors) in bklite:probePackages; without them remote installs have nothing to install",
                }),
            },
        ];
    }
    return packages.map((pkg) => ({
        name: `package ${pkg.os}/${pkg.object} ${pkg.version}`,
        async run(context) {
            const expected = `its row, and an object whose SHA-256 is ${pkg.type === "controller" ? "the zip's with the stack's CA in it" : "the file's"}`;
            try {
                const staging = fs.mkdtempSync(path.join(os.tmpdir(), "bklite-verify-"));
                context.defer(() => fs.rmSync(staging, { recursive: true, force: true }));
                const file =
                    pkg.type === "controller" ? controllerWithCa(pkg.file, context.secrets.natsCa, staging) : pkg.file;
                const digest = await fileDigest(file);
                const db = await database(context);
                const facts = await readSchemaFacts(db);
                const schema = detectSchema(facts.columns, facts.uniques);
                const target = packageTarget(pkg, file);
                const where = schema.packageArchitecture
                    ? {
                          sql: "os = $1 AND object = $2 AND version = $3 AND cpu_architecture = $4",
                          args: [target.os, target.object, target.version, target.cpuArchitecture],
                      }
                    : {
                          sql: "os = $1 AND object = $2 AND version = $3",
                          args: [target.os, target.object, target.version],
                      };
                const { rows } = await db.query<{ name: string }>(
                    `SELECT name FROM node_mgmt_packageversion WHERE ${where.sql}`,
                    where.args,
                );
                const nc = await connectNats(
                    {
                        url: context.spec.natsEndpoint,
                        user: context.secrets.natsUser,
                        password: context.secrets.natsPassword,
                        ca: context.secrets.natsCa,
                    },
                    "bklite-verify-packages",
                );
                context.defer(() => nc.close());
                const bucket = await ObjectBucket.find(nc, context.secrets.bucket);
                const key = objectKey(target, schema);
                const object = bucket && (await bucket.info(key));
                const problems = [
                    ...(rows.length === 0
                        ? ["no package row"]
                        : rows[0].name !== target.name
                          ? [`the row names ${rows[0].name}`]
                          : []),
                    ...(bucket === undefined
                        ? [`no object store bucket ${context.secrets.bucket}`]
                        : object === undefined
                          ? [`no object ${key}`]
                          : object.digest !== digest
                            ? [`object ${key} is ${object.digest}, not ${digest}`]
                            : []),
                ];
                return problems.length === 0
                    ? ok(expected, `row and object ${key} (${digest})`)
                    : fail(expected, problems.join("; "), `${RESEED}; the file is bklite:probePackages' ${pkg.file}`);
            } catch (err) {
                return fail(expected, reason(err), "check the package file, BKLITE_PG_URL and the NATS connection");
            }
        },
    }));
}
