/**
 * The shape of a JSON document read from outside (a backup's manifest and indexes): declared once, checked whole,
 * every problem named by its path. Unknown keys are problems too: a document of a newer format is refused rather
 * than half understood.
 */
import { isRecord } from "./json";

/** A check of one value: why it is wrong, or undefined. */
export type ValueCheck = (value: unknown) => string | undefined;

export type Shape =
    | "string"
    | "integer"
    | "boolean"
    | ValueCheck
    | { object: Record<string, Shape>; optional?: ReadonlyArray<string> }
    | { array: Shape }
    | { record: Shape; key?: ValueCheck };

/** A string matching `pattern`, described as `what` when it does not. */
export function matching(pattern: RegExp, what: string): ValueCheck {
    return (value) => (typeof value === "string" && pattern.test(value) ? undefined : `must be ${what}`);
}

/** One of the given strings. */
export function oneOf(...allowed: string[]): ValueCheck {
    return (value) =>
        typeof value === "string" && allowed.includes(value)
            ? undefined
            : `must be ${allowed.map((a) => JSON.stringify(a)).join(" or ")}`;
}

function at(path: string, key: string | number): string {
    return typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;
}

function objectProblems(value: unknown, shape: Extract<Shape, { object: unknown }>, path: string): string[] {
    if (!isRecord(value)) {
        return [`${path || "the document"} must be an object`];
    }
    const optional = shape.optional ?? [];
    const problems = Object.keys(value)
        .filter((key) => !(key in shape.object))
        .map((key) => `${at(path, key)} is not a field this version knows`);
    for (const [key, fieldShape] of Object.entries(shape.object)) {
        if (value[key] === undefined) {
            if (!optional.includes(key)) {
                problems.push(`${at(path, key)} is missing`);
            }
        } else {
            problems.push(...shapeProblems(value[key], fieldShape, at(path, key)));
        }
    }
    return problems;
}

/** Every way `value` differs from `shape`, each naming its path. */
export function shapeProblems(value: unknown, shape: Shape, path = ""): string[] {
    if (typeof shape === "function") {
        const problem = shape(value);
        return problem === undefined ? [] : [`${path} ${problem}`];
    }
    if (shape === "string" || shape === "boolean") {
        return typeof value === shape ? [] : [`${path} must be a ${shape}`];
    }
    if (shape === "integer") {
        return Number.isSafeInteger(value) && (value as number) >= 0 ? [] : [`${path} must be a whole number`];
    }
    if ("object" in shape) {
        return objectProblems(value, shape, path);
    }
    if ("array" in shape) {
        return Array.isArray(value)
            ? value.flatMap((item, i) => shapeProblems(item, shape.array, at(path, i)))
            : [`${path} must be a list`];
    }
    if (!isRecord(value)) {
        return [`${path} must be an object`];
    }
    return Object.entries(value).flatMap(([key, item]) => [
        ...(shape.key?.(key) ? [`${at(path, key)}: the key ${shape.key(key)}`] : []),
        ...shapeProblems(item, shape.record, at(path, key)),
    ]);
}
