// 32-byte values people copy around (public keys, festival keys): 64 hex characters. Pasted
// text may carry spaces or upper case; the node wants trimmed lowercase.

const KEY = /^[0-9a-f]{64}$/;

/** `text` as a 64-character lowercase hex key, or null if it is not one. */
export function parseHexKey(text: string): string | null {
  const value = text.trim().toLowerCase();
  return KEY.test(value) ? value : null;
}
