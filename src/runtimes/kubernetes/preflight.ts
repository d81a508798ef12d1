/**
 * What the program reads from the cluster before it registers anything, where a kubeconfig reaches one: the
 * IngressClasses (stock k3s ships its own Traefik and `traefik` class, which the stack's own would collide with or be
 * served by), the StatefulSets' claims and the StorageClasses (a claim's class cannot change, and it grows only where
 * its class allows). A deployment that cannot work, or would silently not apply, stops here with the fix; a plan, or
 * a host without kubectl or a reachable cluster, checks nothing and says so.
 */
import { execFileSync } from "child_process";
import { StackConfig } from "../../config/types";
import { Workload } from "../../services/workload";
import { InputError } from "../../util/inputError";
import { KubeTarget, kubectlBinary } from "./kubectl";
import { claimName, runsAsStatefulSet } from "./naming";
import { PreflightRequest } from "../runtime";

/** What an IngressClass says about itself. */
export interface IngressClassFact {
    name: string;
    controller: string;
    /** `app.kubernetes.io/part-of`: `bklite` for a class a bklite stack made. */
    partOf?: string;
}

export interface ClaimFact {
    name: string;
    storageClass?: string;
    /** The claim's requested size, as Kubernetes writes it (`10Gi`). */
    size: string;
}

export interface StorageClassFact {
    name: string;
    allowVolumeExpansion: boolean;
    isDefault: boolean;
}

export type ClusterFacts =
    | { reachable: false; why: string }
    | { reachable: true; ingressClasses: IngressClassFact[]; claims: ClaimFact[]; storageClasses: StorageClassFact[] };

/** Traefik's Kubernetes Ingress provider serves classes with this controller. */
export const TRAEFIK_CONTROLLER = "traefik.io/ingress-controller";

/** A Kubernetes quantity in bytes (binary and decimal suffixes); NaN for one that is not a size. */
export function quantityBytes(quantity: string): number {
    const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(quantity.trim());
    if (!m) {
        return NaN;
    }
    const factors: Record<string, number> = {
        Ki: 2 ** 10,
        Mi: 2 ** 20,
        Gi: 2 ** 30,
        Ti: 2 ** 40,
        Pi: 2 ** 50,
        Ei: 2 ** 60,
        k: 1e3,
        M: 1e6,
        G: 1e9,
        T: 1e12,
        P: 1e15,
        E: 1e18,
    };
    return Number(m[1]) * (m[2] ? factors[m[2]] : 1);
}

/** The claims of the StatefulSets the stack runs: `<volume>-<service>-0`. */
export function statefulClaims(services: ReadonlyArray<Workload>): string[] {
    return services.filter(runsAsStatefulSet).flatMap((s) => s.volumes.map((v) => claimName(s, v.name)));
}

/**
 * Every reason the stack cannot be deployed as configured onto a cluster in this state, each with its fix. Pure:
 * the facts come from `readClusterFacts` (or a test).
 */
export function clusterProblems(
    config: Pick<StackConfig, "kubernetes">,
    services: ReadonlyArray<Workload>,
    facts: ClusterFacts,
): string[] {
    if (!facts.reachable) {
        return [];
    }
    const k = config.kubernetes;
    const problems: string[] = [];
    const named = facts.ingressClasses.find((c) => c.name === k.ingressClass);
    if (k.ingress === "own") {
        if (named !== undefined && named.partOf !== "bklite") {
            problems.push(
                `bklite:kubernetes.ingressClass: the cluster has an IngressClass '${named.name}' (controller ${named.controller}) that is not this stack's, as stock k3s ships one for its Traefik: ` +
                    `set bklite:kubernetes.ingress to cluster to have that Traefik serve the stack, or give bklite:kubernetes.ingressClass another name and remove the cluster's Traefik (k3s: --disable traefik)`,
            );
        }
        for (const other of facts.ingressClasses.filter(
            (c) => c.name !== k.ingressClass && c.controller === TRAEFIK_CONTROLLER && c.partOf !== "bklite",
        )) {
            problems.push(
                `bklite:kubernetes.ingress: the cluster runs another Traefik (IngressClass '${other.name}'), which serves every class whose controller is ${TRAEFIK_CONTROLLER}, this stack's too, bypassing its rules: ` +
                    `set bklite:kubernetes.ingress to cluster to use that Traefik, or remove it (k3s: --disable traefik)`,
            );
        }
    } else if (named === undefined || named.controller !== TRAEFIK_CONTROLLER) {
        problems.push(
            `bklite:kubernetes.ingressClass: with bklite:kubernetes.ingress cluster, the cluster's Traefik must serve an IngressClass '${k.ingressClass}', but ${named ? `it is served by ${named.controller}` : "there is none"} ` +
                `(classes: ${facts.ingressClasses.map((c) => `${c.name} (${c.controller})`).join(", ") || "none"}): name the Traefik class in bklite:kubernetes.ingressClass, or set bklite:kubernetes.ingress own`,
        );
    }
    const defaultClass = facts.storageClasses.find((c) => c.isDefault)?.name;
    const wantedClass = k.storageClass ?? defaultClass;
    for (const claimName of statefulClaims(services)) {
        const claim = facts.claims.find((c) => c.name === claimName);
        if (claim === undefined) {
            continue;
        }
        const migrate = `move the data first: \`bklite backup\`, delete the StatefulSet and claim ${claimName} (kubectl delete), \`pulumi up\` to make new ones, then \`bklite restore\``;
        if (wantedClass !== undefined && claim.storageClass !== undefined && claim.storageClass !== wantedClass) {
            problems.push(
                `bklite:kubernetes.storageClass: claim ${claimName} holds data on StorageClass '${claim.storageClass}', and a claim's class cannot change (it would silently stay): keep '${claim.storageClass}', or ${migrate}`,
            );
            continue;
        }
        const have = quantityBytes(claim.size);
        const want = quantityBytes(k.volumeSize);
        if (want < have) {
            problems.push(
                `bklite:kubernetes.volumeSize: ${k.volumeSize} is smaller than claim ${claimName} (${claim.size}), and claims cannot shrink: keep at least ${claim.size}, or ${migrate}`,
            );
        } else if (
            want > have &&
            !facts.storageClasses.find((c) => c.name === (claim.storageClass ?? defaultClass))?.allowVolumeExpansion
        ) {
            problems.push(
                `bklite:kubernetes.volumeSize: claim ${claimName} (${claim.size}) cannot grow to ${k.volumeSize}: its StorageClass '${claim.storageClass ?? defaultClass ?? "(none)"}' does not allow volume expansion: ` +
                    `keep ${claim.size}, allow expansion on the StorageClass (allowVolumeExpansion: true) if its provisioner supports it, or ${migrate}`,
            );
        }
    }
    return problems;
}

