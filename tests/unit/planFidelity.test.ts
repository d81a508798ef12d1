/**
 * The plans of the committed stacks, and of variants that reach every branch of the program (Kubernetes behind node
 * ports and load balancers, the cluster's own ingress, a registry's credentials, every app, secrets given), against
 * the plans recorded in tests/fixtures/plans/. A restructuring must leave them byte for byte as they were: the same
 * resources under the same URNs with the same inputs, so no deployed stack sees a change. A change that is meant to
 * alter a plan records the new ones (`npm run plans:record`) and the diff shows in review.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { diffMarkdown, diffPlans } from "../../src/plan/diff";
import { stableJson } from "../../src/util/json";
import { Plan, planStack } from "../../src/plan/planStack";
import { PROJECT_ROOT } from "../../src/util/shell";

const SECURE = { secure: "v1:Ab5+8vUJyK0=:v1:Zm9vYmFyYmF6:q5mIu2tC1mE0yqD6fK0jtw==" };
const RULES = [
    { port: "http", protocol: "tcp", sources: ["10.0.0.0/8"], description: "console" },
    { port: "nats", protocol: "tcp", sources: ["10.0.0.0/8"], description: "agents" },
];

/** Each variant: the stack file it starts from and the config set on top of it. */
export const PLAN_VARIANTS: Record<string, { stack: string; overrides: Record<string, unknown> }> = {
    dev: { stack: "dev", overrides: {} },
    prod: { stack: "prod", overrides: {} },
    "prod-kubernetes": { stack: "prod", overrides: { "bklite:runtime": "kubernetes" } },
    "kubernetes-load-balancers": {
        stack: "dev",
        overrides: {
            "bklite:runtime": "kubernetes",
            "bklite:hostAddress": "10.0.0.8",
            "bklite:kubernetes": {
                serviceType: "LoadBalancer",
                natsAddress: "10.0.0.9",
                registryAuth: { server: "harbor.local", username: "robot" },
                resources: { server: { cpu: "1", memory: "2Gi" } },
                volumeSize: "20Gi",
            },
            "bklite:registryPassword": SECURE,
            "bklite:security": { rules: RULES },
            "bklite:images": { registry: "harbor.local/bklite", tag: "v1.2.3" },
        },
    },
    "kubernetes-cluster-ingress": {
        stack: "dev",
        overrides: {
            "bklite:runtime": "kubernetes",
            "bklite:hostAddress": "10.0.0.8",
            "bklite:kubernetes": { ingress: "cluster", context: "k3s" },
        },
    },
    "docker-every-app": {
        stack: "dev",
        overrides: {
            "bklite:installApps": [
                "system_mgmt",
                "cmdb",
                "console_mgmt",
                "monitor",
                "node_mgmt",
                "alerts",
                "operation_analysis",
                "log",
                "playground",
                "mlops",
            ],
            "bklite:security": {
                hostFirewall: true,
                rules: [...RULES, { port: "postgres", protocol: "tcp", sources: ["127.0.0.1"], description: "host" }],
            },
            "bklite:regions": [
                { name: "default" },
                { name: "edge", nodeServerUrl: "http://10.1.0.5:8080", env: { NATS_SERVERS: "10.1.0.5:24222" } },
            ],
            "bklite:images": { overrides: { server: "bklite/server:huangpu-v1.1" } },
        },
    },
    "docker-minimal": {
        stack: "dev",
        overrides: {
            "bklite:installApps": ["system_mgmt", "node_mgmt"],
            "bklite:verify": false,
            "bklite:offline": false,
            "bklite:backup": { beforeUpgrade: false },
            "bklite:httpPort": 8088,
        },
    },
    "docker-given-secrets": {
        stack: "dev",
        overrides: { "bklite:secretKey": SECURE, "bklite:adminPassword": SECURE, "bklite:falkordbPassword": SECURE },
    },
};

const PLANS_DIR = path.join(PROJECT_ROOT, "tests", "fixtures", "plans");
const RECORDING = process.env.BKLITE_RECORD_PLANS === "1";

describe("plans of the committed stacks and their variants", function () {
    this.timeout(120000);
    for (const [variant, { stack, overrides }] of Object.entries(PLAN_VARIANTS)) {
        it(`${variant}: as recorded in tests/fixtures/plans/${variant}.json`, async () => {
            const plan = await planStack(stack, { overrides });
            const file = path.join(PLANS_DIR, `${variant}.json`);
            if (RECORDING) {
                fs.mkdirSync(PLANS_DIR, { recursive: true });
                fs.writeFileSync(file, stableJson(plan));
                return;
            }
            const recorded = JSON.parse(fs.readFileSync(file, "utf8")) as Plan;
            const same = stableJson(plan) === stableJson(recorded);
            assert.ok(
                same,
                `the plan of ${variant} differs from the recorded one (npm run plans:record when that is meant):\n${diffMarkdown([diffPlans(recorded, plan)])}`,
            );
        });
    }
});
