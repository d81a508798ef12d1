/**
 * The console through the ingress, as a browser and the web app use it: the web app at `/`, the server under
 * `/api/v1/` (told apart by what answers: the server's JSON with `result`, the web app's HTML), and the login the
 * web app makes (bk-lite's `core/api/login/`, local users in domain `domain.com`), then a call with its token.
 */
import { Check, CheckContext, fail, ok, reason } from "./check";

/** The realm of the console's local users (what the sign-in page sends for them). */
const LOGIN_DOMAIN = "domain.com";
const LOGIN_PATH = "/api/v1/core/api/login/";
const LOGIN_INFO_PATH = "/api/v1/core/api/login_info/";

interface Answer {
    status: number;
    type: string;
    json?: { result?: unknown; message?: unknown; data?: { token?: unknown } };
}

async function request(context: CheckContext, url: string, init: RequestInit = {}): Promise<Answer> {
    const response = await fetch(url, { ...init, signal: context.signal, redirect: "follow" });
    const type = (response.headers.get("content-type") ?? "").split(";")[0];
    const text = await response.text();
    let json: Answer["json"];
    try {
        json = type.includes("json") ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    return { status: response.status, type: type || "no content type", json };
}

const postJson = (context: CheckContext, url: string, body: unknown) =>
    request(context, url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
    });

/** Whether an answer is the server's (Django's JSON with `result`), not the web app's. */
const fromServer = (answer: Answer) => answer.json !== undefined && "result" in answer.json;

export function consoleChecks(): Check[] {
    return [
        {
            name: "console",
            async run(context) {
                const url = `${context.spec.consoleUrl}/`;
                const expected = `HTTP 200 with the web app's HTML at ${url}`;
                const fix =
                    "check that traefik and web are running and that bklite:publicUrl, bklite:hostAddress and bklite:httpPort say where the console answers";
                try {
                    const answer = await request(context, url);
                    const found = `HTTP ${answer.status}, ${answer.type}`;
                    return answer.status === 200 && answer.type === "text/html" && !fromServer(answer)
                        ? ok(expected, found)
                        : fail(expected, found, fix);
                } catch (err) {
                    return fail(expected, reason(err), fix);
                }
            },
        },
        {
            name: "api",
            async run(context) {
                const url = `${context.spec.consoleUrl}${LOGIN_PATH}`;
                const expected = `the server's JSON ({"result": false}) for an empty login at ${url}`;
                try {
                    const answer = await postJson(context, url, {});
                    const found = fromServer(answer)
                        ? `HTTP ${answer.status}, the server's JSON (result ${JSON.stringify(answer.json!.result)})`
                        : `HTTP ${answer.status}, ${answer.type}: not the server`;
                    if (answer.status === 200 && fromServer(answer)) {
                        return ok(expected, found);
                    }
                    return fail(
                        expected,
                        found,
                        answer.type === "text/html"
                            ? "/api/v1 is answered by the web app: the ingress must route PathPrefix(/api/v1) to server:8000 ahead of web's catch-all"
                            : "check that the server is running and healthy (docker logs bklite-<stack>-server, or kubectl logs deploy/server)",
                    );
                } catch (err) {
                    return fail(expected, reason(err), "check that traefik and the server are running");
                }
            },
        },
    ];
}

/** The console login as the web app makes it, then an authenticated call with the token it got. */
export function loginCheck(username: string): Check {
    return {
        name: "login",
        async run(context) {
            const expected = `${username} logs in (result true, a token) and the token is accepted`;
            const password = context.secrets.adminPassword;
            if (password === undefined) {
                return fail(
                    expected,
                    "no password to try",
                    "set BKLITE_ADMIN_PASSWORD, or pass the stack's outputs with --outputs",
                );
            }
            try {
                const answer = await postJson(context, `${context.spec.consoleUrl}${LOGIN_PATH}`, {
                    username,
                    password,
                    domain: LOGIN_DOMAIN,
                });
                const token = answer.json?.data?.token;
                if (answer.json?.result !== true || typeof token !== "string") {
                    const message =
                        typeof answer.json?.message === "string"
                            ? answer.json.message
                            : `HTTP ${answer.status}, ${answer.type}`;
                    return fail(
                        expected,
                        `refused: ${message}`,
                        "the console's password is not the stack's adminPassword: seeding sets it (`pulumi up`, or `bklite seed apply` with the stack's spec); 'System error occurred' means the server cannot reach NATS",
                    );
                }
                const info = await request(context, `${context.spec.consoleUrl}${LOGIN_INFO_PATH}`, {
                    headers: { authorization: `Bearer ${token}` },
                });
                return info.status === 200 && info.json?.result === true
                    ? ok(expected, "logged in; login_info answered with the token")
                    : fail(
                          expected,
                          `logged in, but login_info answered HTTP ${info.status}`,
                          "check the server's log for authentication errors",
                      );
            } catch (err) {
                return fail(expected, reason(err), "check that traefik and the server are running");
            }
        },
    };
}
