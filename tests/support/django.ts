/**
 * Django's own password hashers, as the bk-lite server checks console logins: PyPI's Django at the version the
 * server pins (server/pyproject.toml on huangpu-dev: django==4.2.22), installed once per machine into the test
 * cache (pip, --target: nothing touches the system's Python) and run with default settings, as the server has no
 * PASSWORD_HASHERS of its own.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { requireBinary } from "./processes";
import { cacheDir, cachedDir } from "./testCache";

/** Django and what its hashers import, pinned. */
export const DJANGO = { version: "4.2.22", requirements: ["django==4.2.22", "asgiref==3.8.1", "sqlparse==0.5.3"] };

export function djangoPath(log: (line: string) => void = () => undefined): string {
    const dir = path.join(cacheDir(), "pypi", `django-${DJANGO.version}`);
    return cachedDir(dir, log, (staging) => {
        log(`installing Django ${DJANGO.version} from PyPI into ${dir} (once per machine)`);
        execFileSync(
            requireBinary("python3"),
            ["-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:", "--target", staging].concat(
                DJANGO.requirements,
            ),
            { stdio: ["ignore", "ignore", "pipe"], timeout: 5 * 60 * 1000 },
        );
    });
}

function django(script: string, args: string[]): string {
    const setup = "from django.conf import settings\nsettings.configure()\n";
    return execFileSync(requireBinary("python3"), ["-c", setup + script, ...args], {
        encoding: "utf8",
        env: { ...process.env, PYTHONPATH: djangoPath((line) => process.stderr.write(`      ${line}\n`)) },
    }).trim();
}

/** Django's `check_password`: whether `encoded` is a hash of `password`, as the server's login decides. */
export function djangoChecks(password: string, encoded: string): boolean {
    const script =
        "import sys\nfrom django.contrib.auth.hashers import check_password\nprint(check_password(sys.argv[1], sys.argv[2]))";
    return django(script, [password, encoded]) === "True";
}

/** Django's `make_password` with a given salt, as the server's create_user stores a password. */
export function djangoHash(password: string, salt = "bkliteTestSalt0123456A"): string {
    const script =
        "import sys\nfrom django.contrib.auth.hashers import make_password\nprint(make_password(sys.argv[1], sys.argv[2]))";
    return django(script, [password, salt]);
}
