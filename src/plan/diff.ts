/**
 * `bklite plan diff`: what changes between two plans (base and head), as data and as Markdown for a pull request.
 * Unchanged resources are not mentioned; changed ones list each changed property with its old and new value.
 */
import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { MiB, readBounded } from "../util/boundedRead";
import { JsonObject as Json, isRecord, propertyPath } from "../util/json";
import { PLAN_FORMAT, Plan, PlanError, PlannedResource } from "./planStack";

export interface PropertyChange {
    /** Where the change is, e.g. `inputs.envs[+]`, `inputs.spec.template.spec.containers[name=server].image`. */
    path: string;
    /** Absent when the property was added. */
    old?: unknown;
    /** Absent when the property was removed. */
    new?: unknown;
}

export interface ResourceChange {
    urn: string;
    type: string;
    name: string;
    kind: "add" | "remove" | "change";
    /** For `change`: every changed property. */
    changes: PropertyChange[];
}

export interface StackDiff {
    stack: string;
    /** `new`: only in head; `removed`: only in base. */
    status: "new" | "removed" | "changed" | "unchanged";
    config: PropertyChange[];
    resources: ResourceChange[];
    outputs: PropertyChange[];
}

/** Elements that all have a distinct string `name` (containers, env entries, ports) are matched by it. */
function namedElements(list: unknown[]): Map<string, unknown> | undefined {
    const byName = new Map<string, unknown>();
    for (const element of list) {
        if (!isRecord(element) || typeof element.name !== "string" || byName.has(element.name)) {
            return undefined;
        }
        byName.set(element.name, element);
    }
    return byName;
}

function isScalar(value: unknown): boolean {
    return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** Appends the changes from `a` to `b` under `at`. */
export function diffValues(at: string, a: unknown, b: unknown, out: PropertyChange[]): void {
    if (isDeepStrictEqual(a, b)) {
        return;
    }
    if (a === undefined) {
        out.push({ path: at, new: b });
        return;
    }
    if (b === undefined) {
        out.push({ path: at, old: a });
        return;
    }
    if (isRecord(a) && isRecord(b)) {
        for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
            diffValues(propertyPath(at, key), a[key], b[key], out);
        }
        return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        diffLists(at, a, b, out);
        return;
    }
    out.push({ path: at, old: a, new: b });
}

function diffLists(at: string, a: unknown[], b: unknown[], out: PropertyChange[]): void {
    const namedA = namedElements(a);
    const namedB = namedElements(b);
    if (namedA && namedB && a.length > 0 && b.length > 0) {
        for (const name of [...new Set([...namedA.keys(), ...namedB.keys()])]) {
            diffValues(`${at}[name=${name}]`, namedA.get(name), namedB.get(name), out);
        }
        return;
    }
    if (a.every(isScalar) && b.every(isScalar)) {
        // Scalar lists (env entries, command arguments): what left and what came, not every shifted index.
        const remaining = [...b];
        const removed: unknown[] = [];
        for (const element of a) {
            const i = remaining.findIndex((x) => x === element);
            if (i >= 0) {
                remaining.splice(i, 1);
            } else {
                removed.push(element);
            }
        }
        for (const element of removed) {
            out.push({ path: `${at}[-]`, old: element });
        }
        for (const element of remaining) {
            out.push({ path: `${at}[+]`, new: element });
        }
        if (removed.length === 0 && remaining.length === 0) {
            out.push({ path: `${at} (order)`, old: a, new: b });
        }
        return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        diffValues(`${at}[${i}]`, a[i], b[i], out);
    }
}

function comparable(r: PlannedResource): Json {
    return { custom: r.custom, parent: r.parent, inputs: r.inputs, options: r.options };
}

