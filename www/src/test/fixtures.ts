// Small builders for node-shaped data in unit tests.
import type { FestivalEvent, Resource } from 'p2panda';

let counter = 0;
export const hex = (n: number, len = 128) => n.toString(16).padStart(len, '0');

export function event(partial: Partial<FestivalEvent> & Pick<FestivalEvent, 'start' | 'end'>): FestivalEvent {
  counter++;
  return {
    id: hex(counter),
    festival: hex(9999),
    creator: hex(1, 64),
    version: hex(counter),
    title: `Event ${counter}`,
    description: '',
    cancelled: false,
    confirmed: 1,
    resources: [],
    ...partial,
  };
}

export function resource(partial: Partial<Resource> & Pick<Resource, 'id' | 'name'>): Resource {
  return {
    festival: hex(9999),
    owner: hex(1, 64),
    description: '',
    kind: { type: 'location' },
    policy: 'fcfs',
    deleted: false,
    ...partial,
  };
}

/** Local time (the app shows and groups by local days). */
export const at = (y: number, m: number, d: number, h = 0, min = 0) => new Date(y, m - 1, d, h, min).getTime();
