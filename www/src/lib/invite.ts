// Invite links: `<app url>#/join/<festival id>` for a public festival and
// `<app url>#/join/<festival id>?key=<festival key>` for a private one. The key rides in the
// fragment, which browsers never send to the server hosting the app. Links without a key (all
// older ones) still parse; whatever a later version adds after the id, other than `key`, is
// ignored.
import { parseHexKey } from './hex';

const ID = /^[0-9a-f]{64,}$/;

export interface Invite {
  festival: string;
  /** The private festival's key (64 lowercase hex), or null: public, or a link without one. */
  key: string | null;
}

/** Why a text is not a usable invite. */
export type InviteError = 'empty' | 'not-invite' | 'bad-festival' | 'bad-key';

export type InviteParse = { ok: true; invite: Invite } | { ok: false; error: InviteError };

/** The fragment (without `#`) that joins `festival`, with its key if it is private. */
export function joinFragment(festival: string, key: string | null = null): string {
  return key ? `/join/${festival}?key=${key}` : `/join/${festival}`;
}

/** The link another browser opens to join `festival`, built on the current page address. */
export function inviteLink(pageUrl: string, festival: string, key: string | null = null): string {
  const url = new URL(pageUrl);
  url.hash = joinFragment(festival, key);
  return url.toString();
}

const fail = (error: InviteError): InviteParse => ({ ok: false, error });

/** Parse an invite link, a bare `#/join/…` fragment, or just a pasted festival id. */
export function parseInvite(input: string): InviteParse {
  const text = input.trim();
  if (!text) return fail('empty');
  const hashAt = text.indexOf('#');
  const fragment = hashAt >= 0 ? text.slice(hashAt + 1) : text;
  const path = fragment.replace(/^\/+/, '');
  let rest: string;
  let bare = false;
  if (path.toLowerCase().startsWith('join/')) rest = path.slice(5);
  else if (hashAt < 0 && !text.includes('/')) [rest, bare] = [path, true];
  else return fail('not-invite');

  const [, id, tail] = /^([0-9a-fA-F]*)(.*)$/s.exec(rest) ?? ['', '', rest];
  const festival = id.toLowerCase();
  // After the id only a new path segment or the query may follow: anything else means the id
  // was cut or mangled in copying.
  if (!ID.test(festival) || !(tail === '' || tail.startsWith('/') || tail.startsWith('?')))
    return fail(bare ? 'not-invite' : 'bad-festival');

  const queryAt = tail.indexOf('?');
  const raw = queryAt >= 0 ? new URLSearchParams(tail.slice(queryAt + 1)).get('key') : null;
  if (raw === null) return { ok: true, invite: { festival, key: null } };
  // A damaged key must not quietly become "join without key": the festival would never open.
  const key = parseHexKey(raw);
  return key ? { ok: true, invite: { festival, key } } : fail('bad-key');
}

/** What to tell someone whose pasted or opened link did not parse. */
export function inviteErrorText(error: InviteError): string {
  switch (error) {
    case 'empty':
      return 'Paste the invite link you were sent.';
    case 'not-invite':
      return 'That is not an invite link or festival id. Paste the whole link you were sent.';
    case 'bad-festival':
      return 'The festival id in this link is damaged. Copy the whole link again, or ask for a new one.';
    case 'bad-key':
      return 'The festival key in this link is damaged (it must be 64 hex characters). Copy the whole link again, or ask for a new one.';
  }
}
