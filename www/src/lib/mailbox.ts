// A festival's S3 mailbox as the user typed it in: checked before anything is sent, and kept in
// this browser (localStorage, per identity and festival) so syncing resumes after a reload.
// The secret stays on this device: it is never written into the festival or an invite link.
import type { MailboxConfig } from 'p2panda';
import type { Errors, Result } from './validation';

export type MailboxField = 'endpoint' | 'bucket' | 'accessKeyId' | 'secretAccessKey' | 'region' | 'prefix';

export interface MailboxInput {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  prefix: string;
}

export const EMPTY_MAILBOX: MailboxInput = {
  endpoint: '', bucket: '', accessKeyId: '', secretAccessKey: '', region: '', prefix: '',
};

/** Bucket names as S3 allows them (3–63 of a-z, 0-9, dot, hyphen; starting and ending alphanumeric). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function validateMailbox(input: MailboxInput): Result<MailboxConfig, MailboxField> {
  const errors: Errors<MailboxField> = {};
  const endpoint = input.endpoint.trim();
  let url: URL | null = null;
  try {
    url = new URL(endpoint);
  } catch {
    errors.endpoint = endpoint ? 'Not a web address (e.g. https://s3.example.org).' : 'The endpoint is required.';
  }
  if (url && url.protocol !== 'https:' && url.protocol !== 'http:') errors.endpoint = 'Use an http(s) address.';
  else if (url && url.protocol === 'http:' && !isLoopback(url.hostname))
    errors.endpoint = 'Use https: plain http would send your signed requests in the clear.';
  const bucket = input.bucket.trim();
  if (!BUCKET.test(bucket)) errors.bucket = bucket ? 'Bucket names are 3–63 lowercase letters, digits, dots and hyphens.' : 'The bucket is required.';
  if (!input.accessKeyId.trim()) errors.accessKeyId = 'The access key id is required.';
  if (!input.secretAccessKey) errors.secretAccessKey = 'The secret key is required.';
  if (input.region.trim() && !/^[a-z0-9-]+$/.test(input.region.trim())) errors.region = 'Regions look like eu-central-1.';
  if (input.prefix.includes('..')) errors.prefix = 'A prefix cannot contain "..".';
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    value: {
      endpoint,
      bucket,
      accessKeyId: input.accessKeyId.trim(),
      secretAccessKey: input.secretAccessKey,
      ...(input.region.trim() ? { region: input.region.trim() } : {}),
      ...(input.prefix.trim() ? { prefix: input.prefix.trim() } : {}),
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

const key = (store: string, festival: string) => `p2panda.mailbox.${store}.${festival}`;

export function loadMailbox(store: string, festival: string): MailboxConfig | null {
  try {
    const saved = JSON.parse(localStorage.getItem(key(store, festival)) ?? 'null');
    const checked = saved && validateMailbox({ ...EMPTY_MAILBOX, ...saved });
    return checked?.ok ? checked.value : null;
  } catch {
    return null; // storage disabled or damaged: as if none was saved
  }
}

export function saveMailbox(store: string, festival: string, config: MailboxConfig): void {
  try {
    localStorage.setItem(key(store, festival), JSON.stringify(config));
  } catch {
    /* storage disabled: it syncs until the page closes */
  }
}

export function forgetMailbox(store: string, festival: string): void {
  try {
    localStorage.removeItem(key(store, festival));
  } catch {
    /* nothing saved */
  }
}
