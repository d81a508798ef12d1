import * as fs from "fs";
import { MiB, readBounded } from "../src/util/boundedRead";
import { UsageError } from "./usage";

/** The most a JSON option may hold: specs and rules are a few KiB; this leaves room for thousands of regions. */
export const MAX_JSON_OPTION_BYTES = 16 * MiB;

/**
 * The JSON document an option names: a file, or standard input for `-` (how the program passes specs, secrets and
 * all), read only when it is of a sane size. A parse error gives the position, never the parser's message: it
 * quotes the input, which may hold a secret.
 */
export function readJsonOption(option: string, source: string): unknown {
    const where = source === "-" ? "(standard input)" : source;
    if (source !== "-" && !fs.existsSync(source)) {
        throw new UsageError(`--${option} ${source}: no such file`);
    }
    const text = readBounded(
        source === "-" ? 0 : source,
        MAX_JSON_OPTION_BYTES,
        `--${option} ${where}`,
        "a spec or rules file is a few KiB",
    );
    try {
        return JSON.parse(text);
    } catch (e) {
        const position = /position (\d+)/.exec((e as Error).message)?.[1];
        throw new UsageError(`--${option} ${where}: not valid JSON${position ? ` (at character ${position})` : ""}`);
    }
}
