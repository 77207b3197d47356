/**
 * The CLI's two kinds of failure: a usage error (a file, pipeline, flag or param the user can
 * fix) is one line on stderr and exit code 2; anything else is unexpected, exit code 1.
 */

/** A mistake in how the CLI was called: shown as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// Errors of Weft's own that a user causes and fixes. Matched by name and code rather than
// `instanceof`: a user's pipeline file may load its own copy of the SDK (through tsx), whose
// classes are not ours.
const USER_ERRORS = new Set([
  'InputError',
  'ConfigError',
  'DefinitionError',
  'NotFoundError',
  'StoreVersionError',
]);

export function isUsageError(error: unknown): error is Error {
  if (error instanceof UsageError) return true;
  return (
    error instanceof Error &&
    USER_ERRORS.has(error.name) &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/** The process exit code for an error that ended a command. */
export function exitCodeOf(error: unknown): number {
  return isUsageError(error) ? 2 : 1;
}

/** One line for a usage error: its message without line breaks. */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
