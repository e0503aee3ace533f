// Errors as the screens show them, and an error type for the app's own checks.
import type { Problem, Profile } from 'p2panda';

export type { Problem, Profile };

/** An error with a `code`, like the package's P2pandaError (which we can't construct). */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** The stable code of a failure (P2pandaError, AppError), or "UNKNOWN". */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** One line for people: the message, with the code so reports can be matched to causes. */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  return code === 'UNKNOWN' ? message : `${message} (${code})`;
}
