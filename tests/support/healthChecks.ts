/**
 * The health check each service must have, written out by hand (Docker's exec form), for the Docker and the
 * Kubernetes tests alike: each tool in it is one the service's image variants have (see the service's spec).
 */
export const HEALTH_CHECKS: Readonly<Record<string, string[]>> = {
    postgres: ["CMD-SHELL", "pg_isready -h 127.0.0.1 -U postgres"],
    redis: ["CMD-SHELL", "redis-cli ping | grep -Eq 'PONG|NOAUTH'"],
    nats: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz"],
    server: ["CMD", "curl", "-s", "-o", "/dev/null", "http://127.0.0.1:8000/"],
    web: ["CMD", "wget", "--no-verbose", "--tries=1", "--spider", "http://127.0.0.1:3000/"],
    traefik: ["CMD", "traefik", "healthcheck", "--ping"],
    falkordb: ["CMD-SHELL", "redis-cli ping | grep -Eq 'PONG|NOAUTH'"],
    "victoria-metrics": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8428/health"],
    "victoria-logs": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9428/health"],
    telegraf: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8888/"],
    // busybox wget in the Alpine variant, else bash's /dev/tcp (the Debian variant has neither curl nor wget).
    vector: [
        "CMD-SHELL",
        'wget -q -O /dev/null http://127.0.0.1:8686/health 2>/dev/null || bash -c \'exec 3<>/dev/tcp/127.0.0.1/8686 && printf "GET /health HTTP/1.0\\r\\n\\r\\n" >&3 && grep -q " 200 " <&3\'',
    ],
    "nats-executor": ["CMD-SHELL", "grep -qas '/opt/[n]ats-executor' /proc/[0-9]*/cmdline"],
    minio: ["CMD", "mc", "ready", "local"],
    mlflow: [
        "CMD",
        "python",
        "-c",
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:15000/health', timeout=5)",
    ],
};

/** The same check as a Kubernetes exec probe runs it: CMD as given, CMD-SHELL through sh. */
export function probeOf(service: string): string[] {
    const [kind, ...rest] = HEALTH_CHECKS[service];
    return kind === "CMD-SHELL" ? ["sh", "-c", ...rest] : rest;
}
