// Everything the screens inside one festival share: the festival, its resources and names.
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { Festival, Resource } from 'p2panda';
import { useLiveQuery } from './useLiveQuery';
import { useNames, type NameOf } from './names';

export interface FestivalData {
  id: string;
  festival: Festival | null | undefined;
  /** Live resources, deleted ones included (their requests still show). */
  resources: Resource[];
  resourceById: ReadonlyMap<string, Resource>;
  resourceNames: ReadonlyMap<string, string>;
  nameOf: NameOf;
  refresh(): void;
}

const Context = createContext<FestivalData | null>(null);

export function useFestival(): FestivalData {
  const value = useContext(Context);
  if (!value) throw new Error('useFestival outside FestivalScope');
  return value;
}

export function FestivalScope({ id, children }: { id: string; children: ReactNode }) {
  const festival = useLiveQuery(id, (node) => node.festival(id), [id]);
  const pending = festival.data?.pending ?? true;
  const resources = useLiveQuery(id, (node) => (pending ? Promise.resolve([]) : node.resources(id)), [id, pending]);
  const { nameOf } = useNames(pending ? null : id);
  const refreshFestival = festival.refresh;
  const refreshResources = resources.refresh;
  const value = useMemo<FestivalData>(() => {
    const list = resources.data ?? [];
    return {
      id,
      festival: festival.data,
      resources: list,
      resourceById: new Map(list.map((r) => [r.id, r])),
      resourceNames: new Map(list.map((r) => [r.id, r.name])),
      nameOf,
      refresh: () => {
        refreshFestival();
        refreshResources();
      },
    };
  }, [id, festival.data, resources.data, nameOf, refreshFestival, refreshResources]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}
