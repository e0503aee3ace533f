import { describe, expect, it } from 'vitest';
import { href, parseRoute, type Route } from './route';

const F = 'ab'.repeat(64);
const R = 'cd'.repeat(64);
const KEY = 'ef'.repeat(32);

describe('routes', () => {
  const routes: Route[] = [
    { page: 'home' },
    { page: 'settings' },
    { page: 'bench' },
    { page: 'join', festival: F, key: null },
    { page: 'join', festival: F, key: KEY },
    { page: 'bad-invite', path: `join/${F}?key=123`, error: 'bad-key' },
    { page: 'festival-new' },
    { page: 'festival-new', parent: F },
    { page: 'festival-fork', festival: F },
    { page: 'festival', festival: F, tab: 'inbox' },
    { page: 'resource', festival: F, resource: R },
    { page: 'resource-new', festival: F },
    { page: 'resource-edit', festival: F, resource: R },
    { page: 'event', festival: F, event: R },
    { page: 'event-new', festival: F },
    { page: 'event-edit', festival: F, event: R },
  ];

  it.each(routes.map((r, i) => [`${r.page} ${i}`, r] as const))('%s round-trips', (_, route) => {
    expect(parseRoute(href(route))).toEqual(route);
  });

  it('defaults a festival to its schedule', () => {
    expect(parseRoute(`#/festival/${F}`)).toEqual({ page: 'festival', festival: F, tab: 'schedule' });
    expect(parseRoute('')).toEqual({ page: 'home' });
  });

  it('sends unknown paths to not-found', () => {
    expect(parseRoute('#/festival/xyz').page).toBe('not-found');
    expect(parseRoute(`#/festival/${F}/nope`).page).toBe('not-found');
  });

  it('opens invites with and without a key; a damaged one says why', () => {
    expect(parseRoute(`#/join/${F}`)).toEqual({ page: 'join', festival: F, key: null });
    expect(parseRoute(`#/join/${F}?key=${KEY}`)).toEqual({ page: 'join', festival: F, key: KEY });
    expect(parseRoute(`#/join/${F}?key=${KEY.slice(1)}`)).toMatchObject({ page: 'bad-invite', error: 'bad-key' });
    expect(parseRoute('#/join/zzz')).toMatchObject({ page: 'bad-invite', error: 'bad-festival' });
  });
});
