// How a location says where it is: an address, coordinates (opened in the device's map app via
// a geo: link, no map tiles are loaded), or a URL for a virtual place.
import type { ResourceKind } from 'p2panda';

type Location = Extract<ResourceKind, { type: 'location' }>;

export function LocationSummary({ kind }: { kind: Location }) {
  const parts = [kind.address, kind.geo ? `${kind.geo.lat.toFixed(5)}, ${kind.geo.lon.toFixed(5)}` : null, kind.url ? 'online' : null].filter(Boolean);
  if (!parts.length) return null;
  return <div className="small">📍 {parts.join(' · ')}</div>;
}

export function LocationDetails({ kind }: { kind: Location }) {
  const none = !kind.address && !kind.geo && !kind.url;
  return (
    <dl className="location-details" data-testid="location-details">
      {kind.address && (
        <>
          <dt>Address</dt>
          <dd data-testid="resource-address">{kind.address}</dd>
        </>
      )}
      {kind.geo && (
        <>
          <dt>Coordinates</dt>
          <dd data-testid="resource-geo">
            <a href={`geo:${kind.geo.lat},${kind.geo.lon}`}>
              {kind.geo.lat.toFixed(5)}, {kind.geo.lon.toFixed(5)}
            </a>{' '}
            <span className="muted small">(opens your map app)</span>
          </dd>
        </>
      )}
      {kind.url && (
        <>
          <dt>Virtual place</dt>
          <dd data-testid="resource-url">
            <a href={kind.url} target="_blank" rel="noopener noreferrer">
              {kind.url}
            </a>
          </dd>
        </>
      )}
      {none && <dd className="muted">No address given.</dd>}
    </dl>
  );
}
