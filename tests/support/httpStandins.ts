/**
 * Small HTTP servers on loopback standing in for what `bklite verify` reaches over HTTP: the console behind its
 * ingress (the web app's HTML at `/`; the server's JSON under `/api/v1/`, with bk-lite's login checking the user's
 * Django hash in the real database), a health endpoint, and one that accepts connections and never answers.
 */
import * as crypto from "crypto";
import * as http from "http";
import * as net from "net";
import { Client } from "pg";
import { verifyDjangoPassword } from "../../src/seed/djangoPassword";

export interface HttpStandin {
    url: string;
    port: number;
    stop(): Promise<void>;
}

async function listen(server: http.Server): Promise<HttpStandin> {
    const sockets = new Set<net.Socket>();
    server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        port,
        stop: () =>
            new Promise((resolve) => {
                sockets.forEach((s) => s.destroy());
                server.close(() => resolve());
            }),
    };
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
};

/** The console through its ingress; the login checks `system_mgmt_user` in `pgUrl` as bk-lite's does. */
export function startConsole(pgUrl: string): Promise<HttpStandin> {
    const tokens = new Set<string>();
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", async () => {
            if (req.method === "POST" && req.url === "/api/v1/core/api/login/") {
                const { username, password, domain } = (body ? JSON.parse(body) : {}) as {
                    username?: string;
                    password?: string;
                    domain?: string;
                };
                if (!username || !password) {
                    json(res, 200, { result: false, message: "Username or password cannot be empty" });
                    return;
                }
                const db = new Client({ connectionString: pgUrl });
                await db.connect();
                const { rows } = await db.query<{ password: string }>(
                    "SELECT password FROM system_mgmt_user WHERE username = $1 AND domain = $2",
                    [username, domain],
                );
                await db.end();
                if (rows.length === 0 || !verifyDjangoPassword(password, rows[0].password)) {
                    json(res, 200, { result: false, message: "Username or password is incorrect" });
                    return;
                }
                const token = crypto.randomBytes(16).toString("hex");
                tokens.add(token);
                json(res, 200, { result: true, data: { token, username, domain } });
            } else if (req.url === "/api/v1/core/api/login_info/") {
                const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
                if (token && tokens.has(token)) {
                    json(res, 200, { result: true, data: { username: "admin" } });
                } else {
                    json(res, 401, { result: false, message: "please provide Token" });
                }
            } else if (req.url?.startsWith("/api/v1/")) {
                res.writeHead(404, { "content-type": "text/html" });
                res.end("<h1>Not Found</h1>");
            } else {
                res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
                res.end("<!DOCTYPE html><html><body>BlueKing Lite</body></html>");
            }
        });
    });
    return listen(server);
}

/** A web app answering everything, `/api/v1/` included, with its HTML: an ingress routing /api/v1 wrongly. */
export function startWebOnly(): Promise<HttpStandin> {
    return listen(
        http.createServer((_req, res) => {
            res.writeHead(200, { "content-type": "text/html" });
            res.end("<html>web</html>");
        }),
    );
}

/** `GET /health` answers 200 OK, as VictoriaMetrics and VictoriaLogs do. */
export function startHealth(): Promise<HttpStandin> {
    return listen(
        http.createServer((req, res) => {
            res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "text/plain" });
            res.end(req.url === "/health" ? "OK" : "not found");
        }),
    );
}

/** Accepts connections and requests, and never answers. */
export function startHanging(): Promise<HttpStandin> {
    return listen(http.createServer(() => undefined));
}
