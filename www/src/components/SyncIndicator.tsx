// The always-visible sync state: online / no peers / offline, peer count, and a progress bar
// while a long sync is catching up.
import { connectivity } from '../lib/sync';
import { useSync } from '../node/SyncContext';

export function SyncIndicator() {
  const sync = useSync();
  const conn = connectivity(sync.online, sync.peers.length);
  const short = conn.state === 'offline' ? 'Offline' : conn.state === 'alone' ? 'No peers' : `${sync.peers.length} peer${sync.peers.length === 1 ? '' : 's'}`;
  return (
    <div className="sync-indicator" data-testid="sync-status" data-state={conn.state} title={conn.label}>
      <span className={`dot dot-${conn.state}`} aria-hidden="true" />
      <span data-testid="sync-peer-count" data-count={sync.peers.length}>
        {short}
      </span>
      <span className="visually-hidden">{conn.label}</span>
      {sync.view.syncing && <SyncProgress />}
      <OfflineToggle />
    </div>
  );
}

/** Work offline on purpose (close every connection) and come back: local changes sync then. */
export function OfflineToggle() {
  const { workingOffline, setWorkingOffline } = useSync();
  return (
    <button
      type="button"
      className="offline-toggle"
      aria-pressed={workingOffline}
      onClick={() => setWorkingOffline(!workingOffline)}
      title={workingOffline ? 'Connect to peers again and sync your changes' : 'Close every connection; changes are kept and sync later'}
      data-testid="offline-toggle"
    >
      {workingOffline ? 'Go online' : 'Work offline'}
    </button>
  );
}

export function SyncProgress() {
  const { view } = useSync();
  if (!view.syncing) return null;
  const percent = Math.floor(view.fraction * 100);
  return (
    <span className="sync-progress">
      <progress
        max={100}
        value={percent}
        data-testid="sync-progress"
        aria-label={`Syncing: ${view.received} received, ${view.missing} to go`}
      />
      <span className="muted" data-testid="sync-progress-text">
        {view.missing} to go
      </span>
    </span>
  );
}

/** Below the header when offline or alone: everything still works and syncs later. */
export function ConnectivityBanner() {
  const sync = useSync();
  const conn = connectivity(sync.online, sync.peers.length);
  if (conn.state === 'online' || sync.updated === null) return null;
  return (
    <div className={`banner banner-${conn.state}`} role="status" data-testid="offline-banner" data-state={conn.state}>
      {sync.workingOffline ? 'Working offline: changes are kept and sync when you go online again.' : conn.label}
    </div>
  );
}
