import * as fs from "fs";
import { UsageError } from "./usage";

/**
 * The JSON document an option names: a file, or standard input for `-` (how the program passes specs, secrets and
 * all). A parse error gives the position, never the parser's message: it quotes the input, which may hold a secret.
 */
export function readJsonOption(option: string, source: string): unknown {
    let text: string;
    if (source === "-") {
        text = fs.readFileSync(0, "utf8");
    } else if (!fs.existsSync(source)) {
        throw new UsageError(`--${option} ${source}: no such file`);
    } else {
        text = fs.readFileSync(source, "utf8");
    }
    try {
        return JSON.parse(text);
    } catch (e) {
        const position = /position (\d+)/.exec((e as Error).message)?.[1];
        throw new UsageError(`--${option} ${source === "-" ? "(standard input)" : source}: not valid JSON${position ? ` (at character ${position})` : ""}`);
    }
}
