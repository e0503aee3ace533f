// The schedule of a festival (or of one resource): loads all events, filters them, and shows
// them by day or as a timeline per location/resource. It times its first render with data
// (query + render), for the 10k-event budget; see the Bench screen.
import { useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { useLiveQuery } from '../../node/useLiveQuery';
import { useFestival } from '../../node/FestivalScope';
import { errorText } from '../../node/api';
import { daysWithEvents, filterEvents, NO_FILTER, type ScheduleFilter } from '../../lib/schedule';
import { ALL_TIME, dayKey } from '../../lib/time';
import { DayList } from './DayList';
import { Timeline } from './Timeline';
import { ScheduleFilters, type ScheduleMode } from './ScheduleFilters';

export interface ScheduleTimings {
  events: number;
  /** The node's eventsInRange answer (worker round trip, structured clone). */
  queryMs: number;
  /** From data arrival to the first paint showing it (filter, group, React render, layout). */
  renderMs: number;
  totalMs: number;
}

declare global {
  interface Window {
    __scheduleTimings?: ScheduleTimings[];
  }
}

interface Props {
  /** Show only this resource's events (a resource/location page). */
  lockResource?: string;
  /** Only events created by this author (the "my events" list). */
  creator?: string;
  onTimings?: (timings: ScheduleTimings) => void;
}

export function ScheduleView({ lockResource, creator, onTimings }: Props) {
  const { id, resources, resourceNames } = useFestival();
  const clock = useRef<{ start: number; arrived: number; reported: boolean }>({ start: 0, arrived: 0, reported: false });
  const live = useLiveQuery(
    id,
    async (node) => {
      const start = performance.now();
      const events = await node.eventsInRange(id, ALL_TIME.from, ALL_TIME.to);
      if (!clock.current.reported) clock.current = { start, arrived: performance.now(), reported: false };
      return events;
    },
    [id],
  );
  const [mode, setMode] = useState<ScheduleMode>('day');
  const [filter, setFilter] = useState<ScheduleFilter>(NO_FILTER);
  // Typing in search stays responsive with 10k events: filtering follows at lower priority.
  const deferred = useDeferredValue(filter);

  const all = live.data;
  const scoped = useMemo(() => {
    const list = all ?? [];
    return creator ? list.filter((e) => e.creator === creator) : list;
  }, [all, creator]);
  const effective = useMemo(
    () => (lockResource ? { ...deferred, location: '', resource: lockResource } : deferred),
    [deferred, lockResource],
  );
  const days = useMemo(() => daysWithEvents(scoped), [scoped]);
  const timelineDay = filter.day || pickDay(days);
  const shown = useMemo(() => {
    // In the timeline the day is the view itself, not a filter that drops other lanes' events.
    const f = mode === 'timeline' ? { ...effective, day: timelineDay } : effective;
    return filterEvents(scoped, f, resourceNames);
  }, [scoped, effective, mode, timelineDay, resourceNames]);
  const onlyResources = useMemo(
    () => [effective.location, effective.resource].filter(Boolean),
    [effective.location, effective.resource],
  );

  // Time the first paint that shows the data.
  useEffect(() => {
    if (all === undefined || clock.current.reported) return;
    clock.current.reported = true;
    const { start, arrived } = clock.current;
    requestAnimationFrame(() =>
      setTimeout(() => {
        const painted = performance.now();
        const timings = { events: all.length, queryMs: arrived - start, renderMs: painted - arrived, totalMs: painted - start };
        (window.__scheduleTimings ??= []).push(timings);
        console.info(`[schedule] ${timings.events} events: query ${timings.queryMs.toFixed(1)} ms, render ${timings.renderMs.toFixed(1)} ms, total ${timings.totalMs.toFixed(1)} ms`);
        onTimings?.(timings);
      }, 0),
    );
  }, [all, onTimings]);

  return (
    <div className="schedule" data-testid="schedule" data-mode={mode}>
      <ScheduleFilters
        filter={mode === 'timeline' ? { ...filter, day: timelineDay } : filter}
        // The timeline's default day is not a filter: don't pin it when another field changes.
        onChange={(next) => setFilter(mode === 'timeline' && !filter.day && next.day === timelineDay ? { ...next, day: '' } : next)}
        mode={mode}
        onMode={setMode}
        resources={resources}
        days={days}
        lockResource={!!lockResource}
        dayIsView={mode === 'timeline'}
      />
      {live.error !== undefined && (
        <p className="error-text" role="alert" data-testid="schedule-error">
          Couldn’t load events: {errorText(live.error)}
        </p>
      )}
      <p className="muted small" aria-live="polite" data-testid="schedule-count" data-count={shown.length}>
        {all === undefined ? 'Loading…' : `${shown.length} of ${scoped.length} events`}
      </p>
      {all !== undefined && scoped.length === 0 ? (
        <p data-testid="schedule-empty">No events yet.</p>
      ) : mode === 'day' ? (
        <DayList events={shown} festival={id} filterDay={effective.day} resourceNames={resourceNames} />
      ) : (
        <Timeline events={shown} resources={resources} festival={id} day={timelineDay} onlyResources={onlyResources} />
      )}
    </div>
  );
}

/** The timeline opens on today or the next day with events, else on the last day with events. */
function pickDay(days: string[]): string {
  const today = dayKey(Date.now());
  return days.find((d) => d >= today) ?? days[days.length - 1] ?? today;
}

