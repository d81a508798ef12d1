/**
 * The secrets given in config (every other one is generated): held as Pulumi secrets, never in plaintext, and made
 * of characters that go unescaped into URLs and config files.
 */
import { CONFIG_NAMESPACE, SECRET_KEYS, SecretName } from "../keys";
import { AddProblem } from "../problems";
import { RawConfig } from "../raw";

/** Characters a given secret may use: they go into URLs and config files unescaped. */
const SECRET_CHARS = /^[A-Za-z0-9._~-]+$/;
const SECRET_MIN_LENGTH = 16;

/** The secrets given; each one refused is said (without its value) and left to be generated. */
export function parseSecrets(raw: RawConfig, add: AddProblem): SecretName[] {
    const provided: SecretName[] = [];
    const encrypted = raw.encrypted();
    for (const key of Object.keys(SECRET_KEYS) as SecretName[]) {
        if (encrypted.has(key)) {
            provided.push(key);
            continue;
        }
        const value = raw.text(key);
        if (value === undefined || value === "") {
            continue;
        }
        if (!raw.isSecret(key)) {
            add(
                key,
                `(not shown) is stored in plaintext in the stack file; remove it and set it from standard input, \`pulumi config set --secret ${CONFIG_NAMESPACE}:${key} < FILE\` (never on the command line, where \`ps\` shows it), or remove it to have one generated`,
            );
        } else if (value.length < SECRET_MIN_LENGTH || !SECRET_CHARS.test(value)) {
            add(
                key,
                `(secret, not shown) must be at least ${SECRET_MIN_LENGTH} characters of A-Z a-z 0-9 . _ ~ - (it is used unescaped in URLs and config files); ` +
                    `set a new one with \`pulumi config set --secret ${CONFIG_NAMESPACE}:${key}\`, or remove it to have one generated`,
            );
        } else {
            provided.push(key);
        }
    }
    checkRotation(raw, provided, add);
    return provided;
}

/** Rotating SECRET_KEY: the new one is given, and differs from the one before (when both can be read). */
function checkRotation(raw: RawConfig, provided: ReadonlyArray<SecretName>, add: AddProblem): void {
    if (!provided.includes("previousSecretKey")) {
        return;
    }
    if (!provided.includes("secretKey")) {
        add(
            "previousSecretKey",
            "(secret, not shown) is set but bklite:secretKey is not: a rotation sets the new key from standard input, `openssl rand -hex 24 | pulumi config set --secret bklite:secretKey`; remove previousSecretKey if no rotation is meant",
        );
    } else if (raw.text("previousSecretKey") !== undefined && raw.text("previousSecretKey") === raw.text("secretKey")) {
        add(
            "previousSecretKey",
            "(secret, not shown) is the same as bklite:secretKey: it must be the key before the rotation; remove it once a rotation is done",
        );
    }
}
