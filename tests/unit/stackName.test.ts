import * as assert from "assert";
import * as path from "path";
import fc from "fast-check";
import { backupName } from "../../src/backup/backup";
import { readProgramConfig } from "../../src/config/programConfig";
import { isStackName, stackNameProblem } from "../../src/config/stackName";
import { stackFilePath } from "../../src/config/stackFiles";
import { ConfigSource } from "../../src/config/types";
import { dockerNames } from "../../src/runtimes/docker/naming";
import { firewallChains } from "../../src/security/firewall";
import { parseInvocation } from "../../cli/usage";
import { COMMANDS } from "../../cli/commands";

const NAME_CHARS = "abcXYZ019_.-".split("");
const anyName = fc.string({ unit: fc.constantFrom(...NAME_CHARS, "/", " ", "\\"), minLength: 0, maxLength: 110 });

describe("stack names: one rule wherever a name reaches a path, a container, a chain or a spec", () => {
    it("accepts Pulumi's stack names that start with a letter or digit", () => {
        for (const name of ["prod", "dev-1", "site_a.b", "9", "a".repeat(100)]) {
            assert.strictEqual(stackNameProblem(name), undefined, name);
        }
    });

    it("refuses what would leave a directory, look like an option or is not Pulumi's, saying the rule and a fix", () => {
        for (const name of ["", "..", ".", "../x", "a/b", "-x", ".hidden", "a b", "a".repeat(101), "prod\n"]) {
            const problem = stackNameProblem(name);
            assert.ok(problem, name);
            assert.strictEqual(problem.path, "stack");
            assert.match(problem.message, /1 to 100 of A-Z a-z 0-9 _ \. -, starting with a letter or digit/);
            assert.match(problem.fix!, /pulumi stack ls/);
        }
    });

    it("every accepted name stays inside its directory, names Docker objects and fits an iptables chain", () => {
        fc.assert(
            fc.property(anyName, (name) => {
                if (!isStackName(name)) {
                    assert.throws(() => stackFilePath("/project", name), /not a stack name/);
                    return;
                }
                assert.strictEqual(path.dirname(stackFilePath("/project", name)), "/project");
                assert.strictEqual(path.dirname(path.join("/backups", backupName(name, new Date(0)))), "/backups");
                assert.match(dockerNames(name).container("server"), /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
                const chains = firewallChains(name);
                assert.ok(chains.input.length <= 28 && chains.forward.length <= 28);
            }),
        );
    });

    it("the CLI refuses a bad --stack before the command loads, with the same rule", () => {
        const backup = COMMANDS.find((c) => c.words.join(" ") === "backup")!;
        assert.throws(
            () => parseInvocation(backup, ["--stack", "../x", "--dir", "/tmp"]),
            /--stack "\.\.\/x": not a stack name: 1 to 100 of/,
        );
        const withStack = COMMANDS.filter((c) => "stack" in c.options);
        assert.ok(withStack.length >= 6);
        for (const command of withStack) {
            assert.ok(command.options.stack.check?.("..") !== undefined, command.words.join(" "));
        }
    });

    it("the program refuses a stack it cannot name things after, with the config's other problems", () => {
        const empty: ConfigSource = {
            get: () => undefined,
            keys: () => [],
            otherKeys: () => [],
            isSecret: () => false,
        };
        assert.throws(
            () => readProgramConfig(empty, ".bad"),
            (err: Error) =>
                /the stack.s name = "\.bad": not a stack name/.test(err.message) && /hostAddress/.test(err.message),
        );
    });
});
