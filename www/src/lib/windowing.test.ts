import { describe, expect, it } from 'vitest';
import { rowAt, rowOffsets, visibleRange } from './windowing';

describe('windowing', () => {
  const offsets = rowOffsets(10_000, (i) => (i % 10 === 0 ? 40 : 60)); // headers every 10 rows

  it('sums heights', () => {
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBe(40);
    expect(offsets[11]).toBe(40 + 9 * 60 + 40);
    expect(offsets[10_000]).toBe(1000 * 40 + 9000 * 60);
  });

  it('finds the row at a position', () => {
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 39)).toBe(0);
    expect(rowAt(offsets, 40)).toBe(1);
    expect(rowAt(offsets, 1e12)).toBe(9999);
  });

  it('renders only the viewport plus overscan', () => {
    const { start, end } = visibleRange(offsets, 300_000, 600, 5);
    expect(end - start).toBeLessThan(30);
    expect(offsets[start + 5]).toBeLessThanOrEqual(300_000);
    expect(offsets[end - 5]).toBeGreaterThanOrEqual(300_600);
  });

  it('copes with empty lists', () => {
    expect(visibleRange(rowOffsets(0, () => 10), 0, 500)).toEqual({ start: 0, end: 0 });
  });
});
