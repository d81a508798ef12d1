/** Paths into property values, as reports show them: `inputs.spec.ports[0]`, `config."bklite:images".tag`. */
export function propertyPath(base: string, key: string): string {
    const part = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
    return base === "" ? part : `${base}.${part}`;
}
