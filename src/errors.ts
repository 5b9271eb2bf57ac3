// One family of expected errors; anything else reaching the top level is a bug.

/** Invalid user input: inventory, flags, playbook. Printed without a stack. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A host's output could not be understood. */
export class ParseError extends Error {
  override name = 'ParseError';
}

/** Ends the process with a given exit code after printing the message (if any). */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
}
