/**
 * The controller package agents install carries the CA they verify NATS with: `fusion-collectors/certs/ca.crt`,
 * which regions point agents at (NATS_TLS_CA_FILE=/opt/fusion-collectors/certs/ca.crt). The huangpu fork patched it
 * in by hand before every upload; seeding does it for every controller zip, with this stack's CA.
 */
import * as fs from "fs";
import * as path from "path";
import { ZipError, writeZipWithFile } from "./zipArchive";

/** Where the CA goes in the package (the package unpacks to /opt/fusion-collectors). */
export const PACKAGE_CA_ENTRY = "fusion-collectors/certs/ca.crt";

/**
 * A copy of the controller zip `file` in `dir`, under the same file name, holding `caPem` as its CA (any CA it had
 * is replaced). Deterministic: the same package and CA give the same bytes.
 */
export function controllerWithCa(file: string, caPem: string, dir: string): string {
    const output = path.join(dir, path.basename(file));
    try {
        const entries = writeZipWithFile(file, output, PACKAGE_CA_ENTRY, Buffer.from(caPem, "utf8"));
        if (!entries.some((e) => e.name.startsWith("fusion-collectors/"))) {
            throw new ZipError("it has no fusion-collectors/ directory at its top, so it is not a controller package");
        }
    } catch (e) {
        fs.rmSync(output, { force: true });
        if (e instanceof ZipError) {
            throw new Error(`controller package ${file}: ${e.message}; nothing was written`, { cause: e });
        }
        throw e;
    }
    return output;
}
