import { describe, expect, it } from 'vitest';
import type { Peer, Progress } from 'p2panda';
import { connectivity, peerKey, syncView, trackActivity } from './sync';

const peer = (n: number, bytesReceived: number, publicKey: string | null = `k${n}`): Peer => ({
  peer: n, publicKey, sharedFestivals: 1, missing: 0, caughtUp: true, bytesSent: 0, bytesReceived, via: 'rendezvous',
});
const progress = (missing: number, entriesReceived: number): Progress => ({ peers: 1, missing, entriesReceived, entriesStored: entriesReceived, caughtUp: missing === 0 });

describe('trackActivity', () => {
  it('updates last active only when bytes arrive, and remembers departed peers', () => {
    let a = trackActivity(new Map(), [peer(1, 10), peer(2, 0, null)], 1000);
    expect(a.get('k1')).toEqual({ bytesReceived: 10, lastActive: 1000 });
    expect(a.get('link-2')?.lastActive).toBe(1000);
    a = trackActivity(a, [peer(1, 10)], 2000);
    expect(a.get('k1')?.lastActive).toBe(1000);
    a = trackActivity(a, [peer(1, 15)], 3000);
    expect(a.get('k1')?.lastActive).toBe(3000);
    expect(a.has('link-2')).toBe(true);
    expect(peerKey(peer(3, 0, null))).toBe('link-3');
  });
});

describe('syncView', () => {
  it('measures a run from when entries went missing', () => {
    let run = { baseline: null as number | null };
    let r = syncView(run, progress(100, 50));
    expect(r.view).toMatchObject({ syncing: true, fraction: 0, missing: 100 });
    run = r.run;
    r = syncView(run, progress(25, 125));
    expect(r.view.fraction).toBeCloseTo(0.75);
    r = syncView(r.run, progress(0, 150));
    expect(r.view.syncing).toBe(false);
    expect(r.run.baseline).toBeNull();
  });
});

describe('connectivity', () => {
  it('says which: offline, alone or online', () => {
    expect(connectivity(false, 0).state).toBe('offline');
    expect(connectivity(true, 0).state).toBe('alone');
    expect(connectivity(true, 2)).toEqual({ state: 'online', label: '2 peers connected' });
    // Local peers still sync when the browser thinks it has no network.
    expect(connectivity(false, 1).state).toBe('online');
  });
});
