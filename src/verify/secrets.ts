/**
 * The secrets and connections `bklite verify` uses: the seed's BKLITE_* variables, the two of its own, and the
 * stack's outputs (`pulumi stack output --json --show-secrets`) for the admin password and the CA when given.
 * Everything missing or malformed is reported at once, before anything is checked; no value is printed.
 */
import { InputError } from "../util/inputError";
import { isRecord } from "../util/json";
import { SEED_ENV, natsCaFromEnv, pgUrlProblem } from "../seed/connection";
import { VerifySecrets } from "./check";
import { VERIFY_SECRETS } from "./env";
import { VerifySpec } from "./spec";

export function verifySecretsFromEnv(env: NodeJS.ProcessEnv, spec: VerifySpec, outputs?: unknown): VerifySecrets {
    const problems: string[] = [];
    const fromOutputs = (key: string): string | undefined => {
        const value = isRecord(outputs) ? outputs[key] : undefined;
        if (value === "[secret]") {
            problems.push(
                `--outputs: ${key} is hidden; make the file with \`pulumi stack output --json --show-secrets\``,
            );
            return undefined;
        }
        return typeof value === "string" && value !== "" ? value : undefined;
    };
    const needed = [SEED_ENV.pgUrl, SEED_ENV.secretKey, SEED_ENV.natsUser, SEED_ENV.natsPassword];
    const missing: string[] = needed.filter((name) => !env[name]);
    const natsCa = natsCaFromEnv(env) ?? fromOutputs("natsCaCert");
    if (natsCa === undefined) {
        missing.push(`${SEED_ENV.natsCa} (or natsCaCert in --outputs)`);
    }
    const adminPassword = env[VERIFY_SECRETS.adminPassword] || fromOutputs("adminPassword");
    if (spec.login && adminPassword === undefined) {
        missing.push(`${VERIFY_SECRETS.adminPassword} (or adminPassword in --outputs)`);
    }
    const falkordbPassword = env[VERIFY_SECRETS.falkordbPassword] || undefined;
    if (spec.services.some((s) => s.probe.kind === "redis") && falkordbPassword === undefined) {
        missing.push(VERIFY_SECRETS.falkordbPassword);
    }
    if (missing.length > 0) {
        problems.unshift(
            `missing environment: ${missing.join(", ")} (secrets come from the environment or --outputs, never from arguments)`,
        );
    }
    const pgProblem = env[SEED_ENV.pgUrl] ? pgUrlProblem(env[SEED_ENV.pgUrl]!) : undefined;
    if (pgProblem !== undefined) {
        problems.push(`${SEED_ENV.pgUrl} ${pgProblem}: write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE`);
    }
    if (problems.length > 0) {
        throw new InputError(problems.join("\n"));
    }
    return {
        pgUrl: env[SEED_ENV.pgUrl]!,
        secretKey: env[SEED_ENV.secretKey]!,
        natsUser: env[SEED_ENV.natsUser]!,
        natsPassword: env[SEED_ENV.natsPassword]!,
        natsCa: natsCa!,
        bucket: env[SEED_ENV.bucket] || "bklite",
        ...(adminPassword !== undefined ? { adminPassword } : {}),
        ...(falkordbPassword !== undefined ? { falkordbPassword } : {}),
    };
}
