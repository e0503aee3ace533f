// Form validation with messages for people, checked before anything is signed. The limits are
// the node's (p2panda-core operation.rs), so a form that passes here is not refused there.
import type { Policy, ResourceKind } from 'p2panda';
import { fromLocalInput } from './time';

export const MAX_NAME_BYTES = 200;
export const MAX_DESCRIPTION_BYTES = 4000;
export const MAX_URL_BYTES = 2000;
export const MAX_EVENT_RESOURCES = 32;

export type Errors<F extends string> = Partial<Record<F, string>>;
export type Result<T, F extends string> = { ok: true; value: T } | { ok: false; errors: Errors<F> };

const bytes = (s: string) => new TextEncoder().encode(s).length;

function checkName(value: string, what: string): string | undefined {
  if (!value.trim()) return `${what} is required.`;
  if (bytes(value.trim()) > MAX_NAME_BYTES) return `${what} is too long (at most ${MAX_NAME_BYTES} bytes).`;
  return undefined;
}

function checkDescription(value: string): string | undefined {
  if (bytes(value) > MAX_DESCRIPTION_BYTES)
    return `Too long (at most ${MAX_DESCRIPTION_BYTES} bytes).`;
  return undefined;
}

function finish<T, F extends string>(errors: Errors<F>, value: () => T): Result<T, F> {
  const clean = Object.fromEntries(Object.entries(errors).filter(([, v]) => v)) as Errors<F>;
  return Object.keys(clean).length ? { ok: false, errors: clean } : { ok: true, value: value() };
}

// ---- display name ----

export function validateDisplayName(name: string): Result<string, 'name'> {
  return finish({ name: checkName(name, 'A name') }, () => name.trim());
}

// ---- festival ----

export interface FestivalInput {
  name: string;
  description: string;
}

export function validateFestival(input: FestivalInput): Result<FestivalInput, keyof FestivalInput> {
  return finish(
    { name: checkName(input.name, 'A name'), description: checkDescription(input.description) },
    () => ({ name: input.name.trim(), description: input.description.trim() }),
  );
}

// ---- resource ----

export type KindType = 'location' | 'item' | 'skill';

export interface ResourceInput {
  name: string;
  description: string;
  kind: KindType;
  address: string;
  lat: string;
  lon: string;
  url: string;
  policy: 'fcfs' | 'manual';
}

export type ResourceField = keyof ResourceInput | 'coordinates';

export interface ResourceValue {
  name: string;
  description: string;
  kind: ResourceKind;
  policy: Policy;
}

function parseCoordinate(text: string, limit: number): number | null | undefined {
  if (!text.trim()) return undefined;
  const n = Number(text.trim().replace(',', '.'));
  if (!Number.isFinite(n) || Math.abs(n) > limit) return null;
  return n;
}

export function validateResource(input: ResourceInput): Result<ResourceValue, ResourceField> {
  const errors: Errors<ResourceField> = {
    name: checkName(input.name, 'A name'),
    description: checkDescription(input.description),
  };
  let geo: { lat: number; lon: number } | undefined;
  if (input.kind === 'location') {
    errors.address = checkDescription(input.address);
    const lat = parseCoordinate(input.lat, 90);
    const lon = parseCoordinate(input.lon, 180);
    if (lat === null) errors.lat = 'Latitude is a number from -90 to 90.';
    if (lon === null) errors.lon = 'Longitude is a number from -180 to 180.';
    if ((lat === undefined) !== (lon === undefined) && lat !== null && lon !== null)
      errors.coordinates = 'Give both latitude and longitude, or neither.';
    if (typeof lat === 'number' && typeof lon === 'number') geo = { lat, lon };
    const url = input.url.trim();
    if (url) {
      let valid = false;
      try {
        valid = ['http:', 'https:'].includes(new URL(url).protocol);
      } catch {
        valid = false;
      }
      if (!valid) errors.url = 'A link starts with https:// (or http://).';
      else if (bytes(url) > MAX_URL_BYTES) errors.url = `The link is too long (at most ${MAX_URL_BYTES} bytes).`;
    }
  }
  return finish(errors, () => {
    let kind: ResourceKind;
    if (input.kind === 'location') {
      kind = { type: 'location' };
      if (input.address.trim()) kind.address = input.address.trim();
      if (geo) kind.geo = geo;
      if (input.url.trim()) kind.url = input.url.trim();
    } else {
      kind = { type: input.kind };
    }
    return {
      name: input.name.trim(),
      description: input.description.trim(),
      kind,
      policy: input.policy,
    };
  });
}

// ---- event ----

export interface EventInput {
  title: string;
  description: string;
  /** `datetime-local` values. */
  start: string;
  end: string;
  resources: string[];
}

export interface EventValue {
  title: string;
  description: string;
  start: number;
  end: number;
  resources: string[];
}

export function validateEvent(input: EventInput): Result<EventValue, keyof EventInput> {
  const errors: Errors<keyof EventInput> = {
    title: checkName(input.title, 'A title'),
    description: checkDescription(input.description),
  };
  const start = fromLocalInput(input.start);
  const end = fromLocalInput(input.end);
  if (!input.start.trim()) errors.start = 'When does it start?';
  else if (start === null) errors.start = 'Not a valid date and time.';
  if (!input.end.trim()) errors.end = 'When does it end?';
  else if (end === null) errors.end = 'Not a valid date and time.';
  if (start !== null && end !== null && end <= start) errors.end = 'The end must be after the start.';
  if (new Set(input.resources).size !== input.resources.length)
    errors.resources = 'A resource is picked twice.';
  else if (input.resources.length > MAX_EVENT_RESOURCES)
    errors.resources = `At most ${MAX_EVENT_RESOURCES} resources per event.`;
  return finish(errors, () => ({
    title: input.title.trim(),
    description: input.description.trim(),
    start: start as number,
    end: end as number,
    resources: input.resources,
  }));
}

// ---- secret key ----

export function validateSecretKey(text: string): Result<string, 'key'> {
  const key = text.trim().toLowerCase();
  if (!key) return { ok: false, errors: { key: 'Paste the secret key (64 hex characters).' } };
  if (!/^[0-9a-f]*$/.test(key))
    return { ok: false, errors: { key: 'Only the characters 0–9 and a–f belong in a key.' } };
  if (key.length !== 64)
    return { ok: false, errors: { key: `A secret key has 64 characters; this has ${key.length}.` } };
  return { ok: true, value: key };
}

// ---- denial reason ----

export function validateReason(reason: string): Result<string, 'reason'> {
  return finish({ reason: checkDescription(reason) }, () => reason.trim());
}
