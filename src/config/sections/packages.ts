/**
 * `bklite:probePackages`: the controller zip and each collector's own file, uploaded to the object store. Checked by
 * the rules `bklite seed apply` applies too (packageRules.ts), with the config's defaults first.
 */
import { checkPackage, packageRowKey } from "../packageRules";
import { isRecord } from "../../util/json";
import { AddProblem } from "../problems";
import { ProbePackageConfig } from "../types";

const CONFIG_PACKAGE_KEYS = ["file", "version", "os", "type", "object"];

export function parseProbePackages(value: unknown, add: AddProblem): ProbePackageConfig[] {
    if (!Array.isArray(value)) {
        add("probePackages", "must be a list of packages [{file, version, ...}]", value);
        return [];
    }
    const packages: ProbePackageConfig[] = [];
    const seen = new Map<string, number>();
    value.forEach((p: unknown, i: number) => {
        const path = `probePackages[${i}]`;
        const pkg = parsePackage(p, path, add);
        if (pkg === undefined) {
            return;
        }
        const key = packageRowKey(pkg);
        const first = seen.get(key);
        if (first !== undefined) {
            add(`${path}`, `is the same os/object/version (${key}) as probePackages[${first}]; bump the version`);
        }
        seen.set(key, i);
        packages.push(pkg);
    });
    return packages;
}

/** One entry with its defaults (a Linux controller unless it says otherwise), or undefined when refused. */
function parsePackage(p: unknown, path: string, add: AddProblem): ProbePackageConfig | undefined {
    if (!isRecord(p)) {
        add(path, "must be an object {file, version, os?, type?, object?}", p);
        return undefined;
    }
    const type = p.type ?? "controller";
    const withDefaults = {
        ...p,
        os: p.os ?? "linux",
        type,
        object: p.object ?? (type === "controller" ? "Controller" : undefined),
    };
    const problems = checkPackage(withDefaults, CONFIG_PACKAGE_KEYS);
    for (const problem of problems) {
        add(`${path}.${problem.path}`, problem.message, p[problem.path]);
    }
    if (problems.length > 0) {
        return undefined;
    }
    const pkg = withDefaults as unknown as ProbePackageConfig;
    return { file: pkg.file, version: pkg.version, os: pkg.os, type: pkg.type, object: pkg.object };
}
