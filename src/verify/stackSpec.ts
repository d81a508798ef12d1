/**
 * The verify spec of a stack, rendered from its config with the same functions that planned it: the seed spec's
 * regions and packages, the planned streams, each installed service's own probe, the resolved security rules. The
 * program hands it to `bklite verify` on stdin; `bklite verify --stack S` renders the same from Pulumi.S.yaml.
 */
import { endpointsOf } from "../runtimes";
import { servicesFor } from "../services/catalog";
import { ADMIN_USER, natsAgentEndpoint, publicUrl } from "../services/shared";
import { stackStreams } from "../services/stack";
import { StackConfig } from "../config/types";
import { firewallRules, resolveSecurity } from "../security/resolve";
import { seedSpecOf } from "../seed/stackSpec";
import { ServiceCheck, VerifySpec } from "./spec";

/** Docker's names for a stack's network and containers (the runtime's namePrefix). */
export function dockerNames(stack: string): { network: string; container(service: string): string } {
    const prefix = `bklite-${stack}`;
    return { network: prefix, container: (service) => `${prefix}-${service}` };
}

export function verifySpecOf(config: StackConfig, stack: string): VerifySpec {
    // Secrets are checked apart (BKLITE_NATS_PASSWORD, BKLITE_ADMIN_PASSWORD): none enters the spec.
    const seed = seedSpecOf(config, { natsPassword: "", adminPassword: "" });
    const docker = dockerNames(stack);
    const services: ServiceCheck[] = servicesFor(config.installApps)
        .filter((d) => d.probe !== undefined)
        .map((d) => ({
            service: d.name,
            app: d.apps?.[0] ?? "core",
            probe: d.probe!,
            ...(d.probe!.kind === "nats-executor"
                ? {}
                : {
                      address:
                          config.runtime === "docker"
                              ? { container: docker.container(d.name), network: docker.network }
                              : { kubeService: d.name },
                  }),
        }));
    const firewall =
        config.runtime === "docker" && config.security.hostFirewall
            ? { stack, rules: firewallRules(resolveSecurity(config).rules) }
            : undefined;
    return {
        stack,
        runtime: config.runtime,
        consoleUrl: publicUrl(config, endpointsOf(config)),
        ...(seed.admin ? { login: { username: ADMIN_USER } } : {}),
        natsEndpoint: natsAgentEndpoint(endpointsOf(config)),
        regions: seed.regions.map((r) => ({
            name: r.name,
            env: Object.fromEntries(Object.entries(r.env).filter(([key]) => key !== "NATS_PASSWORD")),
        })),
        packages: seed.packages,
        streams: stackStreams(config).map((s) => s.stream),
        services,
        ...(firewall ? { firewall } : {}),
    };
}
