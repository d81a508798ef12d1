/** The running program's config: the `bklite:*` keys Pulumi hands it, read once and validated. */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, CONFIG_NAMESPACE } from "./keys";
import { parseStackConfig, unusedSettings } from "./parse";
import { ConfigError } from "./problems";
import { stackNameProblem } from "./stackName";
import { StackFileValues } from "./stackFiles";
import { ConfigSource, StackConfig } from "./types";

/** The `bklite:*` keys of the running program's config. */
export function programConfigSource(): ConfigSource {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return {
        get: (key) => pulumi.runtime.getConfig(`${prefix}${key}`),
        // Exported by the SDK's runtime though missing from its typings: true for values the CLI decrypted.
        isSecret: (key) =>
            (pulumi.runtime as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret(`${prefix}${key}`),
        keys: () =>
            Object.keys(pulumi.runtime.allConfig())
                .filter((k) => k.startsWith(prefix))
                .map((k) => k.slice(prefix.length)),
        otherKeys: () => Object.keys(pulumi.runtime.allConfig()).filter((k) => !k.startsWith(prefix)),
    };
}

/**
 * The config as the program was given it, in the form the stack files give it to the CLI (namespaced keys to the
 * strings Pulumi hands over; secrets only named): how the program passes its config to `bklite backup`, whose one
 * parser then reads it as it reads Pulumi.<stack>.yaml. Sorted, so it is the same from run to run.
 */
export function configValuesOf(source: ConfigSource): StackFileValues {
    const values: Record<string, string> = {};
    const encrypted: string[] = [];
    for (const key of [...source.keys()].sort()) {
        const value = source.get(key);
        if (source.isSecret(key)) {
            encrypted.push(`${CONFIG_NAMESPACE}:${key}`);
        } else if (value !== undefined) {
            values[`${CONFIG_NAMESPACE}:${key}`] = value;
        }
    }
    return { values, encrypted };
}

/**
 * The keys the stack's own file sets. Pulumi hands the program Pulumi.yaml's declared defaults as if they were set,
 * so a key holding exactly its declared default counts as unset: nobody chose it.
 */
function keysSetByStack(source: ConfigSource): string[] {
    return source.keys().filter((key) => {
        const declared = CONFIG_KEYS[key]?.default;
        return declared === undefined || source.get(key) !== String(declared);
    });
}

/**
 * Reads and validates the running program's config; throws a ConfigError listing every problem. Settings the
 * runtime does not use are logged as warnings.
 */
export function readProgramConfig(
    source: ConfigSource = programConfigSource(),
    stack: string = pulumi.getStack(),
): StackConfig {
    const result = parseStackConfig(source);
    const badName = stackNameProblem(stack, "the stack's name");
    if (result.config === undefined || badName !== undefined) {
        throw new ConfigError([...(badName ? [badName] : []), ...result.problems]);
    }
    for (const warning of unusedSettings(result.config, keysSetByStack(source))) {
        void pulumi.log.warn(warning);
    }
    return result.config;
}
