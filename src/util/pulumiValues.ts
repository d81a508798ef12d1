/**
 * Pulumi's special property values (sdk/go/common/apitype property-values.json): a signature key whose value
 * names the kind. Secrets carry `value` over gRPC and in mocks, `ciphertext` in state and exports, and
 * `plaintext` in exports made with --show-secrets.
 */
import { isRecord } from "./json";

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when the value is a secret in any of its encodings. */
export function isSecretWrapper(value: unknown): value is Record<string, unknown> {
    return isRecord(value) && value[SIG_KEY] === SECRET_SIG;
}

/** Replaces every secret, in any encoding, with `replace(the secret's wrapper)`, recursively. */
export function mapSecrets(value: unknown, replace: (wrapper: Record<string, unknown>) => unknown): unknown {
    if (isSecretWrapper(value)) {
        return replace(value);
    }
    if (Array.isArray(value)) {
        return value.map((v) => mapSecrets(v, replace));
    }
    if (isRecord(value)) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSecrets(v, replace)]));
    }
    return value;
}

/** True when the value is, or contains, a secret. */
export function containsSecret(value: unknown): boolean {
    let found = false;
    mapSecrets(value, () => (found = true));
    return found;
}

/** Removes secret wrappers (gRPC and mock encoding: `value`), recursively. */
export function unwrapSecrets(value: unknown): unknown {
    return mapSecrets(value, (wrapper) => unwrapSecrets(wrapper.value));
}
