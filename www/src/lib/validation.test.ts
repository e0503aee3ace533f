import { describe, expect, it } from 'vitest';
import { validateDisplayName, validateEvent, validateFestival, validateResource, validateSecretKey, type ResourceInput } from './validation';

const resourceInput = (patch: Partial<ResourceInput>): ResourceInput => ({
  name: 'Barn', description: '', kind: 'location', address: '', lat: '', lon: '', url: '', policy: 'fcfs', ...patch,
});

describe('validation', () => {
  it('requires names and trims them', () => {
    expect(validateDisplayName('   ')).toEqual({ ok: false, errors: { name: 'A name is required.' } });
    expect(validateDisplayName(' Ada ')).toEqual({ ok: true, value: 'Ada' });
    expect(validateFestival({ name: '', description: '' }).ok).toBe(false);
  });

  it('counts bytes like the node does', () => {
    expect(validateFestival({ name: 'ü'.repeat(100), description: '' }).ok).toBe(true); // 200 bytes
    expect(validateFestival({ name: 'ü'.repeat(101), description: '' }).ok).toBe(false);
  });

  it('builds a location kind from the optional fields', () => {
    const r = validateResource(resourceInput({ address: ' Mill lane 3 ', lat: '52,5', lon: '13.4', url: 'https://meet.example/x' }));
    expect(r).toEqual({
      ok: true,
      value: { name: 'Barn', description: '', policy: 'fcfs', kind: { type: 'location', address: 'Mill lane 3', geo: { lat: 52.5, lon: 13.4 }, url: 'https://meet.example/x' } },
    });
    const item = validateResource(resourceInput({ kind: 'item', address: 'ignored' }));
    expect(item.ok && item.value.kind).toEqual({ type: 'item' });
  });

  it('explains bad coordinates and links', () => {
    const r = validateResource(resourceInput({ lat: '91', lon: 'x', url: 'ftp://a' }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.lat).toMatch(/-90 to 90/);
      expect(r.errors.lon).toMatch(/-180 to 180/);
      expect(r.errors.url).toMatch(/https/);
    }
    const half = validateResource(resourceInput({ lat: '10' }));
    expect(!half.ok && half.errors.coordinates).toMatch(/both/);
  });

  it('checks event timeframes', () => {
    const base = { title: 'Gig', description: '', resources: [] };
    expect(validateEvent({ ...base, start: '', end: '' })).toMatchObject({ ok: false, errors: { start: 'When does it start?', end: 'When does it end?' } });
    expect(validateEvent({ ...base, start: '2027-09-04T20:00', end: '2027-09-04T19:00' })).toMatchObject({ ok: false, errors: { end: 'The end must be after the start.' } });
    expect(validateEvent({ ...base, start: '2027-02-31T20:00', end: '2027-03-01T19:00' })).toMatchObject({ ok: false, errors: { start: 'Not a valid date and time.' } });
    const ok = validateEvent({ ...base, start: '2027-09-04T19:00', end: '2027-09-04T23:00' });
    expect(ok.ok && ok.value.end - ok.value.start).toBe(4 * 3_600_000);
  });

  it('refuses duplicate and too many resources', () => {
    const base = { title: 'Gig', description: '', start: '2027-09-04T19:00', end: '2027-09-04T23:00' };
    expect(validateEvent({ ...base, resources: ['a', 'a'] }).ok).toBe(false);
    expect(validateEvent({ ...base, resources: Array.from({ length: 33 }, (_, i) => `r${i}`) }).ok).toBe(false);
  });

  it('checks secret keys', () => {
    expect(validateSecretKey('AB'.repeat(32))).toEqual({ ok: true, value: 'ab'.repeat(32) });
    expect(validateSecretKey('ab')).toMatchObject({ ok: false, errors: { key: expect.stringMatching(/64/) } });
    expect(validateSecretKey('zz'.repeat(32))).toMatchObject({ ok: false });
    expect(validateSecretKey('')).toMatchObject({ ok: false });
  });
});
