import { describe, expect, it } from 'vitest';
import type { Festival } from 'p2panda';
import { hex } from '../test/fixtures';
import { festivalKind, managesMembers, rootOf, validateMemberKey } from './privacy';

const ME = hex(1, 64);
const OTHER = hex(2, 64);

function festival(n: number, partial: Partial<Festival> = {}): Festival {
  return {
    id: hex(n),
    name: `F${n}`,
    description: '',
    creator: ME,
    parent: null,
    forkOf: null,
    subFestivals: [],
    joined: true,
    pending: false,
    private: false,
    ...partial,
  };
}

describe('festivalKind', () => {
  it('tells private, public, and pending without a key apart', () => {
    expect(festivalKind({ pending: false, private: true })).toBe('private');
    expect(festivalKind({ pending: false, private: false })).toBe('public');
    expect(festivalKind({ pending: true, private: false })).toBe('unknown');
    // Joined with the key, not arrived yet: it is known to be private.
    expect(festivalKind({ pending: true, private: true })).toBe('private');
  });
});

describe('rootOf', () => {
  const root = festival(1, { private: true, subFestivals: [hex(2)] });
  const sub = festival(2, { parent: hex(1), creator: OTHER, subFestivals: [hex(3)] });
  const subSub = festival(3, { parent: hex(2) });

  it('walks up to the root', () => {
    const list = [subSub, sub, root];
    expect(rootOf(list, hex(1))).toBe(root);
    expect(rootOf(list, hex(3))).toBe(root);
  });

  it('is undefined for an unknown festival or a missing link', () => {
    expect(rootOf([root], hex(9))).toBeUndefined();
    expect(rootOf([subSub, root], hex(3))).toBeUndefined();
  });

  it('stops on a parent cycle', () => {
    const a = festival(4, { parent: hex(5) });
    const b = festival(5, { parent: hex(4) });
    expect(rootOf([a, b], hex(4))).toBeUndefined();
  });
});

describe('managesMembers', () => {
  it('only the creator of a private festival', () => {
    expect(managesMembers(festival(1, { private: true }), ME)).toBe(true);
    expect(managesMembers(festival(1, { private: true }), OTHER)).toBe(false);
    expect(managesMembers(festival(1), ME)).toBe(false);
    expect(managesMembers(undefined, ME)).toBe(false);
  });
});

describe('validateMemberKey', () => {
  it('accepts a pasted key, normalised', () => {
    expect(validateMemberKey(` ${OTHER.toUpperCase()} `, ME)).toEqual({ ok: true, value: OTHER });
  });

  it('says what is wrong', () => {
    expect(validateMemberKey('', ME)).toMatchObject({ ok: false, errors: { key: expect.stringMatching(/Paste/) } });
    expect(validateMemberKey('abc', ME)).toMatchObject({ ok: false, errors: { key: expect.stringMatching(/64 characters/) } });
    expect(validateMemberKey(ME, ME)).toMatchObject({ ok: false, errors: { key: expect.stringMatching(/your own key/) } });
  });
});
