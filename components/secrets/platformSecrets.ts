import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CONFIG_NAMESPACE, DATA_BOUND_SECRETS, SECRET_KEYS, SecretName } from "../config/keys";

export interface PlatformSecretsArgs {
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
    /** Each secret by name, always marked secret. */
    public readonly values: Readonly<Record<SecretName, pulumi.Output<string>>>;

    constructor(name: string, args: PlatformSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bklite:index:PlatformSecrets", name, { providedSecrets: [...args.providedSecrets].sort() }, opts);
        const config = new pulumi.Config(CONFIG_NAMESPACE);
        const values = {} as Record<SecretName, pulumi.Output<string>>;
        for (const key of Object.keys(SECRET_KEYS) as SecretName[]) {
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
}
