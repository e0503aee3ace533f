// Does a resource have room for an event? Computed from the resource's timeline (bookings) as
// the node reports it. Intervals are half-open: one event may end when the next starts.

export interface Interval {
  start: number;
  end: number;
}

export interface BookingLike extends Interval {
  event: string;
  status: 'pending' | 'granted' | 'denied' | 'resourceDeleted';
}

export type AvailabilityState = 'free' | 'requested' | 'booked';

export interface Availability {
  /** booked: a granted booking overlaps (the owner would have to double-book);
   *  requested: only pending requests overlap (first answered wins). */
  state: AvailabilityState;
  /** The overlapping bookings that decide the state, earliest first. */
  overlapping: BookingLike[];
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Availability of one resource for `wanted`, ignoring bookings of `ownEvent` (when editing). */
export function availability(
  bookings: readonly BookingLike[],
  wanted: Interval,
  ownEvent?: string,
): Availability {
  const relevant = bookings
    .filter((b) => b.event !== ownEvent && overlaps(b, wanted))
    .sort((a, b) => a.start - b.start);
  const granted = relevant.filter((b) => b.status === 'granted');
  if (granted.length > 0) return { state: 'booked', overlapping: granted };
  const pending = relevant.filter((b) => b.status === 'pending');
  if (pending.length > 0) return { state: 'requested', overlapping: pending };
  return { state: 'free', overlapping: [] };
}

/** Selected resources that are already booked for the timeframe: these block submitting. */
export function blockingResources(
  selected: readonly string[],
  byResource: ReadonlyMap<string, Availability>,
): string[] {
  return selected.filter((id) => byResource.get(id)?.state === 'booked');
}