/** The difference between two plans of one stack; either may be missing (a stack added or removed). */
export function diffPlans(base: Plan | undefined, head: Plan | undefined): StackDiff {
    const stack = (head ?? base)?.stack ?? "?";
    const baseResources = base?.resources ?? {};
    const headResources = head?.resources ?? {};
    const resources: ResourceChange[] = [];
    for (const urn of [...new Set([...Object.keys(baseResources), ...Object.keys(headResources)])].sort()) {
        const before = baseResources[urn];
        const after = headResources[urn];
        const { type, name } = after ?? before;
        if (!before) {
            resources.push({ urn, type, name, kind: "add", changes: [] });
        } else if (!after) {
            resources.push({ urn, type, name, kind: "remove", changes: [] });
        } else {
            const changes: PropertyChange[] = [];
            diffValues("", comparable(before), comparable(after), changes);
            if (changes.length > 0) {
                resources.push({ urn, type, name, kind: "change", changes });
            }
        }
    }
    const config: PropertyChange[] = [];
    diffValues("", base?.config ?? {}, head?.config ?? {}, config);
    const outputs: PropertyChange[] = [];
    diffValues("", base?.outputs ?? {}, head?.outputs ?? {}, outputs);
    const status = !base
        ? "new"
        : !head
          ? "removed"
          : resources.length + config.length + outputs.length > 0
            ? "changed"
            : "unchanged";
    return { stack, status, config, resources, outputs };
}

/** The largest plan file read: a plan of the prod stack is about 80 KiB. */
const MAX_PLAN_BYTES = 64 * MiB;

/** Reads a plan file, refusing anything that is not a plan of this format. */
export function readPlan(file: string): Plan {
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
        throw new PlanError(
            `${file} does not exist or is not a file; make a plan with \`bklite plan --stack S > ${path.basename(file)}\``,
        );
    }
    const text = readBounded(file, MAX_PLAN_BYTES, file, "a plan is a few hundred KiB");
    let plan: Plan;
    try {
        plan = JSON.parse(text) as Plan;
    } catch {
        throw new PlanError(
            `${file} is not valid JSON, so not a plan; make one with \`bklite plan --stack S > ${path.basename(file)}\``,
        );
    }
    if (!isRecord(plan) || plan.format !== PLAN_FORMAT || !isRecord(plan.resources) || typeof plan.stack !== "string") {
        throw new PlanError(`${file} is not a plan of format ${PLAN_FORMAT} (from \`bklite plan --stack S\`)`);
    }
    return plan;
}

export interface PlanSet {
    /** A single plan file (compared whatever its stack) or a directory of them (compared stack by stack). */
    single: boolean;
    plans: Map<string, Plan>;
}

/** The plans of a file or a directory of `<stack>.json` files, by stack. */
export function readPlans(location: string): PlanSet {
    if (!fs.existsSync(location)) {
        throw new PlanError(`${location} does not exist: give a plan file or a directory of <stack>.json plans`);
    }
    const plans = new Map<string, Plan>();
    const single = !fs.statSync(location).isDirectory();
    if (!single) {
        for (const file of fs
            .readdirSync(location)
            .filter((f) => f.endsWith(".json"))
            .sort()) {
            const plan = readPlan(path.join(location, file));
            plans.set(plan.stack, plan);
        }
    } else {
        const plan = readPlan(location);
        plans.set(plan.stack, plan);
    }
    return { single, plans };
}

/** Diffs two sets of plans stack by stack; two single files are compared whatever their stacks. */
export function diffPlanSets(base: PlanSet, head: PlanSet): StackDiff[] {
    if (base.single && head.single) {
        return [diffPlans([...base.plans.values()][0], [...head.plans.values()][0])];
    }
    const stacks = [...new Set([...base.plans.keys(), ...head.plans.keys()])].sort();
    return stacks.map((stack) => diffPlans(base.plans.get(stack), head.plans.get(stack)));
}

// ---- Markdown

const MAX_VALUE = 160;

function escapeHtml(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\|/g, "&#124;");
}

function cell(value: unknown, present: boolean): string {
    if (!present) {
        return "";
    }
    let text = typeof value === "string" ? value : JSON.stringify(value);
    if (text.length > MAX_VALUE) {
        text = `${text.slice(0, MAX_VALUE)}… (${text.length} chars)`;
    }
    return `<code>${escapeHtml(text).replace(/\n/g, "⏎")}</code>`;
}

function isMultiline(value: unknown): value is string {
    return typeof value === "string" && value.includes("\n");
}

