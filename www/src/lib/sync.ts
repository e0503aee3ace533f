// What the sync display derives from the node's polled numbers: when each peer was last heard
// from, how far a long sync has come, and whether we are offline (and why).
import type { Peer, Progress } from 'p2panda';

export interface Activity {
  bytesReceived: number;
  /** When bytesReceived last changed (or the peer first showed up). */
  lastActive: number;
}

/** Peers are named by their key once the handshake told it, by link number before. */
export function peerKey(peer: Pick<Peer, 'peer' | 'publicKey'>): string {
  return peer.publicKey ?? `link-${peer.peer}`;
}

export function trackActivity(
  previous: ReadonlyMap<string, Activity>,
  peers: readonly Peer[],
  now: number,
): Map<string, Activity> {
  const next = new Map(previous); // keep departed peers: "last active" is still worth showing
  for (const peer of peers) {
    const key = peerKey(peer);
    const before = previous.get(key);
    if (!before || before.bytesReceived !== peer.bytesReceived)
      next.set(key, { bytesReceived: peer.bytesReceived, lastActive: now });
  }
  return next;
}

export interface SyncRun {
  /** entriesReceived when the current run of missing entries began; null when caught up. */
  baseline: number | null;
}

export interface SyncView {
  syncing: boolean;
  /** 0..1 of the current run (received since it began over received + still missing). */
  fraction: number;
  received: number;
  missing: number;
}

export function syncView(run: SyncRun, progress: Progress): { run: SyncRun; view: SyncView } {
  if (progress.missing <= 0) {
    return {
      run: { baseline: null },
      view: { syncing: false, fraction: 1, received: 0, missing: 0 },
    };
  }
  const baseline = run.baseline ?? progress.entriesReceived;
  const received = Math.max(0, progress.entriesReceived - baseline);
  return {
    run: { baseline },
    view: { syncing: true, fraction: received / (received + progress.missing), received, missing: progress.missing },
  };
}

export type Connectivity =
  | { state: 'offline'; label: string }
  | { state: 'alone'; label: string }
  | { state: 'online'; label: string };

/**
 * Connected peers win: the browser's onLine flag only knows about non-local networks, and peers
 * on this machine or a local network still sync without one. Without peers, say why.
 */
export function connectivity(online: boolean, peerCount: number): Connectivity {
  if (peerCount > 0) return { state: 'online', label: `${peerCount} peer${peerCount === 1 ? '' : 's'} connected` };
  if (!online) return { state: 'offline', label: 'Offline: no network. Your changes are kept and sync when you are back.' };
  return { state: 'alone', label: 'No peers connected. Your changes are kept and sync when someone is reachable.' };
}
