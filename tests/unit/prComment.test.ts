/**
 * scripts/pr-comment.ts against a real HTTP server on loopback that behaves like the parts of GitHub's REST API the
 * script uses (issue comments: list with pagination, create, edit; auth; 4xx bodies). Nothing mocks fetch.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
    DEFAULT_MARKER,
    GITHUB_COMMENT_LIMIT,
    GitHubApiError,
    main,
    prepareBody,
    upsertComment,
} from "../../scripts/pr-comment";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const SCRIPT = path.join(REPO_ROOT, "scripts", "pr-comment.ts");
const TOKEN = "ghs_fakeToken0123456789abcdefSECRET";
const BOT = "github-actions[bot]";

interface FakeComment {
    id: number;
    body: string;
    user: { login: string; type: string };
    html_url: string;
}

interface Failure {
    method: string;
    status: number;
    body: unknown;
}

/** The issue-comment endpoints of GitHub's REST API, in memory, for repository acme/infra. */
class FakeGitHub {
    readonly comments = new Map<number, FakeComment[]>();
    readonly requests: { method: string; path: string; query: URLSearchParams; authorization?: string }[] = [];
    /** Answer the next request with this method with an error. */
    fail?: Failure;
    /** Send Link headers (GitHub does); without them clients must page while pages are full. */
    linkHeaders = true;
    /** Replace the Link header's next URL (to test that the token is not sent to another origin). */
    nextOverride?: string;
    url = "";
    private nextId = 1000;
    private server = http.createServer((req, res) => this.handle(req, res));

    async start(): Promise<this> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
        return this;
    }

    stop(): Promise<void> {
        this.server.closeAllConnections();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    seed(pr: number, count: number, body: (i: number) => string = (i) => `comment ${i}`, login = "alice"): void {
        const list = this.list(pr);
        for (let i = 0; i < count; i++) list.push(this.make(body(i), login));
    }

    list(pr: number): FakeComment[] {
        if (!this.comments.has(pr)) this.comments.set(pr, []);
        return this.comments.get(pr)!;
    }

    marked(pr: number, marker = DEFAULT_MARKER): FakeComment[] {
        return this.list(pr).filter((c) => c.body.includes(marker));
    }

    private make(body: string, login: string): FakeComment {
        const id = this.nextId++;
        return {
            id,
            body,
            user: { login, type: login.endsWith("[bot]") ? "Bot" : "User" },
            html_url: `https://github.example/acme/infra#issuecomment-${id}`,
        };
    }

    private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
        res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
        res.end(JSON.stringify(body));
    }

    private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const url = new URL(req.url ?? "/", this.url);
        const method = req.method ?? "GET";
        this.requests.push({
            method,
            path: url.pathname,
            query: url.searchParams,
            authorization: req.headers.authorization,
        });
        let raw = "";
        for await (const chunk of req) raw += chunk;

        if (req.headers.authorization !== `Bearer ${TOKEN}`) {
            return this.send(res, 401, {
                message: "Bad credentials",
                documentation_url: "https://docs.github.com/rest",
            });
        }
        if (this.fail && this.fail.method === method) {
            const { status, body } = this.fail;
            this.fail = undefined;
            return this.send(res, status, body);
        }

        let m = /^\/repos\/acme\/infra\/issues\/(\d+)\/comments$/.exec(url.pathname);
        if (m && method === "GET") {
            const all = this.list(Number(m[1]));
            const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), 100);
            const page = Number(url.searchParams.get("page") ?? 1);
            const slice = all.slice((page - 1) * perPage, page * perPage);
            const headers: Record<string, string> = {};
            if (this.linkHeaders && page * perPage < all.length) {
                const next = new URL(url.href);
                next.searchParams.set("page", String(page + 1));
                const last = new URL(url.href);
                last.searchParams.set("page", String(Math.ceil(all.length / perPage)));
                headers.Link = `<${this.nextOverride ?? next.href}>; rel="next", <${last.href}>; rel="last"`;
            }
            return this.send(res, 200, slice, headers);
        }
        if (m && method === "POST") {
            const payload = JSON.parse(raw) as { body?: unknown };
            const invalid = this.validate(payload.body);
            if (invalid) return this.send(res, 422, invalid);
            const comment = this.make(payload.body as string, BOT);
            this.list(Number(m[1])).push(comment);
            return this.send(res, 201, comment);
        }
        m = /^\/repos\/acme\/infra\/issues\/comments\/(\d+)$/.exec(url.pathname);
        if (m && method === "PATCH") {
            const payload = JSON.parse(raw) as { body?: unknown };
            const invalid = this.validate(payload.body);
            if (invalid) return this.send(res, 422, invalid);
            for (const list of this.comments.values()) {
                const comment = list.find((c) => c.id === Number(m![1]));
                if (comment) {
                    comment.body = payload.body as string;
                    return this.send(res, 200, comment);
                }
            }
        }
        return this.send(res, 404, { message: "Not Found" });
    }

    private validate(body: unknown): unknown {
        if (typeof body !== "string" || body.length === 0) {
            return {
                message: "Validation Failed",
                errors: [{ resource: "IssueComment", code: "missing_field", field: "body" }],
            };
        }
        if (body.length > GITHUB_COMMENT_LIMIT) {
            return {
                message: "Validation Failed",
                errors: [
                    {
                        resource: "IssueComment",
                        code: "custom",
                        field: "body",
                        message: "body is too long (maximum is 65536 characters)",
                    },
                ],
            };
        }
        return undefined;
    }
}

