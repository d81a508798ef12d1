/**
 * The architecture, held by the code's own imports (docs/development.md draws it): no module imports itself back
 * through others, nothing outside a runtime's folder asks which runtime it is or reaches into a runtime's folder but
 * through the one registry, and the service model never imports the config's parser.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../support/stackFiles";

/** Every TypeScript file of the program and the CLI, relative to the project. */
function sources(): string[] {
    const found: string[] = ["index.ts"];
    const visit = (dir: string) => {
        for (const entry of fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })) {
            const rel = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                visit(rel);
            } else if (rel.endsWith(".ts")) {
                found.push(rel);
            }
        }
    };
    visit("src");
    visit("cli");
    return found.sort();
}

/** The project files a file imports (static imports, `import()` and `require()` of relative paths). */
function importsOf(file: string): string[] {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
    const specs = [...text.matchAll(/(?:from|import\(|require\()\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
    return specs.flatMap((spec) => {
        const target = path.normalize(path.join(path.dirname(file), spec));
        return [`${target}.ts`, path.join(target, "index.ts")].filter((f) => fs.existsSync(path.join(PROJECT_ROOT, f)));
    });
}

describe("the layers the imports keep", () => {
    const files = sources();
    const graph = new Map(files.map((f) => [f, importsOf(f)]));

    it("has no import cycle: every module can be read after what it uses", () => {
        const state = new Map<string, "visiting" | "done">();
        const cycles: string[] = [];
        const visit = (file: string, trail: string[]) => {
            if (state.get(file) === "done") {
                return;
            }
            if (state.get(file) === "visiting") {
                cycles.push([...trail.slice(trail.indexOf(file)), file].join(" -> "));
                return;
            }
            state.set(file, "visiting");
            for (const next of graph.get(file) ?? []) {
                visit(next, [...trail, file]);
            }
            state.set(file, "done");
        };
        files.forEach((f) => visit(f, []));
        assert.deepStrictEqual(cycles, []);
    });

    it("reaches a runtime's folder only through the runtimes' registry (each runtime's folder is its own)", () => {
        // A section of the config and the CLI's options table are declared by the Kubernetes runtime, and read by name.
        const allowed = new Set(["src/config/parse.ts", "cli/commands.ts"]);
        const reaching = files.filter(
            (f) =>
                !f.startsWith("src/runtimes/") &&
                !allowed.has(f) &&
                graph.get(f)!.some((i) => /^src\/runtimes\/(docker|kubernetes)\//.test(i)),
        );
        assert.deepStrictEqual(reaching, []);
        for (const runtime of ["docker", "kubernetes"]) {
            const other = runtime === "docker" ? "kubernetes" : "docker";
            const crossing = files.filter(
                (f) =>
                    f.startsWith(`src/runtimes/${runtime}/`) &&
                    graph.get(f)!.some((i) => i.startsWith(`src/runtimes/${other}/`)),
            );
            assert.deepStrictEqual(crossing, [], `${runtime} uses nothing of ${other}`);
        }
    });

    it("asks which runtime it is nowhere outside the runtimes", () => {
        const asking = files.filter(
            (f) =>
                !f.startsWith("src/runtimes/") &&
                /runtime\s*[!=]==\s*"|===\s*"(docker|kubernetes)"|"(docker|kubernetes)"\s*===/.test(
                    fs.readFileSync(path.join(PROJECT_ROOT, f), "utf8"),
                ),
        );
        assert.deepStrictEqual(asking, []);
    });

    it("keeps the service model below the config's parser: services and runtimes import config types, never the parser", () => {
        const parser = files.filter((f) => f.startsWith("src/config/parse") || f.startsWith("src/config/sections/"));
        const below = files.filter((f) => f.startsWith("src/services/") && f !== "src/services/stack.ts");
        const offending = below.filter((f) => graph.get(f)!.some((i) => parser.includes(i)));
        assert.deepStrictEqual(offending, []);
    });
});
