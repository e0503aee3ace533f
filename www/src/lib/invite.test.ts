import { describe, expect, it } from 'vitest';
import { inviteErrorText, inviteLink, parseInvite, type InviteError } from './invite';

const ID = 'ab'.repeat(64);
const KEY = 'c0'.repeat(32);

const ok = (festival: string, key: string | null = null) => ({ ok: true, invite: { festival, key } });
const err = (error: InviteError) => ({ ok: false, error });

describe('invite links of public festivals', () => {
  it('formats on the current page address, keeping its query', () => {
    const link = inviteLink('http://127.0.0.1:8080/app/?rendezvous=ws%3A%2F%2Fx#/festival/1/schedule', ID);
    expect(link).toBe(`http://127.0.0.1:8080/app/?rendezvous=ws%3A%2F%2Fx#/join/${ID}`);
    expect(inviteLink('https://example.org/', ID, null)).toBe(`https://example.org/#/join/${ID}`);
  });

  it('round-trips', () => {
    expect(parseInvite(inviteLink('https://example.org/', ID))).toEqual(ok(ID));
  });

  it('accepts a bare fragment, a bare id and upper case', () => {
    expect(parseInvite(`#/join/${ID}`)).toEqual(ok(ID));
    expect(parseInvite(`  ${ID.toUpperCase()} `)).toEqual(ok(ID));
  });

  it('parses old links and ignores what later versions add after the id', () => {
    expect(parseInvite(`https://x/?rendezvous=ws%3A%2F%2Fy#/join/${ID}`)).toEqual(ok(ID));
    expect(parseInvite(`https://x/#/join/${ID}/`)).toEqual(ok(ID));
    expect(parseInvite(`https://x/#/join/${ID}/key=abc`)).toEqual(ok(ID));
    expect(parseInvite(`https://x/#/join/${ID}?k=1&v=2`)).toEqual(ok(ID));
  });
});

describe('invite links of private festivals', () => {
  it('carry the key in the fragment, never in the query the server sees', () => {
    const link = inviteLink('http://127.0.0.1:8080/?rendezvous=ws%3A%2F%2Fx', ID, KEY);
    expect(link).toBe(`http://127.0.0.1:8080/?rendezvous=ws%3A%2F%2Fx#/join/${ID}?key=${KEY}`);
    const url = new URL(link);
    expect(url.search).not.toContain(KEY);
    expect(url.hash).toBe(`#/join/${ID}?key=${KEY}`);
  });

  it('round-trip with the key', () => {
    expect(parseInvite(inviteLink('https://example.org/app/', ID, KEY))).toEqual(ok(ID, KEY));
  });

  it('normalise the key and accept other parameters beside it', () => {
    expect(parseInvite(`#/join/${ID}?key=${KEY.toUpperCase()}`)).toEqual(ok(ID, KEY));
    expect(parseInvite(`https://x/#/join/${ID}?v=2&key=${KEY}`)).toEqual(ok(ID, KEY));
    expect(parseInvite(`${ID}?key=${KEY}`)).toEqual(ok(ID, KEY));
  });

  it('refuse a damaged key instead of joining without it', () => {
    expect(parseInvite(`#/join/${ID}?key=`)).toEqual(err('bad-key'));
    expect(parseInvite(`#/join/${ID}?key=${KEY.slice(0, 63)}`)).toEqual(err('bad-key'));
    expect(parseInvite(`#/join/${ID}?key=${KEY}0`)).toEqual(err('bad-key'));
    expect(parseInvite(`#/join/${ID}?key=${'z'.repeat(64)}`)).toEqual(err('bad-key'));
  });
});

describe('what is not an invite', () => {
  it('says why', () => {
    expect(parseInvite('')).toEqual(err('empty'));
    expect(parseInvite('   ')).toEqual(err('empty'));
    expect(parseInvite('hello')).toEqual(err('not-invite'));
    expect(parseInvite('https://x/#/festival/' + ID)).toEqual(err('not-invite'));
    expect(parseInvite('https://x/path/' + ID)).toEqual(err('not-invite'));
    expect(parseInvite('https://x/#/join/abc')).toEqual(err('bad-festival')); // too short for an id
    expect(parseInvite(`https://x/#/join/${ID}zz`)).toEqual(err('bad-festival')); // mangled id
    expect(parseInvite('https://x/#/join/')).toEqual(err('bad-festival'));
  });

  it('has a message for every reason', () => {
    for (const reason of ['empty', 'not-invite', 'bad-festival', 'bad-key'] as const)
      expect(inviteErrorText(reason)).toMatch(/\w+\./);
  });
});
