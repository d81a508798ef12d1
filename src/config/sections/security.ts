/**
 * `bklite:security`: which ports are reachable from where, parsed by the rules the firewall command takes too
 * (src/security/rules.ts), and never a data store opened to the world.
 */
import { SecurityConfig, checkDataStoreExposure, dataStorePorts, parseSecurityConfig } from "../../security/rules";
import { Problem } from "../../util/problem";
import { HostPorts } from "../types";

export function parseSecurity(value: unknown, ports: HostPorts): { security: SecurityConfig; problems: Problem[] } {
    const parsed = parseSecurityConfig(value);
    const exposure = checkDataStoreExposure(parsed.security.rules, dataStorePorts([ports.postgres]));
    return { security: parsed.security, problems: [...parsed.problems, ...exposure] };
}
