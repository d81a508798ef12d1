/**
 * `bklite`: the operator CLI. Every step the program runs at deploy time is a subcommand here, so it can be
 * run, tested and re-run by hand. Exit codes: 0 done, 1 something failed, 2 bad usage or config.
 */
import { ExportError } from "../components/audit/stackExport";
import { ConfigError } from "../components/config/validate";
import { auditCommand } from "./audit";
import { firewallCommand } from "./firewall";
import { imagesCommand } from "./images";
import { PlanError } from "../components/plan/render";
import { planCommand } from "./plan";
import { pluginsCommand } from "./plugins";
import { seedCommand } from "./seed";
import { SpecError } from "../components/seed/spec";
import { UsageError } from "./usage";

const HELP = `usage: bklite <command> [options]

commands:
  images bundle --stack S --dir D [--project-dir P]   save the images stack S uses into D (connected machine)
  images load --dir D [--push REGISTRY]               verify and load D's images (offline host); optionally push
  plugins [--dir D] [--os linux] [--arch amd64]       provider plugins the stack needs, and their offline install
  seed apply --spec FILE|- [--force] [--wait-seconds N] [--kube-namespace NS [--kube-context CTX]]
                                                      regions' SidecarEnv and probe packages into bk-lite
                                                      (connection and secrets from BKLITE_* environment variables)
  firewall apply --rules FILE|-                       only the listed sources reach the listed ports (iptables)
  firewall remove                                     take the firewall away
  plan --stack S [--out FILE]                         stack S's desired resources as stable JSON (offline, under
                                                      mocks; secrets masked)
  plan diff BASE HEAD                                 Markdown of what changes from BASE to HEAD (plan files, or
                                                      directories of <stack>.json plans)
  audit EXPORT.json [--format markdown|json] [--registry R] [--offline|--online] [--project-dir P]
                                                      check a \`pulumi stack export\`: images, published ports,
                                                      unretained data, plaintext secrets; exit 1 on findings
                                                      (registry and offline from Pulumi.<stack>.yaml unless given)
`;

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
    const [command, ...rest] = argv;
    try {
        switch (command) {
            case "images":
                return await imagesCommand(rest, out, err);
            case "plugins":
                return await pluginsCommand(rest, out);
            case "seed":
                return await seedCommand(rest, out, err);
            case "firewall":
                return await firewallCommand(rest, out, err);
            case "plan":
                return await planCommand(rest, out);
            case "audit":
                return await auditCommand(rest, out);
            case undefined:
            case "help":
            case "--help":
            case "-h":
                out.write(HELP);
                return command === undefined ? 2 : 0;
            default:
                throw new UsageError(`unknown command '${command}'`);
        }
    } catch (e) {
        if (e instanceof UsageError) {
            err.write(`bklite: ${e.message}\n\n${HELP}`);
            return 2;
        }
        if (e instanceof ConfigError || e instanceof SpecError || e instanceof PlanError || e instanceof ExportError) {
            err.write(`bklite: ${e.message}\n`);
            return 2;
        }
        err.write(`bklite: ${(e as Error).message}\n`);
        if (process.env.BKLITE_DEBUG) {
            err.write(`${(e as Error).stack}\n`);
        }
        return 1;
    }
}
