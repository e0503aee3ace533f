// "Private" (with a lock) or "Public" beside a festival's name. Nothing while the kind is not
// known (joined without a key, not arrived): the "waiting for peers" badge says enough then.
import type { Festival } from 'p2panda';
import { festivalKind } from '../lib/privacy';

export const PRIVATE_HINT = 'End-to-end encrypted: only people with the invite link can read it.';
export const PUBLIC_HINT = 'Anyone with the festival’s id or link can read it, including peers that relay it.';

export function KindBadge({ festival }: { festival: Pick<Festival, 'pending' | 'private'> }) {
  const kind = festivalKind(festival);
  if (kind === 'unknown') return null;
  return kind === 'private' ? (
    <span className="badge badge-private" title={PRIVATE_HINT} data-testid="festival-kind" data-kind="private">
      <LockIcon /> Private
    </span>
  ) : (
    <span className="badge" title={PUBLIC_HINT} data-testid="festival-kind" data-kind="public">
      Public
    </span>
  );
}

/** A small padlock, inline so nothing is fetched; decorative (the text says "Private"). */
export function LockIcon() {
  return (
    <svg className="lock-icon" width="10" height="12" viewBox="0 0 10 12" aria-hidden="true" focusable="false">
      <path d="M2.5 5V3.5a2.5 2.5 0 0 1 5 0V5" fill="none" stroke="currentColor" strokeWidth="1.4" />
      <rect x="1" y="5" width="8" height="6.5" rx="1.2" fill="currentColor" />
    </svg>
  );
}
