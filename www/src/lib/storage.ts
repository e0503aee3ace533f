// What the app keeps in localStorage: the display name and which node store is active. The
// identity itself lives in the node's IndexedDB store, not here.

const NAME_KEY = 'p2panda.displayName';
const STORE_KEY = 'p2panda.store';
const STORES_KEY = 'p2panda.stores';
export const DEFAULT_STORE = 'default';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: the app still runs, it just forgets
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* see read() */
  }
}

/** Display names are per store (per identity). */
export function loadDisplayName(store: string): string {
  return read(`${NAME_KEY}.${store}`) ?? '';
}

export function saveDisplayName(store: string, name: string): void {
  write(`${NAME_KEY}.${store}`, name);
}

export function activeStore(): string {
  return read(STORE_KEY) || DEFAULT_STORE;
}

export interface KnownStore {
  name: string;
  publicKey: string;
}

/** Stores this browser has opened, so a user can switch back after importing a key. */
export function knownStores(): KnownStore[] {
  try {
    const parsed: unknown = JSON.parse(read(STORES_KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (s): s is KnownStore => typeof s?.name === 'string' && typeof s?.publicKey === 'string',
    );
  } catch {
    return [];
  }
}

export function rememberStore(store: KnownStore): void {
  const others = knownStores().filter((s) => s.name !== store.name);
  write(STORES_KEY, JSON.stringify([...others, store]));
}

export function setActiveStore(name: string): void {
  write(STORE_KEY, name);
}
