import { describe, expect, it } from 'vitest';
import { dayEnd, dayKey, dayStart, formatAgo, formatRange, fromLocalInput, toLocalInput } from './time';

describe('time', () => {
  it('round-trips datetime-local values', () => {
    const ms = new Date(2027, 8, 4, 19, 30).getTime();
    expect(toLocalInput(ms)).toBe('2027-09-04T19:30');
    expect(fromLocalInput('2027-09-04T19:30')).toBe(ms);
    expect(fromLocalInput('2027-13-01T10:00')).toBeNull();
    expect(fromLocalInput('nope')).toBeNull();
  });

  it('knows local days', () => {
    const ms = new Date(2027, 8, 4, 23, 59).getTime();
    expect(dayKey(ms)).toBe('2027-09-04');
    expect(dayStart('2027-09-04')).toBe(new Date(2027, 8, 4).getTime());
    expect(dayEnd('2027-09-04')).toBe(new Date(2027, 8, 5).getTime());
    expect(dayStart('2027-02-30')).toBeNull();
  });

  it('formats ranges and ages', () => {
    expect(formatRange(new Date(2027, 8, 4, 19).getTime(), new Date(2027, 8, 4, 23).getTime())).toBe('Sat 4 Sep 2027, 19:00–23:00');
    expect(formatRange(new Date(2027, 8, 4, 22).getTime(), new Date(2027, 8, 5, 2).getTime())).toBe('Sat 4 Sep 2027 22:00 – Sun 5 Sep 2027 02:00');
    expect(formatAgo(null, 0)).toBe('never');
    expect(formatAgo(0, 1000)).toBe('just now');
    expect(formatAgo(0, 42_000)).toBe('42 s ago');
    expect(formatAgo(0, 5 * 60_000)).toBe('5 min ago');
  });
});
