// The bklite program: read and validate the stack config, build the platform, export what operators and
// agents need. Everything else lives in src/.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, configValuesOf, programConfigSource, readProgramConfig } from "./src/config";
import { renderingPlan } from "./src/plan/mode";
import { BkLitePlatform } from "./src/platform/platform";

const configSource = programConfigSource();

function loadConfig() {
    try {
        return readProgramConfig(configSource);
    } catch (err) {
        // A RunError prints just the message: the list of problems, without a stack trace.
        throw err instanceof ConfigError ? new pulumi.RunError(err.message) : err;
    }
}

const platform = new BkLitePlatform("bklite", {
    stack: pulumi.getStack(),
    config: loadConfig(),
    configValues: configValuesOf(configSource),
    inspectHost: !renderingPlan(),
});

/** URL of the web console. */
export const consoleUrl = platform.consoleUrl;
/** NATS endpoint for agents (TLS). */
export const natsEndpoint = platform.natsEndpoint;
/** CA certificate agents use to verify NATS. */
export const natsCaCert = platform.natsCaCert;
/** Console admin login. */
export const adminUser = platform.adminUser;
export const adminPassword = platform.adminPassword;
/** Image refs the stack runs: what must be on the host or in the image bundle. */
export const images = platform.images;
/** Data volumes kept when the stack is destroyed. */
export const dataVolumes = platform.dataVolumes;
/** What the last seeding did: created, updated and unchanged regions, SidecarEnv rows and packages. */
export const seedSummary = platform.seedSummary;
/** Which ports to open, from where: for the cloud security group or upstream firewall. */
export const securityRules = platform.securityRules;
/**
 * The BKLITE_* variables operators' commands connect with (secret): `bklite verify --stack S` and the others read it
 * through `pulumi stack output operatorEnvironment --json --show-secrets` when the variables are not set.
 */
export const operatorEnvironment = platform.operatorEnvironment;
