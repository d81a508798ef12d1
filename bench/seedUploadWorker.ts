/**
 * Child process of the seeding benchmark: uploads and verifies one file (or only hashes it) and reports the time
 * and its own peak memory. The NATS password arrives on argv: it is the benchmark's throwaway server's.
 */
import { connect } from "nats";
import { ObjectBucket } from "../src/seed/objectStore";
import { sha256File } from "../src/supply/checksums";

async function main(): Promise<void> {
    const [mode, file, url, user, pass, ca, bucket] = process.argv.slice(2);
    const started = process.hrtime.bigint();
    if (mode === "hash") {
        await sha256File(file);
    } else {
        const nc = await connect({ servers: url, user, pass, tls: { ca } });
        const store = await ObjectBucket.open(nc, bucket);
        // What `bklite seed apply` does per object: stream it in, then read it back to verify the digest.
        const info = await store.put(`bench/${Date.now()}`, file, { description: "bench" });
        const readBack = await store.readDigest(info);
        if (readBack.digest !== info.digest) {
            throw new Error("the object does not read back as uploaded");
        }
        await nc.close();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS }));
}

main().catch((err) => {
    process.stderr.write(String(err));
    process.exitCode = 1;
});
