// Run a node query and run it again whenever the festival changes (own writes, synced entries).
// Changes come in bursts during sync: re-queries wait DEBOUNCE_MS, and at most one runs at a
// time (a change during a query schedules one more), so a long sync can't pile queries up.
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';
import type { Node } from 'p2panda';
import { useNode } from './NodeContext';

export const DEBOUNCE_MS = 100;

export interface Live<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Run the query now (after an own write the UI should not wait for a change event). */
  refresh(): void;
}

/**
 * `query` runs on mount, on every change of `festivals` (one id or several), and when `deps`
 * change. Data is kept while a new query runs: screens for another festival remount (`key`).
 */
export function useLiveQuery<T>(
  festivals: string | readonly string[] | null,
  query: (node: Node) => Promise<T>,
  deps: DependencyList,
): Live<T> {
  const node = useNode();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const queryRef = useRef(query);
  queryRef.current = query;
  const refreshRef = useRef<() => void>(() => {});

  const ids = festivals === null ? [] : typeof festivals === 'string' ? [festivals] : festivals;
  const key = ids.join(',');
  useEffect(() => {
    let alive = true;
    let running = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      timer = undefined;
      if (running) {
        again = true;
        return;
      }
      running = true;
      queryRef.current(node)
        .then(
          (data) => alive && setState({ data, error: undefined, loading: false }),
          (error: unknown) => alive && setState((s) => ({ data: s.data, error, loading: false })),
        )
        .finally(() => {
          running = false;
          if (alive && again) {
            again = false;
            schedule();
          }
        });
    };
    const schedule = () => {
      timer ??= setTimeout(run, DEBOUNCE_MS);
    };
    refreshRef.current = run;
    run();
    const offs = key ? key.split(',').map((id) => node.subscribe(id, schedule)) : [];
    return () => {
      alive = false;
      clearTimeout(timer);
      offs.forEach((off) => off());
    };
  }, [node, key, ...deps]);

  const refresh = useCallback(() => refreshRef.current(), []);
  return { ...state, refresh };
}
