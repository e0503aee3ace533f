import { describe, expect, it } from 'vitest';
import { identicon, shortKey } from './avatar';

const A = 'a3'.repeat(32);
const B = '5c19e0'.repeat(10) + 'ff00';

describe('identicon', () => {
  it('is deterministic', () => {
    expect(identicon(A)).toEqual(identicon(A));
  });

  it('mirrors columns left to right', () => {
    const { cells } = identicon(B);
    for (let row = 0; row < 5; row++) {
      expect(cells[row * 5 + 0]).toBe(cells[row * 5 + 4]);
      expect(cells[row * 5 + 1]).toBe(cells[row * 5 + 3]);
    }
  });

  it('tells different keys apart (colour or pattern)', () => {
    const keys = Array.from({ length: 50 }, (_, i) => (i * 7919 + 1).toString(16).padStart(8, '0').repeat(8));
    const looks = new Set(keys.map((k) => JSON.stringify(identicon(k))));
    expect(looks.size).toBe(50);
  });

  it('never draws an empty grid and survives junk input', () => {
    expect(identicon('00'.repeat(32)).cells.some(Boolean)).toBe(true);
    expect(identicon('').cells).toHaveLength(25);
    expect(identicon('not hex!').color).toMatch(/^hsl\(/);
  });

  it('shortKey keeps the first 8 characters', () => {
    expect(shortKey(A)).toBe('a3a3a3a3');
  });
});