/** Lines removed and added between two texts (longest common subsequence), for file contents. */
function lineDiff(a: string, b: string): string[] {
    const x = a.split("\n");
    const y = b.split("\n");
    const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
    for (let i = x.length - 1; i >= 0; i--) {
        for (let j = y.length - 1; j >= 0; j--) {
            lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    const lines: string[] = [];
    let i = 0;
    let j = 0;
    while (i < x.length || j < y.length) {
        if (i < x.length && j < y.length && x[i] === y[j]) {
            i++;
            j++;
        } else if (j < y.length && (i === x.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
            lines.push(`+ ${y[j++]}`);
        } else {
            lines.push(`- ${x[i++]}`);
        }
    }
    return lines;
}

function changeTable(changes: PropertyChange[]): string[] {
    const lines = ["| property | base | head |", "|---|---|---|"];
    const texts: string[] = [];
    for (const change of changes) {
        if (isMultiline(change.old) && isMultiline(change.new)) {
            lines.push(`| <code>${escapeHtml(change.path)}</code> | (text) | (text, lines below) |`);
            const changed = lineDiff(change.old, change.new);
            // A fence longer than any backtick run in the text, so file contents cannot close it.
            const fence = "`".repeat(
                Math.max(3, ...changed.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((run) => run.length + 1)))),
            );
            texts.push("", `<code>${escapeHtml(change.path)}</code>:`, `${fence}diff`, ...changed, fence);
        } else {
            lines.push(
                `| <code>${escapeHtml(change.path)}</code> | ${cell(change.old, "old" in change)} | ${cell(change.new, "new" in change)} |`,
            );
        }
    }
    return [...lines, ...texts];
}

function resourceLabel(r: ResourceChange): string {
    return `<code>${escapeHtml(r.name)}</code> (${escapeHtml(r.type)})`;
}

/** One stack's section. */
export function stackMarkdown(diff: StackDiff): string {
    const count = (kind: ResourceChange["kind"]) => diff.resources.filter((r) => r.kind === kind).length;
    const summary = `${count("add")} to add, ${count("change")} to change, ${count("remove")} to remove`;
    const status = {
        new: `new stack: ${summary}`,
        removed: `stack removed: ${summary}`,
        changed: summary,
        unchanged: "no changes",
    }[diff.status];
    const lines = [`### Stack \`${diff.stack}\`: ${status}`];
    if (diff.status === "unchanged") {
        return lines.join("\n");
    }
    if (diff.config.length > 0) {
        lines.push("", "**Config**", "", ...changeTable(diff.config));
    }
    const added = diff.resources.filter((r) => r.kind === "add");
    if (added.length > 0) {
        lines.push("", `**Added** (${added.length})`, "", ...added.map((r) => `- ${resourceLabel(r)}`));
    }
    const removed = diff.resources.filter((r) => r.kind === "remove");
    if (removed.length > 0) {
        lines.push("", `**Removed** (${removed.length})`, "", ...removed.map((r) => `- ${resourceLabel(r)}`));
    }
    const changed = diff.resources.filter((r) => r.kind === "change");
    if (changed.length > 0) {
        lines.push("", `**Changed** (${changed.length})`);
        for (const r of changed) {
            lines.push("", `- ${resourceLabel(r)}`, "", ...changeTable(r.changes));
        }
    }
    if (diff.outputs.length > 0) {
        lines.push("", "**Stack outputs**", "", ...changeTable(diff.outputs));
    }
    return lines.join("\n");
}

/** The whole report: one section per stack, changed stacks first. */
export function diffMarkdown(diffs: StackDiff[]): string {
    const order = { new: 0, removed: 1, changed: 2, unchanged: 3 };
    const sorted = [...diffs].sort((a, b) => order[a.status] - order[b.status] || a.stack.localeCompare(b.stack));
    return `${["## bklite plan diff", "", "Desired resources rendered offline from each commit's stack files (secrets shown as `[secret]`).", "", ...sorted.flatMap((d) => [stackMarkdown(d), ""])].join("\n").trimEnd()}\n`;
}
