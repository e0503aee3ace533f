import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_MAILBOX, forgetMailbox, loadMailbox, saveMailbox, validateMailbox } from './mailbox';

const good = {
  ...EMPTY_MAILBOX,
  endpoint: ' https://s3.example.org ',
  bucket: 'festivals',
  accessKeyId: 'AKIA123',
  secretAccessKey: 's3cret with spaces ',
};

describe('validateMailbox', () => {
  it('accepts settings a user types, trimmed (but not the secret)', () => {
    const result = validateMailbox({ ...good, region: 'eu-central-1' });
    expect(result).toEqual({
      ok: true,
      value: {
        endpoint: 'https://s3.example.org', bucket: 'festivals', accessKeyId: 'AKIA123',
        secretAccessKey: 's3cret with spaces ', region: 'eu-central-1',
      },
    });
  });

  it('names every missing or malformed field', () => {
    const result = validateMailbox({ ...EMPTY_MAILBOX, bucket: 'No_Such', region: 'Europe West' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(['accessKeyId', 'bucket', 'endpoint', 'region', 'secretAccessKey']);
  });

  it('refuses plain http except on this machine', () => {
    expect(validateMailbox({ ...good, endpoint: 'http://s3.example.org' }).ok).toBe(false);
    expect(validateMailbox({ ...good, endpoint: 'http://127.0.0.1:9000' }).ok).toBe(true);
    expect(validateMailbox({ ...good, endpoint: 'ftp://s3.example.org' }).ok).toBe(false);
  });
});

describe('saved settings', () => {
  afterEach(() => localStorage.clear());

  it('are per identity and festival, and can be forgotten', () => {
    const config = validateMailbox(good);
    if (!config.ok) throw new Error('valid');
    saveMailbox('default', 'f1', config.value);
    expect(loadMailbox('default', 'f1')).toEqual(config.value);
    expect(loadMailbox('other', 'f1')).toBeNull();
    expect(loadMailbox('default', 'f2')).toBeNull();
    forgetMailbox('default', 'f1');
    expect(loadMailbox('default', 'f1')).toBeNull();
  });

  it('that are damaged count as none', () => {
    localStorage.setItem('p2panda.mailbox.default.f1', '{not json');
    expect(loadMailbox('default', 'f1')).toBeNull();
    localStorage.setItem('p2panda.mailbox.default.f1', JSON.stringify({ bucket: 'x' }));
    expect(loadMailbox('default', 'f1')).toBeNull();
  });
});
