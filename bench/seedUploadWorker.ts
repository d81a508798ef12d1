/** Child process of the seeding benchmark: uploads one file and reports its time and its own peak memory. */
import { connect } from "nats";
import { ObjectBucket } from "../components/seed/objectStore";
import { sha256File } from "../components/images/checksums";

async function main(): Promise<void> {
    const [mode, file, url, user, pass, ca, bucket] = process.argv.slice(2);
    const started = process.hrtime.bigint();
    if (mode === "hash") {
        await sha256File(file);
    } else {
        const nc = await connect({ servers: url, user, pass, tls: { ca } });
        const store = await ObjectBucket.open(nc, bucket);
        const info = await store.put(`bench/${Date.now()}`, file, { description: "bench" });
        if (info.size === 0) {
            throw new Error("nothing uploaded");
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
