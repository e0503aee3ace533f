// The schedule's data work, kept out of components so 10k events stay cheap and testable:
// filtering, text search, grouping by day (rows for a windowed list) and timeline lanes.
import type { FestivalEvent, Resource } from 'p2panda';
import { dayEnd, dayKey, dayStart } from './time';
import { compareNames } from './sort';

export interface ScheduleFilter {
  /** `YYYY-MM-DD`: events overlapping that local day. Empty: all days. */
  day: string;
  /** Resource ids (a location, or any resource): events that requested it and were not denied. */
  location: string;
  resource: string;
  query: string;
  showCancelled: boolean;
}

export const NO_FILTER: ScheduleFilter = {
  day: '',
  location: '',
  resource: '',
  query: '',
  showCancelled: true,
};

/** Resources an event actually occupies or waits for (denied requests don't place it there). */
export function activeResources(event: FestivalEvent): string[] {
  return event.resources
    .filter((r) => r.status === 'granted' || r.status === 'pending')
    .map((r) => r.resource);
}

export function compareEvents(a: FestivalEvent, b: FestivalEvent): number {
  return a.start - b.start || a.end - b.end || compareNames(a.title, b.title) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Lowercased words of the query; an event matches when every word is found. */
function terms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

export function filterEvents(
  events: readonly FestivalEvent[],
  filter: ScheduleFilter,
  resourceNames: ReadonlyMap<string, string>,
): FestivalEvent[] {
  const from = filter.day ? dayStart(filter.day) : null;
  const to = filter.day ? dayEnd(filter.day) : null;
  const words = terms(filter.query);
  const out: FestivalEvent[] = [];
  for (const event of events) {
    if (!filter.showCancelled && event.cancelled) continue;
    if (from !== null && to !== null && !(event.start < to && from < event.end)) continue;
    if (filter.location || filter.resource) {
      const placed = activeResources(event);
      if (filter.location && !placed.includes(filter.location)) continue;
      if (filter.resource && !placed.includes(filter.resource)) continue;
    }
    if (words.length) {
      const names = event.resources.map((r) => resourceNames.get(r.resource) ?? '').join(' ');
      const haystack = `${event.title} ${event.description} ${names}`.toLowerCase();
      if (!words.every((w) => haystack.includes(w))) continue;
    }
    out.push(event);
  }
  return out.sort(compareEvents);
}

// ---- by day ----

export type DayRow =
  | { type: 'day'; key: string; count: number }
  | { type: 'event'; event: FestivalEvent; day: string };

/**
 * Rows for the by-day list: a header per day, then its events. An event sits under the day it
 * starts on, or under the filtered day when it started earlier.
 */
export function groupByDay(sorted: readonly FestivalEvent[], filterDay = ''): DayRow[] {
  const groups = new Map<string, FestivalEvent[]>();
  for (const event of sorted) {
    const key = filterDay || dayKey(event.start);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(event);
  }
  const rows: DayRow[] = [];
  for (const key of [...groups.keys()].sort()) {
    const list = groups.get(key)!;
    rows.push({ type: 'day', key, count: list.length });
    for (const event of list) rows.push({ type: 'event', event, day: key });
  }
  return rows;
}

/** Days that have at least one event, in order (for the timeline's day picker). */
export function daysWithEvents(events: readonly FestivalEvent[]): string[] {
  const days = new Set<string>();
  for (const e of events) {
    // Multi-day events count on each day they touch (bounded, so a year-long event can't explode).
    let key = dayKey(e.start);
    for (let i = 0; i < 31; i++) {
      days.add(key);
      const end = dayEnd(key);
      if (end === null || end >= e.end) break;
      key = dayKey(end);
    }
  }
  return [...days].sort();
}

// ---- timeline lanes ----

export interface LaneItem {
  event: FestivalEvent;
  status: 'granted' | 'pending' | 'none';
  /** Position within the day, 0..1. */
  left: number;
  width: number;
  /** Sub-row, so overlapping events in one lane don't cover each other. */
  row: number;
}

export interface Lane {
  /** A resource id, or '' for events that requested no (active) resource. */
  resource: string;
  name: string;
  kind: 'location' | 'item' | 'skill' | 'none';
  items: LaneItem[];
  rows: number;
}

const KIND_ORDER = { location: 0, item: 1, skill: 2, none: 3 } as const;

/**
 * One lane per resource (locations first) for the day `day`, each event placed at its time.
 * `onlyResources` limits the lanes (the location/resource filters).
 */
export function timelineLanes(
  events: readonly FestivalEvent[],
  resources: readonly Resource[],
  day: string,
  onlyResources: readonly string[] = [],
): Lane[] {
  const from = dayStart(day);
  const to = dayEnd(day);
  if (from === null || to === null) return [];
  const span = to - from;
  const lanes = new Map<string, Lane>();
  const wanted = new Set(onlyResources);
  for (const r of resources) {
    if (r.deleted || (wanted.size && !wanted.has(r.id))) continue;
    lanes.set(r.id, { resource: r.id, name: r.name, kind: r.kind.type, items: [], rows: 1 });
  }
  const unassigned: Lane = { resource: '', name: 'No resource', kind: 'none', items: [], rows: 1 };
  for (const event of events) {
    if (!(event.start < to && from < event.end)) continue;
    const left = Math.max(0, (event.start - from) / span);
    const right = Math.min(1, (event.end - from) / span);
    const item = (status: LaneItem['status']): LaneItem => ({ event, status, left, width: right - left, row: 0 });
    let placed = false;
    for (const r of event.resources) {
      if (r.status !== 'granted' && r.status !== 'pending') continue;
      const lane = lanes.get(r.resource);
      if (lane) lane.items.push(item(r.status));
      placed = true;
    }
    if (!placed && !wanted.size) unassigned.items.push(item('none'));
  }
  const out = [...lanes.values()].sort(
    (a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || compareNames(a.name, b.name),
  );
  if (unassigned.items.length) out.push(unassigned);
  for (const lane of out) lane.rows = stackRows(lane.items);
  return out;
}

/** Greedy interval partitioning: assign each item the first row where it fits. Returns rows used. */
export function stackRows(items: LaneItem[]): number {
  items.sort((a, b) => a.left - b.left || b.width - a.width);
  const rowEnds: number[] = [];
  for (const item of items) {
    let row = rowEnds.findIndex((end) => end <= item.left);
    if (row < 0) row = rowEnds.push(0) - 1;
    rowEnds[row] = item.left + item.width;
    item.row = row;
  }
  return Math.max(1, rowEnds.length);
}
