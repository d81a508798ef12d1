/**
 * What the program reads from the cluster before it registers anything, through the kubeconfig its provider uses:
 * with `ingress: cluster`, the IngressClasses (the cluster's Traefik must serve the class the Ingresses name); every
 * claim the stack owns and the StorageClasses (a claim's class cannot change, and it grows only where its class
 * allows). A deployment that cannot work, or would silently not apply, stops here with the fix. It fails closed: a
 * cluster it cannot read (no kubectl, unreachable, a permission missing) stops the deployment too, unless
 * `bklite:kubernetes.preflight` is `skip`. A plan reads nothing.
 */
import { execFileSync } from "child_process";
import { StackConfig } from "../../config/types";
import { Workload } from "../../services/workload";
import { InputError } from "../../util/inputError";
import { KubeTarget, kubectlBinary, kubectlCluster, stackKubeconfig } from "./kubectl";
import { stackClaims } from "./naming";
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
    | { reachable: false; why: string; fix: string }
    | { reachable: true; ingressClasses: IngressClassFact[]; claims: ClaimFact[]; storageClasses: StorageClassFact[] };

/** What the preflight reads, each with the access it needs (RBAC verb `list`). */
const READS = [
    { resource: "ingressclasses", group: "networking.k8s.io", scope: "cluster" },
    { resource: "persistentvolumeclaims", group: "", scope: "namespace" },
    { resource: "storageclasses", group: "storage.k8s.io", scope: "cluster" },
] as const;

type ClusterRead = (typeof READS)[number];

/** What a stack's preflight reads: IngressClasses only when the cluster's Traefik is to serve it. */
function readsFor(k: StackConfig["kubernetes"]): ReadonlyArray<ClusterRead> {
    return READS.filter((r) => r.resource !== "ingressclasses" || k.ingress === "cluster");
}

const SKIP = "or set bklite:kubernetes.preflight to skip to deploy without these checks";

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
    // The stack's own Traefik routes from a file and makes no Ingresses: only the cluster's Traefik needs a class.
    const named = facts.ingressClasses.find((c) => c.name === k.ingressClass);
    if (k.ingress === "cluster" && (named === undefined || named.controller !== TRAEFIK_CONTROLLER)) {
        problems.push(
            `bklite:kubernetes.ingressClass: with bklite:kubernetes.ingress cluster, the cluster's Traefik must serve an IngressClass '${k.ingressClass}', but ${named ? `it is served by ${named.controller}` : "there is none"} ` +
                `(classes: ${facts.ingressClasses.map((c) => `${c.name} (${c.controller})`).join(", ") || "none"}): name the Traefik class in bklite:kubernetes.ingressClass, or set bklite:kubernetes.ingress own`,
        );
    }
    problems.push(...claimProblems(k, services, facts));
    return problems;
}

