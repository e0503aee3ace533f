// Hash routes (`#/festival/<id>/schedule`): they survive any static host, no server rewrites.
import { joinFragment, parseInvite, type InviteError } from './invite';

export type FestivalTab = 'schedule' | 'resources' | 'events' | 'inbox' | 'people' | 'problems' | 'about';
export const FESTIVAL_TABS: FestivalTab[] = [
  'schedule',
  'resources',
  'events',
  'inbox',
  'people',
  'problems',
  'about',
];

export type Route =
  | { page: 'home' }
  | { page: 'settings' }
  | { page: 'bench' }
  /** Open an invite: `key` is the private festival's key from the link (null: none in it). */
  | { page: 'join'; festival: string; key: string | null }
  /** A `#/join/…` address that is not a usable invite (e.g. a key cut short in copying). */
  | { page: 'bad-invite'; path: string; error: InviteError }
  | { page: 'festival-new'; parent?: string }
  | { page: 'festival-fork'; festival: string }
  | { page: 'festival'; festival: string; tab: FestivalTab }
  | { page: 'resource'; festival: string; resource: string }
  | { page: 'resource-new'; festival: string }
  | { page: 'resource-edit'; festival: string; resource: string }
  | { page: 'event'; festival: string; event: string }
  | { page: 'event-new'; festival: string }
  | { page: 'event-edit'; festival: string; event: string }
  | { page: 'not-found'; path: string };

const HEX = /^[0-9a-f]+$/;

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (path === '') return { page: 'home' };
  const parts = path.split('/');
  const [head, id, sub, subId] = parts;
  switch (head) {
    case 'settings':
      return { page: 'settings' };
    case 'bench':
      return { page: 'bench' };
    case 'new':
      return { page: 'festival-new' };
    case 'join': {
      const parsed = parseInvite('#' + hash.replace(/^#/, ''));
      return parsed.ok
        ? { page: 'join', festival: parsed.invite.festival, key: parsed.invite.key }
        : { page: 'bad-invite', path, error: parsed.error };
    }
    case 'festival': {
      if (!id || !HEX.test(id)) break;
      if (sub === undefined) return { page: 'festival', festival: id, tab: 'schedule' };
      if ((FESTIVAL_TABS as string[]).includes(sub) && parts.length === 3)
        return { page: 'festival', festival: id, tab: sub as FestivalTab };
      if (sub === 'new-sub' && parts.length === 3) return { page: 'festival-new', parent: id };
      if (sub === 'fork' && parts.length === 3) return { page: 'festival-fork', festival: id };
      if (sub === 'new-resource' && parts.length === 3) return { page: 'resource-new', festival: id };
      if (sub === 'new-event' && parts.length === 3) return { page: 'event-new', festival: id };
      if (sub === 'resource' && subId && HEX.test(subId)) {
        if (parts.length === 4) return { page: 'resource', festival: id, resource: subId };
        if (parts.length === 5 && parts[4] === 'edit')
          return { page: 'resource-edit', festival: id, resource: subId };
      }
      if (sub === 'event' && subId && HEX.test(subId)) {
        if (parts.length === 4) return { page: 'event', festival: id, event: subId };
        if (parts.length === 5 && parts[4] === 'edit')
          return { page: 'event-edit', festival: id, event: subId };
      }
      break;
    }
  }
  return { page: 'not-found', path };
}

/** The `#…` link for a route (inverse of parseRoute). */
export function href(route: Route): string {
  switch (route.page) {
    case 'home':
      return '#/';
    case 'settings':
      return '#/settings';
    case 'bench':
      return '#/bench';
    case 'join':
      return `#${joinFragment(route.festival, route.key)}`;
    case 'festival-new':
      return route.parent ? `#/festival/${route.parent}/new-sub` : '#/new';
    case 'festival-fork':
      return `#/festival/${route.festival}/fork`;
    case 'festival':
      return `#/festival/${route.festival}/${route.tab}`;
    case 'resource':
      return `#/festival/${route.festival}/resource/${route.resource}`;
    case 'resource-new':
      return `#/festival/${route.festival}/new-resource`;
    case 'resource-edit':
      return `#/festival/${route.festival}/resource/${route.resource}/edit`;
    case 'event':
      return `#/festival/${route.festival}/event/${route.event}`;
    case 'event-new':
      return `#/festival/${route.festival}/new-event`;
    case 'event-edit':
      return `#/festival/${route.festival}/event/${route.event}/edit`;
    case 'bad-invite':
    case 'not-found':
      return `#/${route.path}`;
  }
}
