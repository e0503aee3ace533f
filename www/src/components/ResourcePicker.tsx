// Pick resources for an event, seeing for the chosen timeframe which are free, only requested
// by others (pending), or already booked (granted to an overlapping event).
import { useMemo, useState } from 'react';
import type { Resource } from 'p2panda';
import type { Availability } from '../lib/availability';
import { KIND_LABEL, policyLabel } from '../lib/eventStatus';
import { formatTime } from '../lib/time';
import type { NameOf } from '../node/names';
import { compareNames } from '../lib/sort';

interface Props {
  resources: Resource[];
  selected: string[];
  onChange: (selected: string[]) => void;
  byResource: ReadonlyMap<string, Availability>;
  hasTimeframe: boolean;
  nameOf: NameOf;
  error?: string;
}

const STATE_LABEL = { free: 'free', requested: 'requested by others', booked: 'booked' } as const;

export function ResourcePicker({ resources, selected, onChange, byResource, hasTimeframe, nameOf, error }: Props) {
  const [query, setQuery] = useState('');
  const visible = useMemo(() => {
    const q = query.trim().toLowerCase();
    return resources
      .filter((r) => !r.deleted && (!q || r.name.toLowerCase().includes(q) || selected.includes(r.id)))
      .sort((a, b) => (a.kind.type === b.kind.type ? compareNames(a.name, b.name) : a.kind.type === 'location' ? -1 : b.kind.type === 'location' ? 1 : a.kind.type.localeCompare(b.kind.type)));
  }, [resources, query, selected]);
  const toggle = (id: string, on: boolean) => onChange(on ? [...selected, id] : selected.filter((s) => s !== id));

  return (
    <fieldset className={`picker${error ? ' field-invalid' : ''}`} data-testid="resource-picker" aria-describedby={error ? 'picker-error' : undefined}>
      <legend>Resources to request</legend>
      {resources.length > 8 && (
        <input type="search" aria-label="Find a resource" placeholder="Find a resource" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="picker-search" />
      )}
      {!hasTimeframe && <p className="muted small">Enter start and end to see which resources are free.</p>}
      {visible.length === 0 && <p className="muted">No resources in this festival yet.</p>}
      <ul className="plain picker-list">
        {visible.map((r) => {
          const a = hasTimeframe ? byResource.get(r.id) : undefined;
          const checked = selected.includes(r.id);
          return (
            <li key={r.id} className={`picker-option avail-${a?.state ?? 'unknown'}`} data-testid="picker-option" data-resource={r.id} data-availability={a?.state ?? 'unknown'}>
              <label>
                <input type="checkbox" checked={checked} onChange={(e) => toggle(r.id, e.target.checked)} data-testid="picker-checkbox" />
                <span className="picker-name">{r.name}</span>
                <span className="muted small">
                  {' '}
                  {KIND_LABEL[r.kind.type]} · {nameOf(r.owner)} · {policyLabel(r.policy)}
                </span>
              </label>
              {a && (
                <span className={`badge avail-badge-${a.state}`} data-testid="picker-availability">
                  {STATE_LABEL[a.state]}
                  {a.overlapping.length > 0 && ` ${a.overlapping.map((b) => `${formatTime(b.start)}–${formatTime(b.end)}`).slice(0, 2).join(', ')}`}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {error && (
        <small id="picker-error" className="error-text" role="alert" data-testid="event-resources-error">
          {error}
        </small>
      )}
    </fieldset>
  );
}
