// Calls to the node methods added last to the p2panda package (profiles, problems, key export,
// leaving). With an older build of the package they reject with code NOT_AVAILABLE instead of
// crashing, and the screens say that the feature needs a newer package.
import type { Hex, Node, Problem, Profile } from 'p2panda';

export type { Problem, Profile };

interface Additions {
  exportSecretKey(): Promise<Hex>;
  leaveFestival(festival: Hex): Promise<void>;
  setProfile(festival: Hex, profile: { name: string }): Promise<Hex>;
  profiles(festival: Hex): Promise<Profile[]>;
  problems(festival: Hex): Promise<Problem[]>;
}

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

function call<K extends keyof Additions>(
  node: Node,
  method: K,
  ...args: Parameters<Additions[K]>
): ReturnType<Additions[K]> {
  const fn = (node as unknown as Partial<Additions>)[method] as
    | ((...a: Parameters<Additions[K]>) => ReturnType<Additions[K]>)
    | undefined;
  if (typeof fn !== 'function') {
    return Promise.reject(
      new AppError('NOT_AVAILABLE', `this build of p2panda has no ${method}() yet`),
    ) as ReturnType<Additions[K]>;
  }
  return fn.apply(node, args);
}

export const exportSecretKey = (node: Node) => call(node, 'exportSecretKey');
export const leaveFestival = (node: Node, festival: Hex) => call(node, 'leaveFestival', festival);
export const setProfile = (node: Node, festival: Hex, name: string) =>
  call(node, 'setProfile', festival, { name });
export const profiles = (node: Node, festival: Hex) => call(node, 'profiles', festival);
export const problems = (node: Node, festival: Hex) => call(node, 'problems', festival);

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

export function isUnavailable(error: unknown): boolean {
  return errorCode(error) === 'NOT_AVAILABLE';
}
