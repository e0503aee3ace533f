import { describe, expect, it } from 'vitest';
import { daysWithEvents, filterEvents, groupByDay, NO_FILTER, stackRows, timelineLanes, type LaneItem } from './schedule';
import { at, event, resource } from '../test/fixtures';

const stage = resource({ id: 's1', name: 'Main stage' });
const barn = resource({ id: 's2', name: 'Barn' });
const drill = resource({ id: 'i1', name: 'Drill', kind: { type: 'item' } });
const names = new Map([stage, barn, drill].map((r) => [r.id, r.name]));

const jazz = event({ title: 'Jazz night', start: at(2027, 9, 4, 19), end: at(2027, 9, 4, 23), resources: [{ resource: 's1', status: 'granted' }] });
const poetry = event({ title: 'Poetry', description: 'open mic', start: at(2027, 9, 4, 14), end: at(2027, 9, 4, 15), resources: [{ resource: 's2', status: 'pending' }, { resource: 'i1', status: 'granted' }] });
const denied = event({ title: 'Repair café', start: at(2027, 9, 5, 10), end: at(2027, 9, 5, 12), resources: [{ resource: 's1', status: 'denied' }] });
const overnight = event({ title: 'Rave', start: at(2027, 9, 5, 22), end: at(2027, 9, 6, 4), cancelled: true });
const all = [jazz, poetry, denied, overnight];

describe('filterEvents', () => {
  it('sorts by start time', () => {
    expect(filterEvents(all, NO_FILTER, names).map((e) => e.title)).toEqual(['Poetry', 'Jazz night', 'Repair café', 'Rave']);
  });

  it('filters by day, including events that run into it', () => {
    expect(filterEvents(all, { ...NO_FILTER, day: '2027-09-06' }, names).map((e) => e.title)).toEqual(['Rave']);
    expect(filterEvents(all, { ...NO_FILTER, day: '2027-09-04' }, names)).toHaveLength(2);
  });

  it('filters by location and resource, ignoring denied requests', () => {
    expect(filterEvents(all, { ...NO_FILTER, location: 's1' }, names).map((e) => e.title)).toEqual(['Jazz night']);
    expect(filterEvents(all, { ...NO_FILTER, location: 's2', resource: 'i1' }, names).map((e) => e.title)).toEqual(['Poetry']);
  });

  it('searches title, description and resource names, every word', () => {
    expect(filterEvents(all, { ...NO_FILTER, query: 'MIC' }, names).map((e) => e.title)).toEqual(['Poetry']);
    expect(filterEvents(all, { ...NO_FILTER, query: 'main stage' }, names).map((e) => e.title)).toEqual(['Jazz night', 'Repair café']);
    expect(filterEvents(all, { ...NO_FILTER, query: 'jazz barn' }, names)).toEqual([]);
  });

  it('can hide cancelled events', () => {
    expect(filterEvents(all, { ...NO_FILTER, showCancelled: false }, names).map((e) => e.title)).not.toContain('Rave');
  });
});

describe('groupByDay', () => {
  it('puts a header before each day', () => {
    const rows = groupByDay(filterEvents(all, NO_FILTER, names));
    expect(rows.map((r) => (r.type === 'day' ? `# ${r.key} (${r.count})` : r.event.title))).toEqual([
      '# 2027-09-04 (2)', 'Poetry', 'Jazz night', '# 2027-09-05 (2)', 'Repair café', 'Rave',
    ]);
  });

  it('groups under the filtered day when one is set', () => {
    const rows = groupByDay([overnight], '2027-09-06');
    expect(rows[0]).toEqual({ type: 'day', key: '2027-09-06', count: 1 });
  });

  it('handles 10k events quickly', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => event({ title: `E${i}`, start: at(2027, 9, 1) + i * 600_000, end: at(2027, 9, 1) + i * 600_000 + 300_000 }));
    const t0 = performance.now();
    const rows = groupByDay(filterEvents(many, { ...NO_FILTER, query: 'e99' }, names));
    const elapsed = performance.now() - t0;
    expect(rows.filter((r) => r.type === 'event')).toHaveLength(111); // E99, E990..E999, E9900..E9999
    expect(elapsed).toBeLessThan(500);
  });
});

describe('daysWithEvents', () => {
  it('lists each day an event touches', () => {
    expect(daysWithEvents([overnight, jazz])).toEqual(['2027-09-04', '2027-09-05', '2027-09-06']);
  });
});

describe('timelineLanes', () => {
  it('makes a lane per resource, locations first, placing events in the day', () => {
    const lanes = timelineLanes(all, [drill, stage, barn], '2027-09-04');
    expect(lanes.map((l) => l.name)).toEqual(['Barn', 'Main stage', 'Drill']);
    const main = lanes.find((l) => l.resource === 's1')!;
    expect(main.items).toHaveLength(1);
    expect(main.items[0].left).toBeCloseTo(19 / 24, 2);
    expect(main.items[0].width).toBeCloseTo(4 / 24, 2);
    expect(lanes.find((l) => l.resource === 's2')!.items[0].status).toBe('pending');
  });

  it('clips overnight events and collects events without resources', () => {
    const lanes = timelineLanes(all, [stage], '2027-09-06');
    const none = lanes.find((l) => l.resource === '')!;
    expect(none.items[0].left).toBe(0);
    expect(none.items[0].width).toBeCloseTo(4 / 24, 2);
  });

  it('limits lanes to the filtered resources', () => {
    expect(timelineLanes(all, [stage, barn, drill], '2027-09-04', ['s2']).map((l) => l.resource)).toEqual(['s2']);
  });

  it('orders lanes by name the way people count', () => {
    const stages = [10, 2, 1].map((n) => resource({ id: `st${n}`, name: `Stage ${n}` }));
    expect(timelineLanes([], stages, '2027-09-04').map((l) => l.name)).toEqual(['Stage 1', 'Stage 2', 'Stage 10']);
  });

  it('skips deleted resources', () => {
    expect(timelineLanes([], [{ ...stage, deleted: true }], '2027-09-04')).toEqual([]);
  });
});

describe('stackRows', () => {
  it('puts overlapping items on separate rows and reuses free rows', () => {
    const item = (left: number, width: number) => ({ left, width, row: -1 }) as LaneItem;
    const items = [item(0, 0.5), item(0.25, 0.5), item(0.5, 0.25), item(0.8, 0.1)];
    expect(stackRows(items)).toBe(2);
    expect(items.map((i) => [i.left, i.row])).toEqual([[0, 0], [0.25, 1], [0.5, 0], [0.8, 0]]);
  });
});
