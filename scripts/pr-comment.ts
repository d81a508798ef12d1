/**
 * Upserts ONE pull-request comment identified by a hidden marker (default `<!-- bklite-plan-diff -->`): the first run
 * creates it, every later run edits the same comment, so a PR never collects one comment per push.
 *
 *   GITHUB_TOKEN=... GITHUB_REPOSITORY=owner/repo [GITHUB_API_URL=https://api.github.com] \
 *     ts-node --transpile-only scripts/pr-comment.ts --pr N --body-file F [--marker M] [--author LOGIN]
 *
 * Which comment is "ours": the first (oldest) issue comment whose body contains the marker. With `--author`, only
 * comments by that login count (the workflow passes `github-actions[bot]`, the author of everything GITHUB_TOKEN
 * posts), so a person's comment that happens to quote the marker is never overwritten. GET /user cannot identify
 * the author instead: it answers 403 for the Actions token. Comments are listed oldest first, 100 a page, following
 * the Link header's rel="next" (or the next page number while pages are full), and listing stops at the first match.
 *
 * Exit codes: 0 done, 2 missing or bad argument / environment variable, 1 the API or the network failed (status and
 * the API's message are printed). The token is only ever sent in the Authorization header; it is never printed.
 */
import * as fs from "fs";

export const DEFAULT_MARKER = "<!-- bklite-plan-diff -->";
export const DEFAULT_API_URL = "https://api.github.com";
/** GitHub refuses comment bodies longer than this ("Body is too long (maximum is 65536 characters)"). */
export const GITHUB_COMMENT_LIMIT = 65536;
const PER_PAGE = 100;
/** 100 pages of 100 comments: far beyond any real PR, and a bound on a misbehaving server. */
const MAX_PAGES = 100;

type Fetch = typeof fetch;

export interface UpsertOptions {
    /** API root, e.g. https://api.github.com or https://ghe.example/api/v3 (GITHUB_API_URL). */
    apiUrl: string;
    token: string;
    /** owner/repo (GITHUB_REPOSITORY). */
    repo: string;
    pr: number;
    body: string;
    marker?: string;
    /** Only comments by this login are candidates (e.g. `github-actions[bot]`). */
    author?: string;
    /** Injected for tests or proxies; the global fetch otherwise. */
    fetch?: Fetch;
}

export interface UpsertResult {
    action: "created" | "updated";
    id: number;
    url: string;
    /** True when the body had to be cut to GitHub's limit. */
    truncated: boolean;
    /** Other comments that also carry the marker (left alone). */
    otherMatches: number[];
}

/** Usage or environment problem: exit 2. */
export class UsageError extends Error {}

/** A non-2xx answer from the API. */
export class GitHubApiError extends Error {
    constructor(
        readonly method: string,
        readonly path: string,
        readonly status: number,
        readonly statusText: string,
        readonly apiMessage: string,
    ) {
        super(
            `${method} ${path} failed: HTTP ${status}${statusText ? ` ${statusText}` : ""}${apiMessage ? `: ${apiMessage}` : ""}`,
        );
        this.name = "GitHubApiError";
    }
}

interface IssueComment {
    id: number;
    body?: string | null;
    html_url?: string;
    user?: { login?: string } | null;
}

/**
 * The body as it will be sent: the marker first (prepended when missing) and at most `limit` characters. A cut body
 * ends at a line boundary, closes a code fence left open, and says that it was truncated and where the rest is.
 */
export function prepareBody(
    body: string,
    marker: string = DEFAULT_MARKER,
    limit: number = GITHUB_COMMENT_LIMIT,
): { body: string; truncated: boolean } {
    const withMarker = body.includes(marker) ? body : `${marker}\n${body}`;
    if (withMarker.length <= limit) return { body: withMarker, truncated: false };

    const note = (fence: string) =>
        `${fence ? `\n${fence}` : ""}\n\n---\n> **Truncated:** this comment was cut to fit GitHub's ${limit}-character limit ` +
        `(the full text has ${withMarker.length} characters). The complete output is in the workflow run's artifacts and job summary.\n`;
    // Reserve room for the longest note, then cut at the last line break inside the budget.
    let kept = withMarker.slice(0, Math.max(0, limit - note("~~~~~~~~~~").length));
    if (!kept.includes(marker)) kept = `${marker}\n${kept.slice(0, Math.max(0, kept.length - marker.length - 1))}`;
    const lastBreak = kept.lastIndexOf("\n");
    if (lastBreak >= marker.length) kept = kept.slice(0, lastBreak);
    // Never end on half a surrogate pair.
    if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
    const tail = note(openFence(kept));
    if (kept.length + tail.length > limit) kept = kept.slice(0, Math.max(0, limit - tail.length)); // a fence longer than reserved
    return { body: kept + tail, truncated: true };
}

