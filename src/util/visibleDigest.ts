import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * A digest of secret-holding text that may be shown (in state, previews and plans): HMAC-SHA256 keyed by a
 * secret, so nobody can test guesses of the secrets inside the text against it. Used for triggers and config
 * hashes, which must be visible for a reviewer to see that something re-runs or restarts.
 */
export function visibleDigest(key: pulumi.Input<string>, parts: pulumi.Input<string>[]): pulumi.Output<string> {
    return pulumi.unsecret(
        pulumi
            .all([key, ...parts])
            .apply(([k, ...texts]) => crypto.createHmac("sha256", k).update(JSON.stringify(texts)).digest("hex")),
    );
}
