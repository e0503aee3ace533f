// Keeps our display name published in every joined festival: on a name change, and whenever a
// festival we joined or created has arrived and shows a different (or no) name for us.
import { useEffect, useRef } from 'react';
import type { Festival } from 'p2panda';
import { useApp } from './NodeContext';

export function ProfileSync({ festivals }: { festivals: readonly Festival[] }) {
  const { node, displayName } = useApp();
  // festival id → name already published (or being published), so repeats don't sign again.
  const published = useRef(new Map<string, string>());

  useEffect(() => {
    const name = displayName.trim();
    if (!name) return;
    for (const festival of festivals) {
      if (!festival.joined || festival.pending || published.current.get(festival.id) === name) continue;
      published.current.set(festival.id, name);
      (async () => {
        const known = await node.profiles(festival.id);
        const mine = known.find((p) => p.author === node.publicKey);
        if (mine?.name !== name) await node.setProfile(festival.id, { name });
      })().catch(() => {
        // Try again on the next change.
        published.current.delete(festival.id);
      });
    }
  }, [node, displayName, festivals]);

  return null;
}
