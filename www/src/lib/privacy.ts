// Which kind a festival is (public, or private = end-to-end encrypted) and who manages its
// members. Sub-festivals share their root's key: the root decides both.
import type { Festival } from 'p2panda';
import { parseHexKey } from './hex';
import type { Result } from './validation';

/** `unknown`: joined without a key and not arrived, so it may be either (the node can't read it). */
export type FestivalKind = 'private' | 'public' | 'unknown';

export function festivalKind(festival: Pick<Festival, 'pending' | 'private'>): FestivalKind {
  if (festival.private) return 'private';
  return festival.pending ? 'unknown' : 'public';
}

/** The root festival above `id` as far as `list` knows it (`id`'s own entry for a root). */
export function rootOf(list: readonly Festival[], id: string): Festival | undefined {
  const byId = new Map(list.map((f) => [f.id, f]));
  let current = byId.get(id);
  // Bounded: the list comes from peers' data, a cycle must not hang the page.
  for (let depth = 0; current?.parent && depth < 32; depth++) {
    const parent = byId.get(current.parent);
    if (!parent) return undefined;
    current = parent;
  }
  return current?.parent ? undefined : current;
}

/** Whether `me` may add and remove members: the creator of a private root festival. */
export function managesMembers(root: Festival | undefined, me: string): boolean {
  return !!root && root.private && !root.pending && root.creator === me;
}

/** A member's public key typed or pasted by the organiser. */
export function validateMemberKey(text: string, me: string): Result<string, 'key'> {
  if (!text.trim()) return { ok: false, errors: { key: 'Paste their public key (Settings → your public key).' } };
  const key = parseHexKey(text);
  if (!key) return { ok: false, errors: { key: 'A public key is 64 characters 0–9 and a–f.' } };
  if (key === me) return { ok: false, errors: { key: 'That is your own key: you are in already.' } };
  return { ok: true, value: key };
}
