// Stand-in for bklite/server (bk-lite's Django server), run by Node in the stand-in image. At start it does to the
// database what the real startup does (migrations create bk-lite's tables; node_init creates region 1 `default`
// with one SidecarEnv row per DEFAULT_ZONE_VAR_*, keys containing "password" AES-encrypted as AESCryptor does;
// create_user makes `admin` with the password `password` when it does not exist), checks the wiring the real server
// needs (the database login, Redis AUTH on the Celery and cache URLs, NATS over TLS for host `nats` with the
// uploaded CA), then answers HTTP on 8000. A failed check exits non-zero: the container never becomes healthy.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const net = require("net");
const { Client } = require("pg");
const { connect } = require("nats");

const env = process.env;
const log = (line) => process.stdout.write(`[server stand-in] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function aesEncrypt(text, secretKey) {
    const key = crypto.createHash("sha256").update(secretKey, "utf8").digest();
    const iv = crypto.randomBytes(16);
    const cipher = crypto.createCipheriv("aes-256-cbc", key, iv);
    const data = Buffer.concat([iv, cipher.update(text, "utf8"), cipher.final()]);
    return data.toString("base64url");
}

function djangoHash(password) {
    const salt = crypto
        .randomBytes(16)
        .toString("base64")
        .replace(/[^A-Za-z0-9]/g, "")
        .slice(0, 22)
        .padEnd(22, "x");
    const digest = crypto.pbkdf2Sync(password, salt, 600000, 32, "sha256").toString("base64");
    return `pbkdf2_sha256$600000$${salt}$${digest}`;
}

async function database() {
    for (let attempt = 1; ; attempt++) {
        const client = new Client({
            host: env.DB_HOST,
            port: Number(env.DB_PORT),
            user: env.DB_USER,
            password: env.DB_PASSWORD,
            database: env.DB_NAME,
        });
        try {
            await client.connect();
            return client;
        } catch (e) {
            if (attempt >= 30) {
                throw new Error(`database ${env.DB_USER}@${env.DB_HOST}/${env.DB_NAME}: ${e.message}`);
            }
            await sleep(1000);
        }
    }
}

async function migrateAndInit(db) {
    const { rows } = await db.query(
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'node_mgmt_cloudregion'",
    );
    if (rows.length === 0) {
        await db.query(fs.readFileSync("/standin/schema.sql", "utf8"));
        log("migrations: bk-lite's tables created");
    }
    // node_init: update_or_create(id=1) of `default`, get_or_create of every DEFAULT_ZONE_VAR_* row.
    await db.query(
        "INSERT INTO node_mgmt_cloudregion (id, created_at, updated_at, created_by, updated_by, name, introduction, domain, updated_by_domain) VALUES (1, now(), now(), '', '', 'default', 'default cloud region!', 'domain.com', 'domain.com') ON CONFLICT (id) DO NOTHING",
    );
    for (const [name, value] of Object.entries(env).filter(([k]) => k.startsWith("DEFAULT_ZONE_VAR_"))) {
        const key = name.slice("DEFAULT_ZONE_VAR_".length);
        const secret = key.toLowerCase().includes("password");
        await db.query(
            "INSERT INTO node_mgmt_sidecarenv (key, value, description, cloud_region_id, type, is_pre) VALUES ($1, $2, '', 1, $3, true) ON CONFLICT (key, cloud_region_id) DO NOTHING",
            [key, secret ? aesEncrypt(value, env.SECRET_KEY) : value, secret ? "secret" : ""],
        );
    }
    const admin = await db.query("SELECT 1 FROM system_mgmt_user WHERE username = 'admin'");
    if (admin.rows.length === 0) {
        await db.query(
            "INSERT INTO system_mgmt_user (username, display_name, email, password, disabled, locale, timezone, group_list, role_list, temporary_pwd, domain) VALUES ('admin', '', 'admin@bklite.net', $1, false, 'zh-Hans', 'Asia/Shanghai', '[]', '[]', false, 'domain.com')",
            [djangoHash("password")],
        );
        log("create_user: admin created with the image's password");
    }
}

/** AUTH and SELECT on a redis:// URL, as Celery and the cache would. */
function redisCheck(name, url) {
    const parsed = new URL(url);
    return new Promise((resolve, reject) => {
        const socket = net.connect(Number(parsed.port || 6379), parsed.hostname);
        let answer = "";
        socket.setTimeout(5000, () => socket.destroy(new Error("timed out")));
        socket.on("error", (e) => reject(new Error(`${name}: ${e.message}`)));
        socket.on("data", (d) => {
            answer += d;
            if (answer.split("\r\n").length > 2) {
                socket.end();
                answer.startsWith("+OK\r\n+OK\r\n")
                    ? resolve()
                    : reject(new Error(`${name}: redis answered ${JSON.stringify(answer)}`));
            }
        });
        socket.on("connect", () =>
            socket.write(`AUTH ${decodeURIComponent(parsed.password)}\r\nSELECT ${parsed.pathname.slice(1) || 0}\r\n`),
        );
    });
}

/** A NATS URL with credentials, as nats-py (the server) and Go (the executor) take it; nats.js wants them apart. */
function natsOptions(serverUrl) {
    const url = new URL(serverUrl);
    return {
        servers: `${url.protocol}//${url.host}`,
        user: decodeURIComponent(url.username),
        pass: decodeURIComponent(url.password),
    };
}

