// The joined festivals, shared by the list, the profile publisher and the festival screens.
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import type { Festival } from 'p2panda';
import { useLiveQuery } from './useLiveQuery';
import { ProfileSync } from './ProfileSync';

interface Festivals {
  list: Festival[];
  loaded: boolean;
  error: unknown;
  /** Re-read now: after create/join/leave, whose ids the live query doesn't watch yet. */
  refresh(): void;
}

const Context = createContext<Festivals>({ list: [], loaded: false, error: undefined, refresh: () => {} });

export const useFestivals = () => useContext(Context);

export function FestivalsProvider({ children }: { children: ReactNode }) {
  // Watch every known festival (and its subs): arrivals of pending ones, renames, new subs.
  const [watched, setWatched] = useState<string[]>([]);
  const live = useLiveQuery(
    watched,
    async (node) => {
      const list = await node.festivals();
      const ids = [...new Set(list.flatMap((f) => [f.id, ...f.subFestivals]))].sort();
      setWatched((old) => (old.join() === ids.join() ? old : ids));
      return list;
    },
    [],
  );
  const { data, error, refresh } = live;
  const value = useMemo(() => ({ list: data ?? [], loaded: data !== undefined, error, refresh }), [data, error, refresh]);
  return (
    <Context.Provider value={value}>
      <ProfileSync festivals={value.list} />
      {children}
    </Context.Provider>
  );
}
