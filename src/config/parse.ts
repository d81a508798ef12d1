/**
 * Reads every `bklite:*` key from a config source, applies defaults and checks everything at once: each section
 * (sections/, and the Kubernetes runtime's own) adds to one problem list, then the chosen runtime checks what it
 * cannot honour. Nothing here touches Pulumi resources: the program calls it before registering any, and
 * `bklite plan`, the CLI and the tests call it directly.
 */
import { checkRegistryPairing, parseKubernetesSection } from "../runtimes/kubernetes/config";
import { endpointsOf, runtimeOf } from "../runtimes";
import { Problem } from "../util/problem";
import { RUNTIMES, RuntimeName } from "./keys";
import { readRaw } from "./raw";
import { parseBackup } from "./sections/backup";
import { parseGeneral } from "./sections/general";
import { parseImages } from "./sections/images";
import { parseProbePackages } from "./sections/packages";
import { parseRegions, withDefaultRegionFirst } from "./sections/regions";
import { parseSecrets } from "./sections/secrets";
import { parseSecurity } from "./sections/security";
import { ConfigSource, StackConfig } from "./types";

export type ParsedConfig = { config: StackConfig; problems: [] } | { config?: undefined; problems: Problem[] };

/** Validates the whole config; returns the typed config, or every problem found. */
export function parseStackConfig(given: ConfigSource): ParsedConfig {
    const { raw, problems, add } = readRaw(given);
    const general = parseGeneral(raw, add);
    const images = parseImages(raw.value("images"), general.offline, add);
    // Before the regions: their derived URLs use its node ports.
    const kubernetes = parseKubernetesSection(raw.value("kubernetes"), add);
    // An unknown runtime has its own problem; the regions are checked as on a Docker host meanwhile.
    const runtime = (RUNTIMES as ReadonlyArray<string>).includes(general.runtime) ? general.runtime : "docker";
    const endpoints =
        general.hostAddress === ""
            ? undefined
            : endpointsOf({ ...general, runtime: runtime as RuntimeName, kubernetes });
    const regions = parseRegions(raw.value("regions"), endpoints, add);
    const backup = parseBackup(raw.value("backup"), add);
    const probePackages = parseProbePackages(raw.value("probePackages"), add);
    const security = parseSecurity(raw.value("security"), general.ports);
    problems.push(...security.problems);
    const config: StackConfig = {
        ...general,
        images,
        regions: withDefaultRegionFirst(regions),
        probePackages,
        security: security.security,
        kubernetes,
        backup,
        providedSecrets: [],
    };
    const refused = (key: string) => problems.some((p) => p.path === key);
    runtimeOf(runtime as RuntimeName).checkConfig(config, add, refused);
    config.providedSecrets = parseSecrets(raw, add);
    checkRegistryPairing(kubernetes, config.providedSecrets, add);
    return problems.length > 0 ? { problems } : { problems: [], config };
}

/**
 * Settings the stack file sets that its runtime does not use: not refused (a stack may keep its Kubernetes settings
 * ready for when it moves), but said, so nothing is ignored silently.
 */
export function unusedSettings(config: StackConfig, keysSet: ReadonlyArray<string>): string[] {
    return runtimeOf(config.runtime).unusedSettings(config, keysSet);
}
