// Availability of resources for a timeframe, from their timelines, kept live while the
// festival changes (someone else's booking can arrive while the form is open).
import type { Resource } from 'p2panda';
import { availability, type Availability, type Interval } from '../lib/availability';
import { useLiveQuery } from './useLiveQuery';

/** Availability of every resource for `wanted` (null until a valid timeframe is entered). */
export function useAvailability(
  festival: string,
  resources: readonly Resource[],
  wanted: Interval | null,
  ownEvent?: string,
): { byResource: Map<string, Availability>; loading: boolean } {
  const ids = resources.map((r) => r.id).join();
  const live = useLiveQuery(
    festival,
    async (node) => {
      const map = new Map<string, Availability>();
      if (!wanted) return map;
      const timelines = await Promise.all(resources.map((r) => node.resourceTimeline(festival, r.id, wanted.start, wanted.end)));
      resources.forEach((r, i) => map.set(r.id, availability(timelines[i], wanted, ownEvent)));
      return map;
    },
    [festival, ids, wanted?.start, wanted?.end, ownEvent],
  );
  return { byResource: live.data ?? new Map(), loading: live.loading };
}
