import { describe, expect, it } from 'vitest';
import { parseHexKey } from './hex';

describe('parseHexKey', () => {
  it('accepts 64 hex characters, trimmed and lower-cased', () => {
    expect(parseHexKey('ab'.repeat(32))).toBe('ab'.repeat(32));
    expect(parseHexKey(` ${'AB'.repeat(32)}\n`)).toBe('ab'.repeat(32));
  });

  it('rejects other lengths and non-hex characters', () => {
    expect(parseHexKey('')).toBeNull();
    expect(parseHexKey('ab'.repeat(31))).toBeNull();
    expect(parseHexKey('ab'.repeat(33))).toBeNull();
    expect(parseHexKey('g' + 'a'.repeat(63))).toBeNull();
    expect(parseHexKey('ab'.repeat(16) + ' ' + 'ab'.repeat(16))).toBeNull();
  });
});
