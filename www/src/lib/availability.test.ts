import { describe, expect, it } from 'vitest';
import { availability, blockingResources, overlaps, type BookingLike } from './availability';

const b = (event: string, start: number, end: number, status: BookingLike['status']): BookingLike => ({ event, start, end, status });

describe('overlaps', () => {
  it('treats intervals as half-open', () => {
    expect(overlaps({ start: 0, end: 10 }, { start: 10, end: 20 })).toBe(false);
    expect(overlaps({ start: 0, end: 11 }, { start: 10, end: 20 })).toBe(true);
    expect(overlaps({ start: 12, end: 13 }, { start: 10, end: 20 })).toBe(true);
  });
});

describe('availability', () => {
  const bookings = [b('a', 100, 200, 'granted'), b('b', 150, 300, 'pending'), b('c', 400, 500, 'denied')];

  it('is free when nothing overlaps', () => {
    expect(availability(bookings, { start: 300, end: 400 })).toEqual({ state: 'free', overlapping: [] });
  });

  it('is booked when a granted booking overlaps', () => {
    const a = availability(bookings, { start: 190, end: 210 });
    expect(a.state).toBe('booked');
    expect(a.overlapping.map((x) => x.event)).toEqual(['a']);
  });

  it('is only requested when just pending ones overlap', () => {
    expect(availability(bookings, { start: 250, end: 260 }).state).toBe('requested');
  });

  it('ignores denied bookings and the event being edited', () => {
    expect(availability(bookings, { start: 400, end: 500 }).state).toBe('free');
    expect(availability(bookings, { start: 100, end: 140 }, 'a').state).toBe('free');
  });

  it('blocks only the selected booked resources', () => {
    const map = new Map([
      ['x', { state: 'booked' as const, overlapping: [] }],
      ['y', { state: 'requested' as const, overlapping: [] }],
      ['z', { state: 'booked' as const, overlapping: [] }],
    ]);
    expect(blockingResources(['x', 'y'], map)).toEqual(['x']);
  });
});
