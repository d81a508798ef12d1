/**
 * Node's TLS verification failures (OpenSSL's X509_V_ERR_* names as Node reports them): a certificate the client
 * cannot trust. None is transient; each means a CA, a certificate or a clock to fix.
 */
export const TLS_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
    "CERT_SIGNATURE_FAILURE",
    "CERT_UNTRUSTED",
    "CERT_REJECTED",
    "INVALID_CA",
    "ERR_TLS_CERT_ALTNAME_INVALID",
]);
