import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CONFIG_NAMESPACE, DATA_BOUND_SECRETS, SECRET_KEYS, SecretName } from "../config/keys";

export interface PlatformSecretsArgs {
    /** The secrets the stack needs (its core ones and its services'). */
    secrets: SecretName[];
    /** Secrets given in config (validated); every other one is generated. */
    providedSecrets: SecretName[];
}

/** Length of generated secrets: alphanumeric, so they fit unescaped in URLs and config files. */
const GENERATED_LENGTH = 32;

/**
 * The platform's secrets: read from secret config when given, otherwise generated once with @pulumi/random
 * and kept in state, so re-running `pulumi up` keeps them. Every value is a Pulumi secret. Generated secrets the
 * retained data depends on are protected: `pulumi destroy --exclude-protected` keeps them for the next `up`.
 */
export class PlatformSecrets extends pulumi.ComponentResource {
    /** Each secret the stack needs, by name, always marked secret. */
    public readonly values: Readonly<Partial<Record<SecretName, pulumi.Output<string>>>>;

    constructor(name: string, args: PlatformSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "bklite:index:PlatformSecrets",
            name,
            { secrets: [...args.secrets].sort(), providedSecrets: [...args.providedSecrets].sort() },
            opts,
        );
        const config = new pulumi.Config(CONFIG_NAMESPACE);
        const values: Partial<Record<SecretName, pulumi.Output<string>>> = {};
        // In SECRET_KEYS order, so resources register in the same order whatever order `secrets` comes in.
        for (const key of (Object.keys(SECRET_KEYS) as SecretName[]).filter((k) => args.secrets.includes(k))) {
            if (args.providedSecrets.includes(key)) {
                values[key] = pulumi.secret(config.requireSecret(key));
            } else {
                const generated = new random.RandomPassword(
                    `${name}-${key}`,
                    { length: GENERATED_LENGTH, special: false },
                    { parent: this, protect: DATA_BOUND_SECRETS.includes(key) },
                );
                values[key] = pulumi.secret(generated.result);
            }
        }
        this.values = values;
        this.registerOutputs({});
    }

    /** One secret the stack needs; asking for one it does not need is a programming error. */
    public value(key: SecretName): pulumi.Output<string> {
        const value = this.values[key];
        if (value === undefined) {
            throw new Error(`secret ${key} is not among the stack's secrets`);
        }
        return value;
    }
}
