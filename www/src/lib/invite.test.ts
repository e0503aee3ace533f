import { describe, expect, it } from 'vitest';
import { inviteLink, parseInvite } from './invite';

const ID = 'ab'.repeat(64);

describe('invite links', () => {
  it('formats on the current page address, keeping its query', () => {
    const link = inviteLink('http://127.0.0.1:8080/app/?rendezvous=ws%3A%2F%2Fx#/festival/1/schedule', ID);
    expect(link).toBe(`http://127.0.0.1:8080/app/?rendezvous=ws%3A%2F%2Fx#/join/${ID}`);
  });

  it('round-trips', () => {
    expect(parseInvite(inviteLink('https://example.org/', ID))).toEqual({ festival: ID, extra: '' });
  });

  it('accepts a bare fragment, a bare id and upper case', () => {
    expect(parseInvite(`#/join/${ID}`)?.festival).toBe(ID);
    expect(parseInvite(`  ${ID.toUpperCase()} `)?.festival).toBe(ID);
  });

  it('ignores what later versions add after the id', () => {
    expect(parseInvite(`https://x/#/join/${ID}/key=abc`)).toEqual({ festival: ID, extra: '/key=abc' });
    expect(parseInvite(`https://x/#/join/${ID}?k=1`)?.festival).toBe(ID);
  });

  it('rejects what is not an invite', () => {
    expect(parseInvite('')).toBeNull();
    expect(parseInvite('hello')).toBeNull();
    expect(parseInvite('https://x/#/festival/' + ID)).toBeNull();
    expect(parseInvite('https://x/#/join/abc')).toBeNull(); // too short for an id
    expect(parseInvite('https://x/path/' + ID)).toBeNull();
  });
});
