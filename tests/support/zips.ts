/**
 * Zip files made and read by an independent implementation: Python's zipfile (python3 is on every machine the
 * tests run on), so the seeder's own zip code is never checked against itself.
 */
import { execFileSync } from "child_process";

const WRITE = `
import base64, json, sys, zipfile
spec = json.load(sys.stdin)
# A pipe cannot seek: zipfile then writes data descriptors after each entry, as streaming zip tools do.
target = sys.stdout.buffer if spec["streamed"] else open(spec["file"], "wb")
with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:
    for name, data in spec["entries"]:
        z.writestr(name, base64.b64decode(data))
`;

const READ = `
import base64, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit("damaged entry: " + bad)
    print(json.dumps({i.filename: base64.b64encode(z.read(i)).decode() for i in z.infolist()}))
`;

/** Writes a deflated zip with these entries, in this order; `streamed` makes every entry use a data descriptor. */
export function writeZip(
    file: string,
    entries: Array<[string, Buffer | string]>,
    options: { streamed?: boolean } = {},
): void {
    const input = JSON.stringify({
        file,
        streamed: options.streamed === true,
        entries: entries.map(([name, data]) => [name, Buffer.from(data).toString("base64")]),
    });
    const output = execFileSync("python3", ["-c", WRITE], { input, maxBuffer: 256 * 1024 * 1024 });
    if (options.streamed) {
        require("fs").writeFileSync(file, output);
    }
}

/** Every entry of a zip by name, after Python has checked every entry's CRC; throws on a damaged archive. */
export function readZip(file: string): Record<string, Buffer> {
    const out = execFileSync("python3", ["-c", READ, file], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    return Object.fromEntries(
        Object.entries(JSON.parse(out) as Record<string, string>).map(([name, data]) => [
            name,
            Buffer.from(data, "base64"),
        ]),
    );
}