async function natsCheck() {
    const nc = await connect({
        ...natsOptions(env.NATS_SERVERS),
        tls: { ca: fs.readFileSync(env.NATS_TLS_CA_FILE, "utf8") },
        timeout: 5000,
    });
    await nc.flush();
    await nc.close();
}

async function main() {
    const db = await database();
    await migrateAndInit(db);
    await db.end();
    log(`database: ${env.DB_USER}@${env.DB_HOST}/${env.DB_NAME} ok`);
    await redisCheck("CELERY_BROKER_URL", env.CELERY_BROKER_URL);
    await redisCheck("REDIS_CACHE_URL", env.REDIS_CACHE_URL);
    log("redis: AUTH ok on the broker and cache URLs");
    await natsCheck();
    log("nats: TLS connection verified with the CA ok");
    http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () =>
            answer(req, body)
                .then(([status, json]) => {
                    res.writeHead(status, { "content-type": "application/json" });
                    res.end(JSON.stringify(json));
                })
                .catch((e) => {
                    res.writeHead(500, { "content-type": "application/json" });
                    res.end(JSON.stringify({ result: false, message: `System error occurred: ${e.message}` }));
                }),
        );
    }).listen(8000, "0.0.0.0", () => log("listening on 8000"));
}

/** Django's check of a `pbkdf2_sha256$iterations$salt$hash` password. */
function djangoChecks(password, encoded) {
    const [algorithm, iterations, salt, hash] = encoded.split("$");
    return (
        algorithm === "pbkdf2_sha256" &&
        crypto.pbkdf2Sync(password, salt, Number(iterations), 32, "sha256").toString("base64") === hash
    );
}

const tokens = new Set();

/**
 * bk-lite's console API as the web app and `bklite verify` use it: core/api/login/ (local users of domain.com,
 * checked against system_mgmt_user as Django stores them) and core/api/login_info/ with the token; JSON with
 * `result` everywhere, as the Django server answers.
 */
async function answer(req, body) {
    if (req.method === "POST" && req.url === "/api/v1/core/api/login/") {
        const { username, password, domain } = body ? JSON.parse(body) : {};
        if (!username || !password) {
            return [200, { result: false, message: "Username or password cannot be empty" }];
        }
        const db = await database();
        const { rows } = await db.query("SELECT password FROM system_mgmt_user WHERE username = $1 AND domain = $2", [
            username,
            domain,
        ]);
        await db.end();
        if (rows.length === 0 || !djangoChecks(password, rows[0].password)) {
            return [200, { result: false, message: "Username or password is incorrect" }];
        }
        const token = crypto.randomBytes(16).toString("hex");
        tokens.add(token);
        return [200, { result: true, data: { token, username, domain } }];
    }
    if (req.url === "/api/v1/core/api/login_info/") {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization || "")?.[1];
        return token && tokens.has(token)
            ? [200, { result: true, data: { username: "admin" } }]
            : [401, { result: false, message: "please provide Token" }];
    }
    // Any other path: an answer, which is all the health check (curl without -f) asks.
    return [req.url.startsWith("/api/v1/") ? 404 : 200, { standIn: "bklite/server", path: req.url }];
}

// PID 1 ignores SIGTERM unless it handles it: stop at once, as uvicorn does.
process.on("SIGTERM", () => process.exit(0));

main().catch((e) => {
    log(`failed: ${e.message}`);
    process.exit(1);
});
