// Private festivals between browser nodes over real WebRTC (Chromium, loopback only): a node
// without the key stores and relays what it cannot read, members who never meet read through
// it, and removing a member rotates the key for what comes after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, nodeInNewContext, startRendezvous, startStaticServer } from './harness.mjs';

let browser, server, rendezvous;
before(async () => {
  server = await startStaticServer();
  browser = await launchBrowser();
  rendezvous = await startRendezvous();
});
after(async () => {
  await browser?.close();
  await server?.close();
  await rendezvous?.stop();
});

/** A node in its own browser context (its own IndexedDB, no shared BroadcastChannel). */
const node = (name) => nodeInNewContext(browser, server.url, { name, rendezvous: [rendezvous.url] });

const names = (page, festival) =>
  page.evaluate(async (f) => (await window.node.resources(f).catch(() => [])).map((r) => r.name).sort(), festival);
const count = (page) => page.evaluate(() => window.node.entryCount());
const peerKeys = (page) => page.evaluate(async () => (await window.node.peers()).map((p) => p.publicKey));
const setOnline = async (n, online) => {
  await n.page.evaluate((on) => window.node.setOnline(on), online);
  await eventually(n.page, async (on) => on || (await window.node.peers()).length === 0, online);
};

test('a relay without the key carries a private festival between members who never meet', async () => {
  const a = await node('private-a');
  const festival = await a.page.evaluate(async () => {
    const f = await window.node.createFestival({ name: 'Secret camp', private: true });
    await window.node.createResource(f, { name: 'Hidden stage', kind: { type: 'location' } });
    return f;
  });
  const key = await a.page.evaluate((f) => window.node.festivalKey(f), festival);
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal((await a.page.evaluate((f) => window.node.festival(f), festival)).private, true);

  // The relay joins by id only: it stores both entries and reads neither.
  const relay = await node('private-relay');
  await relay.page.evaluate((f) => window.node.joinFestival(f), festival);
  await eventually(relay.page, () => window.node.entryCount().then((n) => n === 2));
  const seen = await relay.page.evaluate((f) => window.node.festival(f), festival);
  assert.equal(seen, null, 'the relay cannot read the festival');
  const listed = await relay.page.evaluate(() => window.node.festivals());
  assert.deepEqual(listed.map((f) => [f.id, f.pending, f.private]), [[festival, true, false]]);

  // a leaves; b, holding the key from the invite link, gets everything from the relay.
  await setOnline(a, false);
  const b = await node('private-b');
  await b.page.evaluate(({ f, k }) => window.node.joinFestival(f, k), { f: festival, k: key });
  await eventually(b.page, async (f) => (await window.node.festival(f))?.name === 'Secret camp', festival);
  assert.deepEqual(await names(b.page, festival), ['Hidden stage']);
  assert.ok(!(await peerKeys(b.page)).includes(a.publicKey));

  // b writes, leaves; a comes back and reads it from the relay.
  await b.page.evaluate((f) => window.node.createResource(f, { name: 'Bar tent', kind: { type: 'location' } }), festival);
  await eventually(relay.page, () => window.node.entryCount().then((n) => n === 3));
  await setOnline(b, false);
  await setOnline(a, true);
  await eventually(a.page, async (f) => (await window.node.resources(f)).length === 2, festival);
  assert.deepEqual(await names(a.page, festival), ['Bar tent', 'Hidden stage']);
  assert.ok(!(await peerKeys(a.page)).includes(b.publicKey));
  assert.equal(await relay.page.evaluate((f) => window.node.festival(f), festival), null);

  // The key is kept: b reads the festival after a reload, offline.
  await b.page.reload();
  await b.page.evaluate(() => window.open({ name: 'private-b', broadcastChannel: false }));
  assert.deepEqual(await names(b.page, festival), ['Bar tent', 'Hidden stage']);
  assert.equal((await b.page.evaluate((f) => window.node.festival(f), festival)).private, true);
  for (const n of [a, b, relay]) await n.context.close();
});

test('removing a member rotates the key: the others read on, the removed one does not', async () => {
  const a = await node('rotate-a');
  const festival = await a.page.evaluate(() => window.node.createFestival({ name: 'Crew', private: true }));
  const key = await a.page.evaluate((f) => window.node.festivalKey(f), festival);
  const b = await node('rotate-b');
  const c = await node('rotate-c');
  for (const n of [b, c]) {
    await n.page.evaluate(({ f, k }) => window.node.joinFestival(f, k), { f: festival, k: key });
    const tent = `${n.publicKey.slice(0, 4)} tent`;
    await n.page.evaluate(({ f, name }) => window.node.createResource(f, { name, kind: { type: 'item' } }), { f: festival, name: tent });
  }
  await eventually(a.page, async (f) => (await window.node.resources(f)).length === 2, festival);

  // Only the creator may rotate.
  const refused = await b.page.evaluate(
    (args) => window.node.removeMember(args.f, args.c).catch((e) => e.code),
    { f: festival, c: c.publicKey },
  );
  assert.equal(refused, 'NOT_ALLOWED');

  await a.page.evaluate((args) => window.node.removeMember(args.f, args.c), { f: festival, c: c.publicKey });
  const newKey = await a.page.evaluate((f) => window.node.festivalKey(f), festival);
  assert.notEqual(newKey, key);
  await a.page.evaluate((f) => window.node.createResource(f, { name: 'After', kind: { type: 'item' } }), festival);

  // b gets the new key from the share sealed to it; c stores the entries but cannot read them.
  await eventually(b.page, async (f) => (await window.node.resources(f)).some((r) => r.name === 'After'), festival);
  const total = await count(a.page);
  await eventually(c.page, (n) => window.node.entryCount().then((have) => have === n), total);
  assert.ok(!(await names(c.page, festival)).includes('After'));
  assert.equal((await names(c.page, festival)).length, 2, 'c still reads what came before');
  assert.equal(await b.page.evaluate((f) => window.node.festivalKey(f), festival), newKey);
  assert.equal(await c.page.evaluate((f) => window.node.festivalKey(f), festival), key);
  for (const n of [a, b, c]) await n.context.close();
});
