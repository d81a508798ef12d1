/**
 * `bklite streams apply` for real against a NATS JetStream server running the stack's own rendered config, and the
 * metrics path through it: an agent's line in influx format on `metrics.<ip>` read back by a consumer made the way
 * the server-side Telegraf makes it.
 */
import * as assert from "assert";
import * as fs from "fs";
import { connect, consumerOpts } from "nats";
import { METRICS_QUEUE_GROUP, METRICS_STREAM, renderTelegrafConfig } from "../../src/services/catalog/telegraf";
import { settingsOf } from "../../src/nats/streams";
import { StreamSettings } from "../../src/nats/streamSettings";
import { parse } from "smol-toml";
import { CliResult, bkliteProcess } from "../support/cli";
import { TestNats, makeCertificates, startNats } from "../support/nats";
import { freePort, tempDir } from "../support/processes";

describe("bklite streams apply (real NATS JetStream)", function () {
    this.timeout(120000);
    let nats: TestNats;
    let env: NodeJS.ProcessEnv;

    before(async () => {
        nats = await startNats();
        env = {
            ...process.env,
            BKLITE_NATS_URL: nats.url,
            BKLITE_NATS_USER: nats.user,
            BKLITE_NATS_PASSWORD: nats.password,
            BKLITE_NATS_CA: nats.caFile,
        };
    });

    after(async () => {
        await nats?.stop();
    });

    const apply = (streams: unknown, extraEnv: NodeJS.ProcessEnv = {}): CliResult =>
        bkliteProcess(["streams", "apply", "--spec", "-"], {
            env: { ...env, ...extraEnv },
            input: JSON.stringify({ streams }),
        });

    async function streamInfo(name: string) {
        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        try {
            return await (await nc.jetstreamManager()).streams.info(name);
        } finally {
            await nc.close();
        }
    }

    it("creates the metrics stream with upstream's settings, then changes nothing", async () => {
        const first = apply([METRICS_STREAM]);
        assert.strictEqual(first.code, 0, first.stderr);
        assert.deepStrictEqual(JSON.parse(first.stdout), { created: ["metrics"], updated: [], unchanged: [] });
        assert.match(first.stderr, /stream metrics: created \(metrics\.\*\)/);
        const info = await streamInfo("metrics");
        assert.deepStrictEqual(settingsOf(info.config), METRICS_STREAM);
        assert.deepStrictEqual(
            {
                maxConsumers: info.config.max_consumers,
                rollup: info.config.allow_rollup_hdrs,
                denyDelete: info.config.deny_delete,
                denyPurge: info.config.deny_purge,
            },
            { maxConsumers: -1, rollup: false, denyDelete: false, denyPurge: false },
        );

        const again = apply([METRICS_STREAM]);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.deepStrictEqual(JSON.parse(again.stdout), { created: [], updated: [], unchanged: ["metrics"] });
        assert.strictEqual((await streamInfo("metrics")).created, info.created, "the same stream, not a new one");
    });

    it("corrects changed limits in place, and refuses a change JetStream cannot make, naming it, changing nothing", async () => {
        const longer: StreamSettings = { ...METRICS_STREAM, maxAgeSeconds: 3600 };
        const updated = apply([longer]);
        assert.strictEqual(updated.code, 0, updated.stderr);
        assert.deepStrictEqual(JSON.parse(updated.stdout).updated, ["metrics"]);
        assert.match(updated.stderr, /stream metrics: updated maxAgeSeconds/);
        assert.strictEqual(settingsOf((await streamInfo("metrics")).config).maxAgeSeconds, 3600);

        const refused = apply([{ ...METRICS_STREAM, storage: "memory" }]);
        assert.strictEqual(refused.code, 1);
        assert.match(
            refused.stderr,
            /stream metrics: storage is "file", the spec says "memory"; JetStream cannot change this in place/,
        );
        assert.strictEqual(settingsOf((await streamInfo("metrics")).config).maxAgeSeconds, 3600, "nothing was changed");
        assert.strictEqual(apply([METRICS_STREAM]).code, 0, "and back");
    });

    it("refuses a bad spec with every problem at once, and a missing connection, before connecting", () => {
        const bad = apply([{ ...METRICS_STREAM, subjects: [], maxBytes: "100MB", retention: "forever" }]);
        assert.strictEqual(bad.code, 2);
        assert.match(bad.stderr, /the streams spec has 3 problem\(s\); nothing was changed/);
        assert.match(bad.stderr, /streams\[0\]\.subjects: must be a non-empty list/);
        assert.match(bad.stderr, /streams\[0\]\.retention: must be one of limits, interest, workqueue/);
        assert.match(bad.stderr, /streams\[0\]\.maxBytes: must be a whole number/);
        const unset = apply([METRICS_STREAM], { BKLITE_NATS_PASSWORD: "" });
        assert.strictEqual(unset.code, 2);
        assert.match(unset.stderr, /missing environment: BKLITE_NATS_PASSWORD/);
        const malformed = apply([METRICS_STREAM], { BKLITE_NATS_URL: "https://127.0.0.1:4222" });
        assert.strictEqual(malformed.code, 2);
        assert.match(
            malformed.stderr,
            /BKLITE_NATS_URL has the scheme https, not nats or tls: write it as tls:\/\/HOST:PORT/,
        );
    });

    it("says what a failed connection means, which variable to fix and how, without retrying or printing the password", async () => {
        const otherDir = tempDir("other-ca");
        const otherCa = makeCertificates(otherDir).ca;
        const cases: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
            [
                "password",
                { BKLITE_NATS_PASSWORD: "not-the-password-4711" },
                /NATS at 127\.0\.0\.1:\d+ refused the user "bklite" and its password \(Authorization Violation\): set BKLITE_NATS_USER and BKLITE_NATS_PASSWORD/,
            ],
            [
                "another CA",
                { BKLITE_NATS_CA: otherCa },
                /NATS's certificate at 127\.0\.0\.1:\d+ could not be verified \(unable to verify the first certificate\): the CA in BKLITE_NATS_CA did not sign it/,
            ],
            [
                "no CA",
                { BKLITE_NATS_CA: "" },
                /could not be verified \(unable to verify the first certificate\): BKLITE_NATS_CA is not set; set BKLITE_NATS_CA to the stack's CA/,
            ],
            [
                "closed port",
                { BKLITE_NATS_URL: `tls://127.0.0.1:${await freePort()}` },
                /nothing accepts connections at 127\.0\.0\.1:\d+ \(connection refused\): BKLITE_NATS_URL must name the stack's NATS client port/,
            ],
            [
                "unknown host",
                { BKLITE_NATS_URL: "tls://no-such-host.invalid:4222" },
                /the NATS host in BKLITE_NATS_URL \(no-such-host\.invalid:4222\) is not known to DNS/,
            ],
        ];
        try {
            for (const [label, extra, expected] of cases) {
                const result = apply([METRICS_STREAM], extra);
                assert.strictEqual(result.code, 1, `${label}: ${result.stderr}`);
                assert.match(result.stderr, expected, label);
                assert.doesNotMatch(result.stderr, /not-the-password-4711|nats-test-password/, label);
            }
        } finally {
            fs.rmSync(otherDir, { recursive: true, force: true });
        }
    });

    it("carries an agent's metric from metrics.<ip> to a consumer made as the server's Telegraf makes it", async () => {
        // The consumer side as telegraf.conf says: JetStream subjects, a queue group, influx lines.
        const telegraf = parse(renderTelegrafConfig()) as any;
        const input = telegraf.inputs.nats_consumer[0];
        assert.deepStrictEqual(input.jetstream_subjects, METRICS_STREAM.subjects);
        assert.strictEqual(input.queue_group, METRICS_QUEUE_GROUP);
        assert.strictEqual(input.data_format, "influx");

        const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, tls: { ca: nats.caPem } });
        try {
            const js = nc.jetstream();
            const opts = consumerOpts();
            opts.queue(input.queue_group);
            opts.durable(input.queue_group);
            opts.deliverTo(`deliver.${input.queue_group}`);
            opts.deliverNew();
            opts.ackExplicit();
            opts.manualAck();
            const subscription = await js.subscribe(input.jetstream_subjects[0], opts);

            // An agent's Telegraf publishes to metrics.${node.ip_filter}: its IP with the dots as dashes.
            const line = "cpu,host=web-01,instance_id=10-1-2-3 usage_idle=97.5 1700000000000000000";
            const agent = await connect({
                servers: nats.url,
                user: nats.user,
                pass: nats.password,
                tls: { ca: nats.caPem },
            });
            const ack = await agent.jetstream().publish("metrics.10-1-2-3", new TextEncoder().encode(line));
            assert.strictEqual(ack.stream, "metrics", "the stream captures the agent's subject");
            await agent.close();

            const received = await new Promise<string>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error("no metric arrived within 10 s")), 10000);
                void (async () => {
                    for await (const message of subscription) {
                        message.ack();
                        clearTimeout(timer);
                        resolve(new TextDecoder().decode(message.data));
                        return;
                    }
                })();
            });
            assert.strictEqual(received, line);
            subscription.unsubscribe();
        } finally {
            await nc.close();
        }
    });
});
