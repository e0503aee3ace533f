// Polls the node's peers and sync progress (every 2 s, and at once on a "peers" event) and
// tracks what the sync display needs: last activity per peer, the current sync run, online state.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { Peer, Progress } from 'p2panda';
import { useNode } from './NodeContext';
import { trackActivity, syncView, type Activity, type SyncRun, type SyncView } from '../lib/sync';

export const POLL_MS = 2000;

export interface SyncState {
  peers: Peer[];
  progress: Progress | null;
  activity: ReadonlyMap<string, Activity>;
  view: SyncView;
  online: boolean;
  /** When the last poll answered (null before the first). */
  updated: number | null;
  /** The user chose to work offline (`node.setOnline(false)`): no connections until they go back. */
  workingOffline: boolean;
  setWorkingOffline(offline: boolean): void;
}

const INITIAL: SyncState = {
  peers: [],
  progress: null,
  activity: new Map(),
  view: { syncing: false, fraction: 1, received: 0, missing: 0 },
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  updated: null,
  workingOffline: false,
  setWorkingOffline: () => {},
};

const Context = createContext<SyncState>(INITIAL);

export const useSync = () => useContext(Context);

export function SyncProvider({ children }: { children: ReactNode }) {
  const node = useNode();
  const [state, setState] = useState<SyncState>(INITIAL);
  const [workingOffline, setOffline] = useState(() => !node.online);
  const setWorkingOffline = useCallback(
    (offline: boolean) => {
      node.setOnline(!offline);
      setOffline(offline);
    },
    [node],
  );

  useEffect(() => {
    let alive = true;
    let run: SyncRun = { baseline: null };
    let inFlight = false;
    const poll = async () => {
      if (inFlight) return;
      inFlight = true;
      try {
        const [peers, progress] = await Promise.all([node.peers(), node.progress()]);
        if (!alive) return;
        const next = syncView(run, progress);
        run = next.run;
        const now = Date.now();
        setState((s) => ({
          ...s,
          peers,
          progress,
          activity: trackActivity(s.activity, peers, now),
          view: next.view,
          updated: now,
        }));
      } catch {
        // The node closed or is busy; the next poll tries again and errors reach the error log.
      } finally {
        inFlight = false;
      }
    };
    const online = () => setState((s) => ({ ...s, online: navigator.onLine }));
    poll();
    const timer = setInterval(poll, POLL_MS);
    // "peers" fires for every bit of sync progress: coalesce bursts.
    let soon: ReturnType<typeof setTimeout> | undefined;
    const off = node.on('peers', () => {
      soon ??= setTimeout(() => {
        soon = undefined;
        void poll();
      }, 250);
    });
    window.addEventListener('online', online);
    window.addEventListener('offline', online);
    return () => {
      alive = false;
      clearInterval(timer);
      clearTimeout(soon);
      off();
      window.removeEventListener('online', online);
      window.removeEventListener('offline', online);
    };
  }, [node]);

  const value = useMemo(
    () => ({ ...state, online: state.online && !workingOffline, workingOffline, setWorkingOffline }),
    [state, workingOffline, setWorkingOffline],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}