const tempDirs: string[] = [];
function tempFile(name: string, content: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bklite-pr-comment-"));
    tempDirs.push(dir);
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
}

/** main() in-process with captured output. */
async function runMain(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await main(argv, env, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
}

/** The script as a separate process (how the workflow runs it). Async, so the fake server keeps answering. */
function runScript(
    argv: string[],
    env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GITHUB_")) clean[k] = v;
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", SCRIPT, ...argv], {
            cwd: REPO_ROOT,
            env: { ...clean, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, out, err }));
    });
}

describe("scripts/pr-comment.ts (against a local fake of the GitHub API)", () => {
    let gh: FakeGitHub;
    const base = () => ({ apiUrl: gh.url, token: TOKEN, repo: "acme/infra", marker: DEFAULT_MARKER });

    beforeEach(async () => {
        gh = await new FakeGitHub().start();
    });
    afterEach(() => gh.stop());
    after(() => {
        for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("creates the comment on the first run and edits the same one afterwards", async () => {
        gh.seed(7, 3);
        const first = await upsertComment({ ...base(), pr: 7, body: `${DEFAULT_MARKER}\n## plan diff\nfirst` });
        assert.strictEqual(first.action, "created");
        const second = await upsertComment({ ...base(), pr: 7, body: `${DEFAULT_MARKER}\n## plan diff\nsecond` });
        assert.strictEqual(second.action, "updated");
        assert.strictEqual(second.id, first.id);
        const third = await upsertComment({ ...base(), pr: 7, body: `${DEFAULT_MARKER}\n## plan diff\nthird` });
        assert.strictEqual(third.id, first.id);

        const marked = gh.marked(7);
        assert.strictEqual(marked.length, 1, "exactly one marked comment");
        assert.strictEqual(marked[0].body, `${DEFAULT_MARKER}\n## plan diff\nthird`);
        assert.strictEqual(gh.list(7).length, 4, "the three other comments are untouched and nothing was duplicated");
        assert.deepStrictEqual(
            gh.requests.map((r) => `${r.method} ${r.path}`),
            [
                "GET /repos/acme/infra/issues/7/comments",
                "POST /repos/acme/infra/issues/7/comments",
                "GET /repos/acme/infra/issues/7/comments",
                `PATCH /repos/acme/infra/issues/comments/${first.id}`,
                "GET /repos/acme/infra/issues/7/comments",
                `PATCH /repos/acme/infra/issues/comments/${first.id}`,
            ],
        );
        assert.ok(gh.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
        assert.ok(gh.requests.filter((r) => r.method === "GET").every((r) => r.query.get("per_page") === "100"));
    });

    it("prepends the marker when the body lacks it, and keeps other PRs' comments apart", async () => {
        await upsertComment({ ...base(), pr: 7, body: "no marker here" });
        const other = await upsertComment({ ...base(), pr: 8, body: "another PR" });
        assert.strictEqual(other.action, "created");
        assert.strictEqual(gh.list(7)[0].body, `${DEFAULT_MARKER}\nno marker here`);
        assert.strictEqual(gh.marked(7).length, 1);
        assert.strictEqual(gh.marked(8).length, 1);
    });

    for (const linkHeaders of [true, false]) {
        it(`finds the marked comment on page 2 of 150 comments (${linkHeaders ? "Link header" : "no Link header: full pages"})`, async () => {
            gh.linkHeaders = linkHeaders;
            gh.seed(7, 130);
            gh.seed(7, 1, () => `${DEFAULT_MARKER}\nold plan`, BOT);
            gh.seed(7, 19);
            const id = gh.marked(7)[0].id;

            const result = await upsertComment({ ...base(), pr: 7, body: "new plan" });
            assert.strictEqual(result.action, "updated");
            assert.strictEqual(result.id, id);
            assert.strictEqual(gh.marked(7).length, 1);
            assert.strictEqual(gh.list(7).length, 150);
            assert.strictEqual(gh.marked(7)[0].body, `${DEFAULT_MARKER}\nnew plan`);
            assert.deepStrictEqual(
                gh.requests.map((r) => `${r.method} ${r.query.get("page") ?? ""}`),
                ["GET 1", "GET 2", "PATCH "],
            );
        });
    }

    it("pages past exactly 100 unmarked comments (an empty page 2) before creating", async () => {
        gh.linkHeaders = false;
        gh.seed(7, 100);
        const result = await upsertComment({ ...base(), pr: 7, body: "plan" });
        assert.strictEqual(result.action, "created");
        assert.deepStrictEqual(
            gh.requests.map((r) => `${r.method} ${r.query.get("page") ?? ""}`),
            ["GET 1", "GET 2", "POST "],
        );
        assert.strictEqual(gh.list(7).length, 101);
    });

    it("with --author, never edits someone else's comment that quotes the marker", async () => {
        gh.seed(7, 1, () => `I saw ${DEFAULT_MARKER} in the source`, "alice");
        const result = await upsertComment({ ...base(), pr: 7, body: "plan", author: BOT });
        assert.strictEqual(result.action, "created");
        assert.strictEqual(gh.list(7)[0].body, `I saw ${DEFAULT_MARKER} in the source`);
        const again = await upsertComment({ ...base(), pr: 7, body: "plan 2", author: BOT });
        assert.strictEqual(again.id, result.id);
        assert.strictEqual(gh.marked(7).filter((c) => c.user.login === BOT).length, 1);
    });

    it("edits the oldest of several marked comments and reports the others", async () => {
        gh.seed(7, 2, (i) => `${DEFAULT_MARKER}\nstale ${i}`, BOT);
        const [oldest, newer] = gh.marked(7);
        const result = await upsertComment({ ...base(), pr: 7, body: "plan" });
        assert.strictEqual(result.id, oldest.id);
        assert.deepStrictEqual(result.otherMatches, [newer.id]);
    });

    it("truncates a body over GitHub's 65536-character limit with a note, closing an open code fence", async () => {
        const huge = `${DEFAULT_MARKER}\n## plan diff\n\`\`\`diff\n${"+ resource line\n".repeat(6000)}\`\`\`\n`;
        assert.ok(huge.length > GITHUB_COMMENT_LIMIT);
        const result = await upsertComment({ ...base(), pr: 7, body: huge });
        assert.strictEqual(result.truncated, true);
        const posted = gh.list(7)[0].body; // the fake refuses (422) anything over the limit, as GitHub does
        assert.ok(posted.length <= GITHUB_COMMENT_LIMIT, `${posted.length}`);
        assert.ok(posted.startsWith(DEFAULT_MARKER));
        assert.match(posted, /\*\*Truncated:\*\* this comment was cut to fit GitHub's 65536-character limit/);
        assert.strictEqual((posted.match(/^```/gm) || []).length % 2, 0, "the code fence is closed before the note");

        const small = prepareBody("short", DEFAULT_MARKER);
        assert.deepStrictEqual(small, { body: `${DEFAULT_MARKER}\nshort`, truncated: false });
        const exact = prepareBody(`${DEFAULT_MARKER}\n${"x".repeat(GITHUB_COMMENT_LIMIT - DEFAULT_MARKER.length - 1)}`);
        assert.strictEqual(exact.truncated, false);
        const cut = prepareBody(`${"é".repeat(40)}\n${"😀".repeat(40000)}`, DEFAULT_MARKER, 1000);
        assert.ok(cut.truncated && cut.body.length <= 1000 && cut.body.startsWith(DEFAULT_MARKER));
    });

    it("surfaces a 403 with its status and the API's message", async () => {
        gh.fail = {
            method: "POST",
            status: 403,
            body: { message: "Resource not accessible by integration", documentation_url: "x" },
        };
        await assert.rejects(
            upsertComment({ ...base(), pr: 7, body: "plan" }),
            (e: unknown) =>
                e instanceof GitHubApiError &&
                e.status === 403 &&
                e.apiMessage === "Resource not accessible by integration" &&
                /POST \/repos\/acme\/infra\/issues\/7\/comments failed: HTTP 403 Forbidden: Resource not accessible by integration/.test(
                    e.message,
                ),
        );
        assert.strictEqual(gh.list(7).length, 0);

        gh.fail = { method: "GET", status: 403, body: { message: "API rate limit exceeded for installation" } };
        const r = await runMain(["--pr", "7", "--body-file", tempFile("b.md", "plan")], {
            GITHUB_TOKEN: TOKEN,
            GITHUB_REPOSITORY: "acme/infra",
            GITHUB_API_URL: gh.url,
        });
        assert.strictEqual(r.code, 1);
        assert.match(r.err, /HTTP 403 .*API rate limit exceeded for installation/);
        assert.ok(!r.err.includes(TOKEN) && !r.out.includes(TOKEN));
    });

    it("surfaces a 422 with the validation errors", async () => {
        gh.seed(7, 1, () => `${DEFAULT_MARKER}\nold`, BOT);
        gh.fail = {
            method: "PATCH",
            status: 422,
            body: {
                message: "Validation Failed",
                errors: [{ resource: "IssueComment", code: "custom", field: "body", message: "body is locked" }],
            },
        };
        const r = await runMain(["--pr", "7", "--body-file", tempFile("b.md", "plan")], {
            GITHUB_TOKEN: TOKEN,
            GITHUB_REPOSITORY: "acme/infra",
            GITHUB_API_URL: gh.url,
        });
        assert.strictEqual(r.code, 1);
        assert.match(
            r.err,
            /PATCH \/repos\/acme\/infra\/issues\/comments\/\d+ failed: HTTP 422 Unprocessable Entity: Validation Failed; body is locked/,
        );
        assert.strictEqual(gh.marked(7)[0].body, `${DEFAULT_MARKER}\nold`);
    });

    it("masks the token even when an error message echoes it, and never sends it to another origin", async () => {
        gh.fail = { method: "GET", status: 401, body: { message: `token ${TOKEN} is revoked` } };
        const r = await runMain(["--pr", "7", "--body-file", tempFile("b.md", "plan")], {
            GITHUB_TOKEN: TOKEN,
            GITHUB_REPOSITORY: "acme/infra",
            GITHUB_API_URL: gh.url,
        });
        assert.strictEqual(r.code, 1);
        assert.match(r.err, /HTTP 401 .*token \*\*\* is revoked/);
        assert.ok(!r.err.includes(TOKEN));

        gh.seed(7, 150);
        gh.nextOverride = "http://elsewhere.invalid/repos/acme/infra/issues/7/comments?page=2";
        await assert.rejects(
            upsertComment({ ...base(), pr: 7, body: "plan" }),
            /refusing to follow http:\/\/elsewhere\.invalid/,
        );
        assert.strictEqual(gh.list(7).length, 150, "nothing was posted");
    });

    it("names the missing environment variable or argument (exit 2)", async () => {
        const body = tempFile("b.md", "plan");
        const env = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/infra", GITHUB_API_URL: gh.url };
        const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
            [["--pr", "7", "--body-file", body], { ...env, GITHUB_TOKEN: "" }, /GITHUB_TOKEN is not set/],
            [
                ["--pr", "7", "--body-file", body],
                { ...env, GITHUB_REPOSITORY: undefined },
                /GITHUB_REPOSITORY is not set/,
            ],
            [
                ["--pr", "7", "--body-file", body],
                { ...env, GITHUB_REPOSITORY: "acme" },
                /owner\/repo \(GITHUB_REPOSITORY\)/,
            ],
            [["--body-file", body], env, /missing --pr N/],
            [["--pr", "7"], env, /missing --body-file F/],
            [["--pr", "seven", "--body-file", body], env, /--pr must be a positive integer/],
            [["--pr", "7", "--body-file"], env, /--body-file needs a value/],
            [["--pr", "7", "--body-file", body, "--force"], env, /unknown argument "--force"/],
            [
                ["--pr", "7", "--body-file", "/nonexistent/body.md"],
                env,
                /cannot read --body-file \/nonexistent\/body\.md: ENOENT/,
            ],
        ];
        for (const [argv, e, expected] of cases) {
            const r = await runMain(argv, e);
            assert.strictEqual(r.code, 2, `${argv.join(" ")}: ${r.err}`);
            assert.match(r.err, expected);
            assert.ok(!r.err.includes(TOKEN));
        }
        assert.strictEqual(gh.requests.length, 0, "nothing is sent when the input is incomplete");
    });

    it("runs as a script: exit 0 create then update, 1 on an HTTP error, 2 on a missing variable; the token never printed", async () => {
        const body = tempFile("comment.md", `${DEFAULT_MARKER}\n## plan diff\nfrom the CLI`);
        const env = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: "acme/infra", GITHUB_API_URL: gh.url };
        const args = ["--pr", "12", "--body-file", body, "--marker", DEFAULT_MARKER, "--author", BOT];

        const created = await runScript(args, env);
        assert.strictEqual(created.code, 0, created.err);
        assert.match(created.out, /^created comment \d+ on acme\/infra#12: https:\/\/github\.example\//);
        const updated = await runScript(args, env);
        assert.strictEqual(updated.code, 0, updated.err);
        assert.match(updated.out, /^updated comment \d+ on acme\/infra#12/);
        assert.strictEqual(gh.marked(12).length, 1);

        gh.fail = { method: "PATCH", status: 403, body: { message: "Resource not accessible by integration" } };
        const forbidden = await runScript(args, env);
        assert.strictEqual(forbidden.code, 1);
        assert.match(forbidden.err, /HTTP 403 Forbidden: Resource not accessible by integration/);

        const missing = await runScript(args, { GITHUB_REPOSITORY: "acme/infra", GITHUB_API_URL: gh.url });
        assert.strictEqual(missing.code, 2);
        assert.match(missing.err, /GITHUB_TOKEN is not set/);

        for (const r of [created, updated, forbidden, missing]) {
            assert.ok(!r.out.includes(TOKEN) && !r.err.includes(TOKEN), "the token is never printed");
        }
    });
});
