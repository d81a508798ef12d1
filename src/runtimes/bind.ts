/**
 * Binding the runtime values (secrets, certificates) that specs refer to by name: one rule for both runtimes.
 */
import * as pulumi from "@pulumi/pulumi";
import { TextValue, refsOf, renderText } from "../services/template";

export type Values = Readonly<Record<string, pulumi.Input<string>>>;

/**
 * Renders with the referenced values: a plain result when nothing is referenced, otherwise an Output that is
 * secret whenever a referenced value is. A reference nobody bound is a wiring error, thrown at construction.
 */
export function bind<T>(
    names: ReadonlyArray<string>,
    values: Values,
    render: (resolved: Record<string, string>) => T,
): T | pulumi.Output<T> {
    if (names.length === 0) {
        return render({});
    }
    const missing = names.filter((n) => values[n] === undefined);
    if (missing.length > 0) {
        throw new Error(`no value bound for ${missing.map((m) => `'${m}'`).join(", ")}`);
    }
    return pulumi.all(Object.fromEntries(names.map((n) => [n, values[n]]))).apply(render);
}

/** A text value with its references filled in. */
export function bindText(value: TextValue, values: Values): pulumi.Input<string> {
    return bind(refsOf(value), values, (resolved) => renderText(value, resolved));
}
