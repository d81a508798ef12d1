/**
 * The variables `bklite verify` reads besides the seed's connection (src/seed/connection.ts). A module of
 * its own, free of imports, so the CLI's help names them without loading the checks.
 */
export const VERIFY_SECRETS = {
    adminPassword: "BKLITE_ADMIN_PASSWORD",
    falkordbPassword: "BKLITE_FALKORDB_PASSWORD",
} as const;

export const VERIFY_SECRETS_HELP: Record<(typeof VERIFY_SECRETS)[keyof typeof VERIFY_SECRETS], string> = {
    BKLITE_ADMIN_PASSWORD:
        "the console's admin password (or adminPassword from --outputs; needed when system_mgmt is installed)",
    BKLITE_FALKORDB_PASSWORD: "FalkorDB's password (needed when cmdb is installed)",
};
