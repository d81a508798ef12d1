/**
 * Pulumi's special property values (sdk/go/common/apitype property-values.json): a signature key whose value
 * names the kind. Secrets carry `value` over gRPC and in mocks, `ciphertext` in state and exports, and
 * `plaintext` in exports made with --show-secrets.
 */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when the value is a secret in any of its encodings. */
export function isSecretWrapper(value: unknown): value is Record<string, unknown> {
    return !!value && typeof value === "object" && !Array.isArray(value) && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}
