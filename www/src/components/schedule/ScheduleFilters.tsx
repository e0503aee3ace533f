// Filter bar of the schedule: view switch, date, location, resource, text search.
import type { Resource } from 'p2panda';
import type { ScheduleFilter } from '../../lib/schedule';

export type ScheduleMode = 'day' | 'timeline';

interface Props {
  filter: ScheduleFilter;
  onChange: (filter: ScheduleFilter) => void;
  mode: ScheduleMode;
  onMode: (mode: ScheduleMode) => void;
  resources: Resource[];
  /** Days with events, for the timeline's day picker. */
  days: string[];
  /** Hide the location/resource pickers (a resource's own page). */
  lockResource: boolean;
  /** The timeline always shows one day: then the date is the view, not a filter to clear. */
  dayIsView: boolean;
}

export function ScheduleFilters({ filter, onChange, mode, onMode, resources, days, lockResource, dayIsView }: Props) {
  const live = resources.filter((r) => !r.deleted);
  const locations = live.filter((r) => r.kind.type === 'location');
  const others = live.filter((r) => r.kind.type !== 'location');
  const set = (patch: Partial<ScheduleFilter>) => onChange({ ...filter, ...patch });
  const dayIndex = days.indexOf(filter.day);
  const step = (delta: number) => {
    const next = days[dayIndex < 0 ? 0 : dayIndex + delta];
    if (next) set({ day: next });
  };
  return (
    <form className="filters" role="search" onSubmit={(e) => e.preventDefault()} data-testid="schedule-filters">
      <div className="segmented" role="group" aria-label="View">
        <button type="button" aria-pressed={mode === 'day'} onClick={() => onMode('day')} data-testid="schedule-view-day">
          By day
        </button>
        <button type="button" aria-pressed={mode === 'timeline'} onClick={() => onMode('timeline')} data-testid="schedule-view-timeline">
          By {lockResource ? 'time' : 'location'}
        </button>
      </div>
      <label className="filter">
        <span>Search</span>
        <input
          type="search"
          value={filter.query}
          onChange={(e) => set({ query: e.target.value })}
          placeholder="Title, description, place"
          data-testid="schedule-search"
        />
      </label>
      <label className="filter">
        <span>Date</span>
        <span className="day-picker">
          <button type="button" onClick={() => step(-1)} disabled={dayIndex <= 0} aria-label="Previous day with events" data-testid="schedule-day-prev">
            ‹
          </button>
          <input type="date" value={filter.day} onChange={(e) => set({ day: e.target.value })} data-testid="schedule-date" />
          <button type="button" onClick={() => step(1)} disabled={dayIndex >= days.length - 1} aria-label="Next day with events" data-testid="schedule-day-next">
            ›
          </button>
        </span>
      </label>
      {!lockResource && (
        <>
          <label className="filter">
            <span>Location</span>
            <select value={filter.location} onChange={(e) => set({ location: e.target.value })} data-testid="schedule-location">
              <option value="">All locations</option>
              {locations.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
          <label className="filter">
            <span>Resource</span>
            <select value={filter.resource} onChange={(e) => set({ resource: e.target.value })} data-testid="schedule-resource">
              <option value="">All resources</option>
              {others.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} ({r.kind.type})
                </option>
              ))}
            </select>
          </label>
        </>
      )}
      <label className="filter check">
        <input type="checkbox" checked={filter.showCancelled} onChange={(e) => set({ showCancelled: e.target.checked })} data-testid="schedule-show-cancelled" />
        <span>Show cancelled</span>
      </label>
      {((filter.day && !dayIsView) || filter.query || filter.location || filter.resource) && (
        <button type="button" className="link" onClick={() => onChange({ ...filter, day: '', query: '', location: '', resource: '' })} data-testid="schedule-clear">
          Clear filters
        </button>
      )}
    </form>
  );
}
