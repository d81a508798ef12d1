/**
 * The stack's config: its keys (keys.ts), its shapes (types.ts), the parser and its sections (parse.ts, sections/),
 * how problems are reported (problems.ts), and where it is read from (programConfig.ts for the running program,
 * stackFiles.ts for the CLI, plans and tests).
 */
export * from "./keys";
export * from "./types";
export * from "./problems";
export * from "./parse";
export * from "./programConfig";
export * from "./stackName";
