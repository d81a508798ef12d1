/**
 * Every `bklite` command as data: what it does, its options, the environment it reads, its exit codes and an
 * example. The parser, `--help` and the reference are all made from this table, so help cannot leave an option out.
 * Each command's modules load only when it runs (`load`): this file and its imports stay free of Pulumi, pg and
 * nats, so `bklite --help` costs little more than starting Node.
 */
import * as fs from "fs";
import * as path from "path";
import { closest } from "../src/util/editDistance";
import { SEED_ENV_HELP } from "../src/seed/connection";
import { BACKUP_ENV_HELP } from "../src/backup/env";
import { VERIFY_SECRETS_HELP } from "../src/verify/env";
import { ACCESS_ENV, ACCESS_OPTIONS_TABLE } from "../src/runtimes/accessOptions";
import { stackNameProblem } from "../src/config/stackName";
import { CommandSpec, OptionSpec } from "./types";

export type { CommandHandler, CommandSpec, Invocation, OptionSpec } from "./types";

/** The exit codes every command shares. */
export const EXIT_CODES: Record<number, string> = {
    0: "done",
    1: "something failed (each failure is named)",
    2: "bad usage or bad input (config, spec, rules, plan or export), reported before anything changed",
};

/** Read by every command. */
export const COMMON_ENVIRONMENT: Record<string, string> = {
    BKLITE_DEBUG: "set to anything: print the stack trace of an unexpected error",
};

/** The options of a command that reaches a stack's services through its runtime's access (a cluster's port-forwards). */
const ACCESS_OPTIONS = (what: string): Record<string, OptionSpec> =>
    Object.fromEntries(
        Object.entries(ACCESS_OPTIONS_TABLE).map(([name, o]) => [
            name,
            { type: "string", value: o.value, description: o.description(what) },
        ]),
    );
const KUBECTL_ENV = ACCESS_ENV;

/** `--stack STACK`, checked by the one rule for stack names before anything runs. */
function stackOption(description: string, options: { required?: boolean } = {}): OptionSpec {
    return {
        type: "string",
        value: "STACK",
        description,
        ...(options.required ? { required: { example: "prod" } } : {}),
        check: (value) => {
            const problem = stackNameProblem(value);
            return problem && `${problem.value}: ${problem.message}`;
        },
    };
}

/** The platforms Pulumi publishes provider plugins for. */
const PLUGIN_OSES = ["linux", "darwin", "windows"];
const PLUGIN_ARCHES = ["amd64", "arm64"];

/** A value from a fixed list, refused with "did you mean" before anything runs. */
function oneOf(value: string, description: string, allowed: string[]): OptionSpec {
    return {
        type: "string",
        value,
        description: `${description}: ${allowed.join(", ")}`,
        check: (given) => {
            if (allowed.includes(given)) {
                return undefined;
            }
            const meant = closest(given, allowed);
            return `${given} is not one of ${allowed.join(", ")}${meant ? `; did you mean ${meant}?` : ""}`;
        },
    };
}

/** A file to write, whose directory must exist before any work is done. */
function outputFile(description: string): OptionSpec {
    return {
        type: "string",
        value: "FILE",
        description,
        check: (file) => {
            const dir = path.dirname(path.resolve(file));
            const stat = fs.statSync(dir, { throwIfNoEntry: false });
            return stat?.isDirectory() ? undefined : `${file}: the directory ${dir} does not exist; make it first`;
        },
    };
}

/** How commands with --stack find their variables when they are not set. */
const STACK_ENV: Record<string, string> = {
    BKLITE_PULUMI:
        "with --stack: the Pulumi CLI that reads the stack's operatorEnvironment output when a variable the command cannot run without is unset (default: pulumi from PATH; PULUMI_CONFIG_PASSPHRASE(_FILE) as for pulumi)",
};

const FIREWALL_STACK = stackOption("the stack whose chains these are (BKLITE-IN-STACK, BKLITE-FWD-STACK)", {
    required: true,
});
const STACK_CONFIG: OptionSpec = {
    type: "string",
    value: "FILE|-",
    description:
        'the stack\'s config instead of Pulumi.STACK.yaml, as the program passes it on standard input (JSON: {"values": {"bklite:KEY": "string"}, "encrypted": ["bklite:KEY"]}), validated like the stack file',
};
const PROJECT_DIR = (what: string): OptionSpec => ({
    type: "string",
    value: "DIR",
    description: `the project directory whose ${what} (default: the current directory)`,
});

