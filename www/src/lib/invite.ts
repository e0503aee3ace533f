// Invite links: `<app url>#/join/<festival id>`. Later versions add more to the fragment (e.g. a
// festival key, `#/join/<id>/<key>` or `?key=`), so parsing takes the id and ignores the rest.

const ID = /^[0-9a-f]{64,}$/;

export interface Invite {
  festival: string;
  /** Anything after the id (for forward compatibility); not interpreted yet. */
  extra: string;
}

/** The link another browser opens to join `festival`, built on the current page address. */
export function inviteLink(pageUrl: string, festival: string): string {
  const url = new URL(pageUrl);
  url.hash = `/join/${festival}`;
  return url.toString();
}

/** Parse an invite link, a bare `#/join/…` fragment, or just a pasted festival id. */
export function parseInvite(input: string): Invite | null {
  const text = input.trim();
  if (!text) return null;
  const hashAt = text.indexOf('#');
  const fragment = hashAt >= 0 ? text.slice(hashAt + 1) : text;
  const path = fragment.replace(/^\/+/, '');
  let rest: string;
  if (path.toLowerCase().startsWith('join/')) rest = path.slice(5);
  else if (hashAt < 0 && !text.includes('/')) rest = path; // a bare id
  else return null;
  const match = /^([0-9a-fA-F]+)(.*)$/s.exec(rest);
  if (!match) return null;
  const festival = match[1].toLowerCase();
  if (!ID.test(festival)) return null;
  return { festival, extra: match[2] };
}