/** The fence that closes a code block left open at the end of `markdown`, or "" when none is open. */
function openFence(markdown: string): string {
    let open = "";
    for (const line of markdown.split("\n")) {
        const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
        if (!m) continue;
        if (!open) open = m[1];
        else if (m[1][0] === open[0] && m[1].length >= open.length && line.trim() === m[1]) open = "";
    }
    return open;
}

function nextLink(linkHeader: string | null): string | undefined {
    if (!linkHeader) return undefined;
    for (const part of linkHeader.split(",")) {
        const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
        if (m && m[2].split(/\s+/).includes("next")) return m[1];
    }
    return undefined;
}

async function apiMessage(res: Response): Promise<string> {
    const text = await res.text().catch(() => "");
    if (!text) return "";
    try {
        const json = JSON.parse(text) as { message?: unknown; errors?: unknown };
        const parts: string[] = [];
        if (typeof json.message === "string") parts.push(json.message);
        if (Array.isArray(json.errors)) {
            for (const e of json.errors) {
                if (typeof e === "string") parts.push(e);
                else if (e && typeof e === "object") {
                    const o = e as Record<string, unknown>;
                    parts.push(
                        typeof o.message === "string"
                            ? o.message
                            : [o.resource, o.field, o.code].filter((x) => typeof x === "string").join(" "),
                    );
                }
            }
        }
        if (parts.length > 0) return parts.join("; ");
    } catch {
        // not JSON: fall through to the raw text
    }
    return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** Finds the marked comment and edits it, or creates it. Throws GitHubApiError / UsageError / network errors. */
export async function upsertComment(options: UpsertOptions): Promise<UpsertResult> {
    const marker = options.marker ?? DEFAULT_MARKER;
    if (!options.token) throw new UsageError("a GitHub token is required (GITHUB_TOKEN)");
    if (!/^[^/\s]+\/[^/\s]+$/.test(options.repo)) {
        throw new UsageError(`repository must be owner/repo (GITHUB_REPOSITORY), got ${JSON.stringify(options.repo)}`);
    }
    if (!Number.isInteger(options.pr) || options.pr <= 0)
        throw new UsageError(`--pr must be a positive integer, got ${options.pr}`);
    if (!marker.trim()) throw new UsageError("--marker must not be empty");
    const doFetch: Fetch = options.fetch ?? fetch;
    const apiRoot = new URL(options.apiUrl.replace(/\/+$/, "") + "/");
    const [owner, repo] = options.repo.split("/").map(encodeURIComponent);

    const request = async (method: string, url: URL, payload?: unknown): Promise<Response> => {
        // The token only goes to the API's own origin (a Link header cannot send it elsewhere).
        if (url.origin !== apiRoot.origin)
            throw new Error(`refusing to follow ${url.origin}: not the API origin ${apiRoot.origin}`);
        const headers: Record<string, string> = {
            Accept: "application/vnd.github+json",
            Authorization: `Bearer ${options.token}`,
            "User-Agent": "bklite-pr-comment",
            "X-GitHub-Api-Version": "2022-11-28",
        };
        if (payload !== undefined) headers["Content-Type"] = "application/json";
        const res = await doFetch(url, {
            method,
            headers,
            body: payload === undefined ? undefined : JSON.stringify(payload),
        });
        if (!res.ok)
            throw new GitHubApiError(
                method,
                url.pathname + url.search,
                res.status,
                res.statusText,
                await apiMessage(res),
            );
        return res;
    };
    const api = (path: string) => new URL(path.replace(/^\//, ""), apiRoot);

    // 1. Find the marked comment, oldest first.
    let found: IssueComment | undefined;
    const otherMatches: number[] = [];
    let url: URL | undefined = api(`repos/${owner}/${repo}/issues/${options.pr}/comments?per_page=${PER_PAGE}&page=1`);
    for (let page = 1; url && page <= MAX_PAGES; page++) {
        const res = await request("GET", url);
        const comments = (await res.json()) as IssueComment[];
        if (!Array.isArray(comments)) throw new Error(`GET ${url.pathname}: expected a JSON array of comments`);
        for (const c of comments) {
            if (typeof c.body !== "string" || !c.body.includes(marker)) continue;
            if (options.author && c.user?.login !== options.author) continue;
            if (!found) found = c;
            else otherMatches.push(c.id);
        }
        if (found) break;
        const link = nextLink(res.headers.get("link"));
        if (link) url = new URL(link, apiRoot);
        else if (comments.length >= PER_PAGE) {
            url = new URL(url.href);
            url.searchParams.set("page", String(page + 1));
        } else url = undefined;
    }

    // 2. Edit it, or create one.
    const prepared = prepareBody(options.body, marker);
    const res = found
        ? await request("PATCH", api(`repos/${owner}/${repo}/issues/comments/${found.id}`), { body: prepared.body })
        : await request("POST", api(`repos/${owner}/${repo}/issues/${options.pr}/comments`), { body: prepared.body });
    const saved = (await res.json()) as IssueComment;
    return {
        action: found ? "updated" : "created",
        id: typeof saved.id === "number" ? saved.id : found ? found.id : -1,
        url: saved.html_url ?? "",
        truncated: prepared.truncated,
        otherMatches,
    };
}

export interface CliArgs {
    pr: number;
    bodyFile: string;
    marker: string;
    author?: string;
}

export function parseArgs(argv: string[]): CliArgs {
    const values: Record<string, string> = {};
    const known = ["--pr", "--body-file", "--marker", "--author"];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const eq = arg.indexOf("=");
        const name = eq > 0 ? arg.slice(0, eq) : arg;
        if (!known.includes(name)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
        values[name] = value;
    }
    if (values["--pr"] === undefined) throw new UsageError("missing --pr N (the pull request number)");
    if (values["--body-file"] === undefined) throw new UsageError("missing --body-file F (the Markdown to post)");
    if (!/^[1-9][0-9]*$/.test(values["--pr"]))
        throw new UsageError(`--pr must be a positive integer, got ${JSON.stringify(values["--pr"])}`);
    const marker = values["--marker"] ?? DEFAULT_MARKER;
    if (!marker.trim()) throw new UsageError("--marker must not be empty");
    return {
        pr: Number(values["--pr"]),
        bodyFile: values["--body-file"],
        marker,
        author: values["--author"] || undefined,
    };
}

const USAGE = "usage: pr-comment.ts --pr N --body-file F [--marker '<!-- bklite-plan-diff -->'] [--author LOGIN]";

/** The command line: returns the exit code; writes to the given streams (never the token). */
export async function main(
    argv: string[],
    env: NodeJS.ProcessEnv = process.env,
    io: { out: (s: string) => void; err: (s: string) => void; fetch?: Fetch } = {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
    },
): Promise<number> {
    const token = env.GITHUB_TOKEN ?? "";
    // Belt and braces: whatever an error carries, the token is masked before it is printed.
    const redact = (s: string) => (token.length >= 4 ? s.split(token).join("***") : s);
    const fail = (code: number, message: string) => {
        io.err(redact(`pr-comment: ${message}\n`));
        return code;
    };
    try {
        const args = parseArgs(argv);
        if (!token) return fail(2, "GITHUB_TOKEN is not set (the workflow passes secrets.GITHUB_TOKEN through env)");
        const repo = env.GITHUB_REPOSITORY ?? "";
        if (!repo) return fail(2, "GITHUB_REPOSITORY is not set (owner/repo; GitHub Actions sets it)");
        let body: string;
        try {
            body = fs.readFileSync(args.bodyFile, "utf8");
        } catch (e) {
            return fail(
                2,
                `cannot read --body-file ${args.bodyFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
            );
        }
        const result = await upsertComment({
            apiUrl: env.GITHUB_API_URL || DEFAULT_API_URL,
            token,
            repo,
            pr: args.pr,
            body,
            marker: args.marker,
            author: args.author,
            fetch: io.fetch,
        });
        io.out(
            redact(
                `${result.action} comment ${result.id} on ${repo}#${args.pr}${result.url ? `: ${result.url}` : ""}\n`,
            ),
        );
        if (result.truncated) io.err(`pr-comment: the body was truncated to ${GITHUB_COMMENT_LIMIT} characters\n`);
        if (result.otherMatches.length > 0) {
            io.err(
                `pr-comment: other comments also carry the marker and were left alone: ${result.otherMatches.join(", ")}\n`,
            );
        }
        return 0;
    } catch (e) {
        if (e instanceof UsageError) return fail(2, `${e.message}\n${USAGE}`);
        if (e instanceof GitHubApiError) return fail(1, e.message);
        const err = e as Error & { cause?: { code?: string; message?: string } };
        const cause = err.cause ? ` (${err.cause.code ?? err.cause.message ?? ""})` : "";
        return fail(1, `${err.message}${cause}`);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
