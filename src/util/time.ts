/** A UTC time to the millisecond as a name can hold it, sorting by time: `20261130T171500123Z`. */
export function utcStamp(at: Date): string {
    return at.toISOString().replace(/[-:.]/g, "");
}