export const COMMANDS: CommandSpec[] = [
    {
        words: ["init"],
        summary: "a new site's stack file, minimal and commented (Pulumi.STACK.yaml)",
        description:
            "Writes Pulumi.STACK.yaml for a new site with only what a site must decide (its address, the runtime, offline, the registry), each line commented, and every other setting left to its documented default. The values are checked by the config's own rules and the file is read back by the program's parser before it is written, so `bklite plan --stack STACK` accepts it as it is. An existing stack file is never overwritten.",
        options: {
            stack: stackOption("the new stack's name", { required: true }),
            "host-address": {
                type: "string",
                value: "ADDR",
                description: "the address agents and browsers reach the site by (bklite:hostAddress)",
                required: { example: "10.0.0.5" },
            },
            runtime: oneOf("RUNTIME", "where the platform runs (default docker)", ["docker", "kubernetes"]),
            registry: {
                type: "string",
                value: "HOST/PATH",
                description:
                    "the site's registry holding every image (bklite:images.registry), e.g. harbor.local/bklite",
            },
            "project-dir": PROJECT_DIR("Pulumi.yaml to write beside"),
        },
        examples: [
            "bklite init --stack customs-a --host-address 10.20.0.5",
            "bklite init --stack factory-b --host-address 10.30.0.8 --runtime kubernetes --registry harbor.factory.local/bklite",
        ],
        load: async () => (await import("./init")).init,
    },
    {
        words: ["images", "bundle"],
        summary: "save the images a stack uses into a directory (connected machine)",
        description:
            "Resolves the exact image refs stack STACK runs (registry, tag and overrides applied as the program applies them), pulls the ones this machine lacks, and writes one `docker save` archive per image into DIR with images.json and images.sha256. Archives already there and unchanged are kept; archives of images the stack no longer uses are removed.",
        options: {
            stack: stackOption("the stack whose images to bundle (Pulumi.STACK.yaml)", { required: true }),
            dir: {
                type: "string",
                value: "DIR",
                description: "where the archives go (usually assets/images)",
                required: { example: "assets/images" },
            },
            "project-dir": PROJECT_DIR("Pulumi.STACK.yaml to read"),
        },
        environment: {
            BKLITE_DOCKER:
                "the docker CLI to run (default: docker from PATH; DOCKER_HOST and the docker CLI's other variables apply)",
        },
        examples: ["bklite images bundle --stack prod --dir assets/images"],
        load: async () => (await import("./images")).imagesBundle,
    },
    {
        words: ["images", "build"],
        summary: "build bk-lite's own images the stack runs from a checkout of the fork (connected machine)",
        description:
            "Builds the images no registry serves (server, web, nats-executor and, with mlops, mlflow) from a checkout of the fork the defaults come from (superfm831010/bk-lite, branch huangpu-dev), each with the ref stack STACK runs (registry and tag applied; an overridden service is left alone). Every Dockerfile is looked for before anything is built. Then `bklite images bundle` saves them with the rest.",
        options: {
            stack: stackOption("the stack whose images to build (Pulumi.STACK.yaml)", { required: true }),
            source: {
                type: "string",
                value: "DIR",
                description:
                    "the checkout of the fork (git clone -b huangpu-dev https://github.com/superfm831010/bk-lite)",
                required: { example: "../bk-lite" },
            },
            "project-dir": PROJECT_DIR("Pulumi.STACK.yaml to read"),
        },
        environment: { BKLITE_DOCKER: "the docker CLI to run (default: docker from PATH)" },
        examples: ["bklite images build --stack prod --source ../bk-lite"],
        load: async () => (await import("./images")).imagesBuild,
    },
    {
        words: ["images", "load"],
        summary: "verify and load a bundle's images (offline host); optionally push them",
        description:
            "Checks every archive in DIR against DIR/images.sha256, then `docker load`s the images the engine does not have yet (images already present are skipped without reading their archives). A corrupted or unlisted archive is named and nothing is loaded from it; the rest still load. With --push, every image is also pushed under REGISTRY, named the way the program rewrites refs for a registry.",
        options: {
            dir: {
                type: "string",
                value: "DIR",
                description: "the bundle made by `bklite images bundle`",
                required: { example: "assets/images" },
            },
            push: {
                type: "string",
                value: "REGISTRY",
                description: "also push every image under this registry prefix (e.g. harbor.local/bklite)",
            },
        },
        environment: {
            BKLITE_DOCKER:
                "the docker CLI to run (default: docker from PATH; DOCKER_HOST and the docker CLI's other variables apply)",
        },
        exitCodes: { 1: "an archive failed its check or an image failed to load or push (the others were still done)" },
        examples: [
            "bklite images load --dir assets/images",
            "bklite images load --dir assets/images --push harbor.local/bklite",
        ],
        load: async () => (await import("./images")).imagesLoad,
    },
    {
        words: ["plugins"],
        summary: "the Pulumi provider plugins the stack needs, and how to install them offline",
        description:
            "Lists the provider plugins package-lock.json pins (name, version, release file for the platform) and prints the `pulumi plugin install` commands that install them from files in DIR, for hosts that cannot download them.",
        options: {
            dir: {
                type: "string",
                value: "DIR",
                description: "where the plugin tarballs are or will be (default plugins)",
            },
            os: oneOf("OS", "the offline host's operating system (default linux)", PLUGIN_OSES),
            arch: oneOf("ARCH", "the offline host's architecture (default amd64)", PLUGIN_ARCHES),
            "project-dir": PROJECT_DIR("package-lock.json to read"),
        },
        examples: ["bklite plugins --dir plugins"],
        load: async () => (await import("./plugins")).plugins,
    },
    {
        words: ["seed", "apply"],
        summary: "regions' SidecarEnv and the probe packages into bk-lite",
        description:
            "Makes bk-lite's database and NATS object store hold what the spec says: every cloud region with its SidecarEnv keys (secret values encrypted as the server's AESCryptor does), and every probe package uploaded, verified and registered. Validates the whole spec first, waits for the server's migrations to create the tables, writes every row in one transaction, and changes nothing on a re-run when nothing differs. The program runs it after the server is healthy, with the spec on standard input.",
        options: {
            stack: stackOption(
                "seed the stack of Pulumi.STACK.yaml, its spec rendered as the program renders it (or give --spec)",
            ),
            spec: {
                type: "string",
                value: "FILE|-",
                description: "the seed spec (JSON: {regions, packages}); - reads standard input",
            },
            force: { type: "boolean", description: "replace a package whose version already holds a different file" },
            reencrypt: {
                type: "boolean",
                description:
                    "rotating SECRET_KEY: rewrite stored secret values BKLITE_SECRET_KEY cannot decrypt (the spec's values, others decrypted with BKLITE_PREVIOUS_SECRET_KEY) instead of refusing them",
            },
            "wait-seconds": {
                type: "string",
                value: "N",
                description: "how long to wait for the server's migrations to create bk-lite's tables (default 900)",
            },
            ...ACCESS_OPTIONS("PostgreSQL and NATS"),
            "agent-grace-seconds": {
                type: "string",
                value: "N",
                description:
                    "how long agents may stay connected with a NATS credential their region no longer hands out before it is dropped (default 600; bk-lite's sidecars pick up a new one within about 5.5 minutes)",
            },
            "nats-config": {
                type: "string",
                value: "FILE",
                description:
                    "NATS runs on this host as a process with this config (rendered by the program), not in the stack's container: the agents' users are written beside it",
            },
            "project-dir": PROJECT_DIR("Pulumi.STACK.yaml and packages to read"),
        },
        environment: {
            ...SEED_ENV_HELP,
            BKLITE_NATS_AGENT_KEY:
                "with --stack: the stack's natsAgentKey, which its regions' agent passwords derive from",
            ...STACK_ENV,
            ...KUBECTL_ENV,
        },
        readsStackEnvironment: ["BKLITE_PG_URL", "BKLITE_SECRET_KEY", "BKLITE_NATS_PASSWORD", "BKLITE_NATS_AGENT_KEY"],
        examples: [
            "bklite seed apply --stack prod",
            "BKLITE_PG_URL=... BKLITE_SECRET_KEY=... BKLITE_NATS_URL=... BKLITE_NATS_USER=bklite BKLITE_NATS_PASSWORD=... bklite seed apply --spec seed.json --docker-stack prod",
            "bklite seed apply --spec - --kube-namespace bklite < seed.json",
            "BKLITE_SECRET_KEY=NEW BKLITE_PREVIOUS_SECRET_KEY=OLD bklite seed apply --spec seed.json --reencrypt",
        ],
        load: async () => (await import("./seed")).seedApply,
    },
    {
        words: ["streams", "apply"],
        summary: "the JetStream streams the platform consumes (the `metrics` stream agents publish into)",
        description:
            "Makes NATS hold every stream of the spec with its settings: a missing stream is created, one whose limits differ is updated in place, and one whose storage or retention differs (which JetStream cannot change) is refused by name before anything changes. Nothing changes when every stream matches. The program runs it once NATS is healthy, before the services that consume a stream start.",
        options: {
            spec: {
                type: "string",
                value: "FILE|-",
                description:
                    "the streams (JSON: {streams: [{name, subjects, storage, retention, discard, maxAgeSeconds, maxBytes, maxMsgs, maxMsgsPerSubject, maxMsgSize, duplicateWindowSeconds, replicas}]}); - reads standard input",
            },
            stack: stackOption(
                "the streams of the stack of Pulumi.STACK.yaml, as the program applies them (or give --spec)",
            ),
            ...ACCESS_OPTIONS("NATS"),
            "project-dir": PROJECT_DIR("Pulumi.STACK.yaml to read"),
        },
        environment: {
            BKLITE_NATS_URL: "NATS with JetStream, e.g. tls://127.0.0.1:24222 (required)",
            BKLITE_NATS_USER: "NATS user: the server side's, bklite (required)",
            BKLITE_NATS_PASSWORD: "its password, the stack's natsServerPassword (required)",
            BKLITE_NATS_CA: SEED_ENV_HELP.BKLITE_NATS_CA,
            ...STACK_ENV,
            ...KUBECTL_ENV,
        },
        readsStackEnvironment: ["BKLITE_NATS_PASSWORD"],
        examples: [
            "bklite streams apply --stack prod",
            "bklite streams apply --spec streams.json",
            "bklite streams apply --spec - < streams.json",
        ],
        load: async () => (await import("./streams")).streamsApply,
    },
    {
        words: ["verify"],
        summary: "prove the deployed platform works: console, login, NATS, regions, packages, services, firewall",
        description:
            "Runs the runbooks' manual checks against a deployed stack and prints one row per check with what it found and what it expected, and the fix under each failure: the console through the ingress (web app at /, server under /api/v1/), the console login, NATS over TLS with the stack's CA at the agents' endpoint (and plaintext refused), every region's SidecarEnv as seeded with a reachable NODE_SERVER_URL, every package's row and object digest, each installed app's services answering as the app uses them, the streams, and the host firewall. Each check has a timeout, and so has the run. The program runs it as the last step of `pulumi up`, with the spec on standard input.",
        options: {
            stack: stackOption("verify the stack of Pulumi.STACK.yaml (or give --spec)"),
            spec: {
                type: "string",
                value: "FILE|-",
                description: "the verify spec (JSON, as the program renders it); - reads standard input",
            },
            outputs: {
                type: "string",
                value: "FILE|-",
                description:
                    "the stack's outputs (`pulumi stack output --json --show-secrets`): the admin password and the CA come from them",
            },
            format: { type: "string", value: "FORMAT", description: "table (default) or json" },
            "timeout-seconds": { type: "string", value: "N", description: "the whole run's limit (default 120)" },
            "check-timeout-seconds": { type: "string", value: "N", description: "each check's limit (default 20)" },
            "retry-seconds": {
                type: "string",
                value: "N",
                description:
                    "try failing checks again every 5 s for up to N s, within the run's limit (default 0; the program uses 90 right after a deployment)",
            },
            "project-dir": PROJECT_DIR("Pulumi.STACK.yaml and packages to read"),
            ...ACCESS_OPTIONS("PostgreSQL and the services"),
        },
        environment: {
            ...STACK_ENV,
            ...Object.fromEntries(
                Object.entries(SEED_ENV_HELP).filter(
                    ([name]) => name !== "BKLITE_PREVIOUS_SECRET_KEY" && name !== "BKLITE_NATS_URL",
                ),
            ),
            ...VERIFY_SECRETS_HELP,
            ...KUBECTL_ENV,
        },
        exitCodes: { 0: "every check holds (warnings allowed)", 1: "a check failed" },
        examples: [
            "pulumi stack output --json --show-secrets > outputs.json && BKLITE_PG_URL=... BKLITE_SECRET_KEY=... BKLITE_NATS_USER=bklite BKLITE_NATS_PASSWORD=... BKLITE_FALKORDB_PASSWORD=... bklite verify --stack prod --outputs outputs.json",
            "bklite verify --spec - --format json < verify.json",
        ],
        readsStackEnvironment: ["BKLITE_PG_URL", "BKLITE_SECRET_KEY", "BKLITE_NATS_PASSWORD"],
        load: async () => (await import("./verify")).verify,
    },
    {
        words: ["backup"],
        summary:
            "a consistent backup of a running stack: every database, object store, stream, graph and bucket its services declare",
        description:
            "Writes one directory DIR/STACK-YYYYMMDDTHHMMSSmmmZ (UTC, to the millisecond), private to its owner (0700, files 0600, whatever the umask): every database the stack's services declare as a pg_dump custom archive (pg_dump runs inside the stack's PostgreSQL, so its version is the server's), every object of the JetStream object store, the streams' settings, FalkorDB's graphs when cmdb is installed, MinIO's buckets when mlops is, the stack's config without secrets, and manifest.json (every image ref, every file's size and SHA-256, the time, and a salted scrypt fingerprint of the SECRET_KEY every stored secret value decrypts with). Taken while the platform runs: the database snapshot comes first, the objects after it, so no row points at an object the backup lacks. The directory appears only when complete; one backup of a stack runs at a time in DIR, and partial directories a crashed backup left are removed. SIGINT or SIGTERM stops pg_dump inside the stack too and writes nothing. Refused while a restore of the stack has not ended. The program runs it before an upgrade replaces containers. Keep backups off the host, never in the checkout.",
        options: {
            stack: stackOption("the stack to back up (Pulumi.STACK.yaml says where it runs)", { required: true }),
            dir: {
                type: "string",
                value: "DIR",
                description: "where backups go; each backup is a new directory in it",
                required: { example: "/srv/bklite-backups" },
            },
            keep: {
                type: "string",
                value: "N",
                description: "then remove the stack's oldest backups in DIR beyond the newest N",
            },
            "if-deployed": {
                type: "boolean",
                description: "exit 0 without a backup when the stack has no PostgreSQL yet (a first `pulumi up`)",
            },
            "stack-config": STACK_CONFIG,
            "project-dir": PROJECT_DIR("Pulumi.STACK.yaml to read"),
        },
        environment: { ...STACK_ENV, ...BACKUP_ENV_HELP },
        examples: [
            "BKLITE_SECRET_KEY=... BKLITE_NATS_PASSWORD=... bklite backup --stack prod --dir /srv/bklite-backups --keep 7",
        ],
        readsStackEnvironment: ["BKLITE_SECRET_KEY", "BKLITE_NATS_PASSWORD"],
        load: async () => (await import("./backup")).backup,
    },
    {
        words: ["backup", "verify"],
        summary: "check a backup as a restore would, before one is needed",
        args: ["DIR"],
        description:
            "Checks the backup in DIR as `bklite restore` does before it changes anything: manifest.json whole (its format, every field, names that reach SQL, paths that stay inside the backup, every file it uses among the files it lists), every file's size and SHA-256, files it does not list, and the indexes and stream settings it names. Names every problem. Warns when others than the backup's owner can read it. Needs no secret and reaches nothing but the files.",
        options: {},
        exitCodes: {
            0: "every file matches and the backup can be restored (warnings allowed)",
            1: "a file is missing, damaged or not in the manifest, or an index is wrong (each is named)",
            2: "the manifest is damaged, of another format or not a bklite backup's",
        },
        examples: ["bklite backup verify /srv/bklite-backups/prod-20261130T171500000Z"],
        load: async () => (await import("./backup")).backupVerify,
    },
    {
        words: ["restore"],
        summary: "put a backup back into a running stack, all or nothing",
        description:
            "Checks the backup first, whole (every file against its manifest, the manifest's and indexes' every field, every name that reaches SQL; BKLITE_SECRET_KEY against its fingerprint, since secret SidecarEnv values need the key they were encrypted with) and refuses before changing anything. Then stops the services that write the databases (and those that depend on them) and changes every store with a way back kept in its journal (BKLITE_STATE_DIR): the dumps go into new databases beside the serving ones, the object store's objects, the streams' settings, FalkorDB's keys and MinIO's objects are replaced with copies of what they replace kept, and last the databases are switched in one transaction. The replaced databases are kept under names that say when. A failure or SIGINT/SIGTERM before the switch's end puts every store back as it was and starts the services again. A restore killed outright (SIGKILL, a crash) leaves its journal: the next `bklite restore` of the stack, or `bklite restore --recover`, finishes it if it was committed and undoes it if not; backups of the stack are refused until then.",
        options: {
            stack: stackOption("the stack to restore into (deployed and running)", { required: true }),
            from: { type: "string", value: "DIR", description: "the backup's directory" },
            recover: {
                type: "boolean",
                description: "finish or undo a restore of the stack that was killed before it ended, and nothing else",
            },
            "stack-config": STACK_CONFIG,
            "project-dir": PROJECT_DIR("Pulumi.STACK.yaml to read"),
        },
        environment: { ...STACK_ENV, ...BACKUP_ENV_HELP },
        exitCodes: {
            1: "the restore failed; every store was put back (or what could not be is named, with its journal kept)",
            2: "the backup is damaged or of another SECRET_KEY (nothing was changed)",
            130: "interrupted by SIGINT: every store was put back, the old data serves",
            143: "interrupted by SIGTERM: every store was put back, the old data serves",
        },
        examples: [
            "BKLITE_SECRET_KEY=... BKLITE_NATS_PASSWORD=... bklite restore --stack prod --from /srv/bklite-backups/prod-20261130T171500000Z",
            "BKLITE_SECRET_KEY=... BKLITE_NATS_PASSWORD=... bklite restore --stack prod --recover",
        ],
        readsStackEnvironment: ["BKLITE_SECRET_KEY", "BKLITE_NATS_PASSWORD"],
        load: async () => (await import("./backup")).restore,
    },
    {
        words: ["firewall", "apply"],
        summary: "only the listed sources reach the listed ports (iptables)",
        description:
            "Puts the rules in iptables chains of the stack's own (BKLITE-IN-<stack> for the host's ports, BKLITE-FWD-<stack> for ports Docker publishes), for IPv4 and IPv6, in one atomic commit each. Only the listed ports are filtered: each admits its listed sources and drops the rest; every other port, SSH included, is untouched, and the host itself is never filtered. Re-applying the same rules changes nothing; another stack's chains are never touched.",
        options: {
            rules: {
                type: "string",
                value: "FILE|-",
                description:
                    "the rules (JSON: {rules: [{port, protocol, sources, description}]}); - reads standard input",
                required: { example: "rules.json" },
            },
            stack: FIREWALL_STACK,
        },
        environment: {
            BKLITE_IPTABLES: "the iptables to run (default: iptables from PATH)",
            BKLITE_IP6TABLES: "the ip6tables to run (default: ip6tables from PATH)",
        },
        examples: [
            `echo '{"rules":[{"port":8080,"protocol":"tcp","sources":["10.0.0.0/8"],"description":"console"}]}' | bklite firewall apply --stack prod --rules -`,
        ],
        load: async () => (await import("./firewall")).firewallApply,
    },
    {
        words: ["firewall", "remove"],
        summary: "take the firewall away",
        description:
            "Removes the chains `bklite firewall apply` made for the stack and their hooks from INPUT and DOCKER-USER, for IPv4 and IPv6. Nothing else is touched, other stacks' chains included; removing twice is harmless.",
        options: { stack: FIREWALL_STACK },
        environment: {
            BKLITE_IPTABLES: "the iptables to run (default: iptables from PATH)",
            BKLITE_IP6TABLES: "the ip6tables to run (default: ip6tables from PATH)",
        },
        examples: ["bklite firewall remove --stack prod"],
        load: async () => (await import("./firewall")).firewallRemove,
    },
    {
        words: ["plan"],
        summary: "a stack's desired resources as stable JSON (offline, under mocks; secrets masked)",
        description:
            "Runs this checkout's program for Pulumi.STACK.yaml under Pulumi mocks and prints every resource it would register (by URN, with type, parent, inputs and the options that change a deployment), the config and the outputs, with sorted keys so two plans compare byte for byte. Needs no backend, passphrase or Pulumi CLI, and reads nothing from this host: values only a deployment knows are named placeholders, and every secret is masked.",
        options: {
            stack: stackOption("the stack to plan", { required: true }),
            "config-file": {
                type: "string",
                value: "FILE",
                description:
                    "read the stack's config from FILE instead of Pulumi.STACK.yaml (as `pulumi --config-file` does)",
            },
            out: outputFile("write the plan to FILE instead of standard output (JSON unless --format text)"),
            format: oneOf(
                "FORMAT",
                "text (a summary for a person; the default on a terminal) or json (the whole plan; the default otherwise)",
                ["text", "json"],
            ),
        },
        examples: [
            "bklite plan --stack dev --format text",
            "bklite plan --stack prod > prod.json",
            "bklite plan --stack prod --config-file proposed.yaml --out proposed.json",
        ],
        load: async () => (await import("./plan")).plan,
    },
    {
        words: ["plan", "diff"],
        summary: "Markdown of what changes from one plan to another",
        args: ["BASE", "HEAD"],
        description:
            "Compares two plans made by `bklite plan`: files, or directories of STACK.json plans (stacks only on one side are listed as new or removed). Prints, per stack, the resources added, removed and changed, and within each changed resource the properties that differ, secrets shown as masked.",
        options: {},
        examples: ["bklite plan diff base/prod.json head/prod.json", "bklite plan diff plans/base plans/head"],
        load: async () => (await import("./plan")).planDiff,
    },
    {
        words: ["audit"],
        summary: "check a `pulumi stack export` against the platform's rules",
        args: ["EXPORT.json"],
        description:
            "Reports on a stack export (from `pulumi stack export --file EXPORT.json`): images that are floating or outside the site's registry, data stores published beyond loopback, data volumes and claims that would not survive a destroy, and secrets held in plaintext. The registry and offline setting come from Pulumi.STACK.yaml of the export's stack unless given.",
        options: {
            format: { type: "string", value: "FORMAT", description: "markdown (default) or json" },
            registry: {
                type: "string",
                value: "REGISTRY",
                description: "the registry every image must come from (default: the stack's bklite:images.registry)",
            },
            offline: {
                type: "boolean",
                description: "audit as an offline site: images must be pinned (default: the stack's bklite:offline)",
            },
            online: { type: "boolean", description: "audit as a connected site" },
            "project-dir": {
                type: "string",
                value: "DIR",
                description: "the project whose Pulumi.STACK.yaml holds the stack's settings (default: this project)",
            },
        },
        exitCodes: { 0: "the export passes", 1: "the export has failing findings" },
        examples: ["pulumi stack export --stack prod --file prod-export.json && bklite audit prod-export.json"],
        load: async () => (await import("./audit")).audit,
    },
];

/** The command `argv` names (the longest match of its first words), with the arguments after those words. */
export function findCommand(argv: string[]): { command: CommandSpec; rest: string[] } | undefined {
    const matches = COMMANDS.filter((c) => c.words.every((w, i) => argv[i] === w)).sort(
        (a, b) => b.words.length - a.words.length,
    );
    return matches.length > 0 ? { command: matches[0], rest: argv.slice(matches[0].words.length) } : undefined;
}

/** The commands under a group word (`seed` → `seed apply`), for `bklite seed` and `bklite seed --help`. */
export function commandsUnder(word: string): CommandSpec[] {
    return COMMANDS.filter((c) => c.words[0] === word);
}
