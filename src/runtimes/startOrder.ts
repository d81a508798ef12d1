/** The start order both runtimes keep: each workload after the ones it depends on. */
import { Workload } from "../services/workload";

/** Orders services so each comes after the services it depends on; throws on unknown names and cycles. */
export function startOrder(services: ReadonlyArray<Workload>): Workload[] {
    const byName = new Map(services.map((s) => [s.name, s]));
    const ordered: Workload[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (spec: Workload, path: string[]) => {
        if (state.get(spec.name) === "done") {
            return;
        }
        if (state.get(spec.name) === "visiting") {
            throw new Error(`services depend on each other in a cycle: ${[...path, spec.name].join(" -> ")}`);
        }
        state.set(spec.name, "visiting");
        for (const dep of spec.dependsOn) {
            const target = byName.get(dep);
            if (!target) {
                throw new Error(`service '${spec.name}' depends on unknown service '${dep}'`);
            }
            visit(target, [...path, spec.name]);
        }
        state.set(spec.name, "done");
        ordered.push(spec);
    };
    for (const spec of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
        visit(spec, []);
    }
    return ordered;
}