/** Claims the config would change as they cannot be: another class, a smaller size, growth the class refuses. */
function claimProblems(
    k: StackConfig["kubernetes"],
    services: ReadonlyArray<Workload>,
    facts: Extract<ClusterFacts, { reachable: true }>,
): string[] {
    const problems: string[] = [];
    const defaultClass = facts.storageClasses.find((c) => c.isDefault)?.name;
    const wantedClass = k.storageClass ?? defaultClass;
    for (const owned of stackClaims(services)) {
        const claimName = owned.name;
        const claim = facts.claims.find((c) => c.name === claimName);
        if (claim === undefined) {
            continue;
        }
        const migrate = `move the data first: \`bklite backup\`, delete the ${owned.workload} ${owned.service} and claim ${claimName} (kubectl delete), \`pulumi up\` to make new ones, then \`bklite restore\``;
        if (wantedClass !== undefined && claim.storageClass !== undefined && claim.storageClass !== wantedClass) {
            problems.push(
                `bklite:kubernetes.storageClass: claim ${claimName} holds data on StorageClass '${claim.storageClass}', and a claim's class cannot change (${owned.workload === "StatefulSet" ? "it would silently stay" : "the claim would have to be replaced"}): keep '${claim.storageClass}', or ${migrate}`,
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

/** Reads the cluster through kubectl (BKLITE_KUBECTL, else from PATH); unreadable, with why and the fix, when it cannot. */
export function readClusterFacts(
    target: KubeTarget,
    reads: ReadonlyArray<ClusterRead> = READS,
    kubectl = kubectlBinary(),
): ClusterFacts {
    const get = (read: ClusterRead): KubeList => {
        if (!reads.includes(read)) {
            return { items: [] };
        }
        const scope = read.scope === "namespace" ? ["--namespace", target.namespace] : [];
        const out = execFileSync(kubectl, [...kubectlCluster(target), "get", read.resource, ...scope, "-o", "json"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 20000,
        });
        return JSON.parse(out) as KubeList;
    };
    try {
        const [ingressClassList, claimList, storageClassList] = READS.map(get);
        const ingressClasses = ingressClassList.items.map((i) => ({
            name: i.metadata.name,
            controller: String(i.spec?.controller ?? ""),
            partOf: i.metadata.labels?.["app.kubernetes.io/part-of"],
        }));
        const claims = claimList.items.map((c) => ({
            name: c.metadata.name,
            storageClass: c.spec?.storageClassName as string | undefined,
            size: String(c.spec?.resources?.requests?.storage ?? "0"),
        }));
        const storageClasses = storageClassList.items.map((c) => ({
            name: c.metadata.name,
            allowVolumeExpansion: c.allowVolumeExpansion === true,
            isDefault: c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
        }));
        return { reachable: true, ingressClasses, claims, storageClasses };
    } catch (err) {
        return { reachable: false, ...unreadable(err as NodeJS.ErrnoException & { stderr?: string }, kubectl, target) };
    }
}

/** Why kubectl could not read the cluster, and what to do: install it, reach the cluster, or grant a permission. */
function unreadable(
    e: NodeJS.ErrnoException & { stderr?: string },
    kubectl: string,
    target: KubeTarget,
): { why: string; fix: string } {
    if (e.code === "ENOENT") {
        return {
            why: `${kubectl} is not installed`,
            fix: `install kubectl on this host (or point BKLITE_KUBECTL at it), ${SKIP}`,
        };
    }
    const why = (e.stderr || e.message).trim().split("\n").slice(-1)[0];
    // kubectl: `... is forbidden: User "u" cannot list resource "r" in API group "g" (in the namespace "n"|at the cluster scope)`
    const forbidden = /forbidden: (User "[^"]*") cannot (\w+) resource "([^"]+)" in API group "([^"]*)"/.exec(why);
    if (forbidden) {
        const [, who, verb, resource, group] = forbidden;
        const read = READS.find((r) => r.resource === resource);
        const where =
            read?.scope === "namespace" ? `in namespace ${target.namespace} (a Role)` : "cluster-wide (a ClusterRole)";
        return {
            why: `${who} may not ${verb} ${resource}${group ? ` (API group ${group})` : ""}`,
            fix: `grant that identity ${verb} on ${resource}${group ? `.${group}` : ""} ${where} (the preflight lists ${READS.map((r) => r.resource).join(", ")}), ${SKIP}`,
        };
    }
    const kubeconfig = target.kubeconfig
        ? `bklite:kubernetes.kubeconfig (${target.kubeconfig})`
        : "$KUBECONFIG or ~/.kube/config";
    return {
        why,
        fix: `check that the cluster in ${kubeconfig}${target.context ? `, context ${target.context},` : ""} answers from this host, ${SKIP}`,
    };
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
 * Reads the cluster through the provider's kubeconfig and stops, before anything is registered, on what it would
 * refuse half-way, or when it cannot be read; a plan reads nothing, and `preflight: skip` deploys unchecked (said).
 */
export function checkClusterFor(request: PreflightRequest): string[] {
    const k = request.config.kubernetes;
    if (request.planning) {
        return [];
    }
    if (k.preflight === "skip") {
        return [
            "bklite:kubernetes.preflight is skip: the cluster was not checked before deploying; an IngressClass or claim it refuses will stop `pulumi up` half-way instead",
        ];
    }
    const target = {
        namespace: k.namespace,
        ...(k.context ? { context: k.context } : {}),
        ...(k.kubeconfig ? { kubeconfig: stackKubeconfig(k.kubeconfig) } : {}),
    };
    const facts = readClusterFacts(target, readsFor(k));
    if (!facts.reachable) {
        throw new InputError(
            `the cluster could not be checked before deploying; nothing was deployed: ${facts.why}: ${facts.fix}`,
        );
    }
    checkCluster(request.config, request.workloads, facts);
    return [];
}
