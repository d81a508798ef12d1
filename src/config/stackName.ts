/**
 * The one rule for a stack's name, checked wherever a name reaches a path (Pulumi.<stack>.yaml, backups), a Docker
 * object (`bklite-<stack>-*`), an iptables chain or a verify spec: Pulumi's own stack name characters, starting with
 * a letter or digit so that no name is `.`, `..` or looks like an option.
 */
import { Problem } from "../util/problem";

const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Why `name` cannot be a stack's name, or undefined when it can. */
export function stackNameProblem(name: string, path = "stack"): Problem | undefined {
    return STACK_NAME.test(name)
        ? undefined
        : {
              path,
              value: JSON.stringify(name),
              message:
                  "not a stack name: 1 to 100 of A-Z a-z 0-9 _ . -, starting with a letter or digit (no / and no leading dot)",
              fix: "name the stack as `pulumi stack ls` lists it, e.g. prod",
          };
}

/** Whether `name` is a stack's name. */
export function isStackName(name: string): boolean {
    return stackNameProblem(name) === undefined;
}
