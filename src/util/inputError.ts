/**
 * Input the operator has to fix (a stack config, a seed spec, a plan or export file, a command line): reported as
 * its message alone, without a stack trace, and by the CLI with exit code 2. Its own module, free of imports, so
 * the CLI recognises every kind without loading the modules that throw them.
 */
export class InputError extends Error {}
