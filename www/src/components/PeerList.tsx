// Connected peers with how they were found, how much they sent, and when each was last active.
import { formatAgo } from '../lib/time';
import { peerKey } from '../lib/sync';
import type { NameOf } from '../node/names';
import { useSync } from '../node/SyncContext';
import { useNow } from '../hooks/useNow';
import { Avatar } from './Avatar';
import { SyncProgress } from './SyncIndicator';

const kib = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`);

export function PeerList({ nameOf }: { nameOf: NameOf }) {
  const sync = useSync();
  const now = useNow();
  const connected = new Set(sync.peers.map(peerKey));
  const departed = [...sync.activity.entries()].filter(([key]) => !connected.has(key));
  return (
    <section className="card" aria-labelledby="peers-title" data-testid="peer-list">
      <h2 id="peers-title">Connected peers</h2>
      <p className="muted">
        {sync.progress
          ? `${sync.progress.entriesReceived} entries received, ${sync.progress.entriesStored} stored${sync.progress.caughtUp ? ', caught up' : ''}.`
          : 'Checking…'}
      </p>
      <SyncProgress />
      {sync.peers.length === 0 && <p data-testid="peer-list-empty">Nobody connected right now.</p>}
      <ul className="plain">
        {sync.peers.map((peer) => {
          const key = peerKey(peer);
          return (
            <li key={key} className="peer" data-testid="peer" data-peer={key}>
              {peer.publicKey ? <Avatar publicKey={peer.publicKey} /> : <span className="avatar-placeholder" />}
              <div>
                <strong>{peer.publicKey ? nameOf(peer.publicKey) : `Link ${peer.peer} (greeting…)`}</strong>
                <div className="muted small">
                  via {peer.via ?? 'unknown'} · {peer.sharedFestivals} shared festival{peer.sharedFestivals === 1 ? '' : 's'} ·
                  ↓ {kib(peer.bytesReceived)} ↑ {kib(peer.bytesSent)} ·{' '}
                  {peer.caughtUp ? 'in sync' : `${peer.missing} entries to fetch`}
                </div>
                <div className="small" data-testid="peer-last-active">
                  last active {formatAgo(sync.activity.get(key)?.lastActive, now)}
                </div>
              </div>
            </li>
          );
        })}
      </ul>
      {departed.length > 0 && (
        <>
          <h3>Seen earlier</h3>
          <ul className="plain">
            {departed.map(([key, activity]) => (
              <li key={key} className="peer muted" data-testid="peer-departed">
                {key.startsWith('link-') ? <span className="avatar-placeholder" /> : <Avatar publicKey={key} />}
                <span>
                  {key.startsWith('link-') ? key : nameOf(key)} · last active {formatAgo(activity.lastActive, now)}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
