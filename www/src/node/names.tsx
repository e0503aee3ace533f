// Display names within a festival: the published profiles, our own local name, else a short key.
import { useCallback, useMemo } from 'react';
import { shortKey } from '../lib/avatar';
import type { Profile } from './api';
import { useApp } from './NodeContext';
import { useLiveQuery } from './useLiveQuery';

export type NameOf = (author: string) => string;

export function useNames(festival: string | null): { nameOf: NameOf; profiles: Profile[] } {
  const { node, displayName } = useApp();
  const live = useLiveQuery(
    festival,
    (n) => (festival ? n.profiles(festival).catch(() => [] as Profile[]) : Promise.resolve([])),
    [festival],
  );
  const list = useMemo(() => live.data ?? [], [live.data]);
  const nameOf = useCallback(
    (author: string) => {
      if (author === node.publicKey && displayName) return displayName;
      const found = list.find((p) => p.author === author)?.name;
      return found || shortKey(author);
    },
    [list, node.publicKey, displayName],
  );
  return { nameOf, profiles: list };
}
