/** The host firewall, when the stack enforces its rules: this stack's chains hold exactly what the rules make. */
import { firewallChains, firewallDrift } from "../security/firewall";
import { resolveRules } from "../security/resolve";
import { SecurityRule } from "../security/rules";
import { Check, fail, ok, reason } from "./check";

export function firewallCheck(firewall: { stack: string; rules: SecurityRule[] }): Check {
    return {
        name: "firewall",
        async run() {
            const chains = firewallChains(firewall.stack);
            const rules = resolveRules(firewall.rules, {}).rules;
            const expected = `${chains.input} and ${chains.forward} holding the ${rules.length} rule(s) of bklite:security, hooked from INPUT and DOCKER-USER`;
            try {
                const drift = firewallDrift(rules, chains);
                return drift.length === 0
                    ? ok(expected, "in place and matching")
                    : fail(
                          expected,
                          drift.join("; "),
                          `apply them: sudo bklite firewall apply --stack ${firewall.stack} --rules - (pulumi up does, as root; after a reboot the chains are gone)`,
                      );
            } catch (err) {
                return fail(expected, reason(err), "verify reads iptables: run it as root on the Docker host");
            }
        },
    };
}
