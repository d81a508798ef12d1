/**
 * The options of commands that reach a stack's services, of every runtime: its containers on this Docker host, or a
 * cluster's Services. Kept apart from the registry (index.ts), which loads the runtimes themselves: the CLI reads
 * this table before it loads any command.
 */
import { DOCKER_ACCESS_OPTIONS } from "./docker/options";
import { KUBERNETES_ACCESS_ENV, KUBERNETES_ACCESS_OPTIONS } from "./kubernetes/options";

export const ACCESS_OPTIONS_TABLE = { ...DOCKER_ACCESS_OPTIONS, ...KUBERNETES_ACCESS_OPTIONS };
/** The environment those options read. */
export const ACCESS_ENV = KUBERNETES_ACCESS_ENV;