interface KubeList {
    items: Array<{
        metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
        spec?: { controller?: string; storageClassName?: string; resources?: { requests?: { storage?: string } } };
        allowVolumeExpansion?: boolean;
    }>;
}

/** Reads the cluster through kubectl (BKLITE_KUBECTL, else from PATH); unreachable, with the reason, when it cannot. */
export function readClusterFacts(target: KubeTarget, kubectl = kubectlBinary()): ClusterFacts {
    const get = (args: string[]): KubeList => {
        const out = execFileSync(
            kubectl,
            [...(target.context ? ["--context", target.context] : []), "get", ...args, "-o", "json"],
            { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 20000 },
        );
        return JSON.parse(out) as KubeList;
    };
    try {
        const ingressClasses = get(["ingressclasses"]).items.map((i) => ({
            name: i.metadata.name,
            controller: String(i.spec?.controller ?? ""),
            partOf: i.metadata.labels?.["app.kubernetes.io/part-of"],
        }));
        const claims = get(["persistentvolumeclaims", "--namespace", target.namespace]).items.map((c) => ({
            name: c.metadata.name,
            storageClass: c.spec?.storageClassName as string | undefined,
            size: String(c.spec?.resources?.requests?.storage ?? "0"),
        }));
        const storageClasses = get(["storageclasses"]).items.map((c) => ({
            name: c.metadata.name,
            allowVolumeExpansion: c.allowVolumeExpansion === true,
            isDefault: c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
        }));
        return { reachable: true, ingressClasses, claims, storageClasses };
    } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: string };
        const why =
            e.code === "ENOENT"
                ? `${kubectl} is not installed`
                : (e.stderr || e.message).trim().split("\n").slice(-1)[0];
        return { reachable: false, why };
    }
}

/** Stops the deployment, before anything is registered, when the cluster's state makes the config fail. */
export function checkCluster(
    config: Pick<StackConfig, "kubernetes">,
    services: ReadonlyArray<Workload>,
    facts: ClusterFacts,
): void {
    const problems = clusterProblems(config, services, facts);
    if (problems.length > 0) {
        throw new InputError(
            `the cluster does not allow this config; nothing was deployed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
    }
}

/**
 * Reads the cluster where a kubeconfig reaches it and stops, before anything is registered, on what it would refuse
 * half-way; a plan, or a cluster that cannot be read, checks nothing (the latter says so in the warnings returned).
 */
export function checkClusterFor(request: PreflightRequest): string[] {
    const k = request.config.kubernetes;
    const facts: ClusterFacts = request.planning
        ? { reachable: true, ingressClasses: [], claims: [], storageClasses: [] }
        : readClusterFacts({ namespace: k.namespace, context: k.context });
    if (facts.reachable && !request.planning) {
        checkCluster(request.config, request.workloads, facts);
    }
    const warnings = facts.reachable
        ? []
        : [
              `the cluster was not checked before deploying (${facts.why}): an IngressClass or claim it refuses will stop \`pulumi up\` half-way instead`,
          ];
    return warnings;
}
