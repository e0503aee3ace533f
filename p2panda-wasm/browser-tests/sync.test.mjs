// Browser nodes sync festivals over real WebRTC (Chromium, loopback only): through the
// rendezvous, through signaling relayed by a connected peer, and with a native node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  eventually, launchBrowser, nodeInNewContext, openPage, startNativeNode, startRendezvous,
  startStaticServer,
} from './harness.mjs';

let browser, server, rendezvous;
before(async () => {
  server = await startStaticServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
  await rendezvous?.stop();
});

/** A node in its own browser context (its own IndexedDB, no shared BroadcastChannel). */
const node = (options) => nodeInNewContext(browser, server.url, options);

const resourceNames = (page, festival) =>
  page.evaluate(async (f) => (await window.node.resources(f)).map((r) => r.name).sort(), festival);

async function waitForResource(page, festival, name) {
  await eventually(
    page,
    async ({ f, name }) => (await window.node.resources(f).catch(() => [])).some((r) => r.name === name),
    { f: festival, name },
  );
}

test('two pages meet through the rendezvous and sync a festival both ways, live', async () => {
  rendezvous = await startRendezvous();
  const a = await node({ name: 'a', rendezvous: [rendezvous.url] });
  const festival = await a.page.evaluate(async () => {
    const f = await window.node.createFestival({ name: 'Harvest fair' });
    await window.node.createResource(f, { name: 'Barn', kind: { type: 'location' } });
    return f;
  });
  const b = await node({ name: 'b', rendezvous: [rendezvous.url] });
  await b.page.evaluate((f) => window.node.joinFestival(f), festival);

  await waitForResource(b.page, festival, 'Barn');
  const info = await b.page.evaluate((f) => window.node.festival(f), festival);
  assert.equal(info.name, 'Harvest fair');

  // Live, both ways, over the open connection.
  await b.page.evaluate((f) => window.node.createResource(f, { name: 'Tractor', kind: { type: 'item' } }), festival);
  await waitForResource(a.page, festival, 'Tractor');
  await a.page.evaluate((f) => window.node.createResource(f, { name: 'Hay', kind: { type: 'item' } }), festival);
  await waitForResource(b.page, festival, 'Hay');
  assert.deepEqual(await resourceNames(a.page, festival), await resourceNames(b.page, festival));

  const peers = await a.page.evaluate(() => window.node.peers());
  assert.equal(peers.length, 1);
  assert.equal(peers[0].publicKey, b.publicKey);
  assert.equal(peers[0].via, 'rendezvous');

  // A third page joins through signaling relayed by b, with the rendezvous gone: it pairs
  // with b by invite code, then reaches a through b.
  await rendezvous.stop();
  const c = await node({ name: 'c', rendezvous: [rendezvous.url] });
  await c.page.evaluate((f) => window.node.joinFestival(f), festival);
  const offer = await c.page.evaluate(() => window.node.createInvite());
  const answer = await b.page.evaluate((code) => window.node.acceptInvite(code), offer);
  await c.page.evaluate((code) => window.node.completeInvite(code), answer);
  await eventually(
    c.page,
    async (key) => (await window.node.peers()).some((p) => p.publicKey === key && p.via === 'relay'),
    a.publicKey,
  );
  await waitForResource(c.page, festival, 'Hay');
  await a.page.evaluate((f) => window.node.createResource(f, { name: 'Lantern', kind: { type: 'item' } }), festival);
  await waitForResource(c.page, festival, 'Lantern');
  const viaC = await c.page.evaluate(async () => (await window.node.peers()).map((p) => p.via).sort());
  assert.deepEqual(viaC, ['invite', 'relay']);
  for (const n of [a, b, c]) await n.context.close();
});

test('a dial whose offer is lost on the way is tried again, and the peers meet', async () => {
  rendezvous = await startRendezvous();
  const a = await node({ name: 'redial-a', rendezvous: [rendezvous.url] });
  const festival = await a.page.evaluate(() => window.node.createFestival({ name: 'Lost letters' }));
  // Fault injection on the real rendezvous link: b's first signal (its offer to a) is dropped.
  const context = await browser.newContext();
  let dropped = 0;
  await context.routeWebSocket(/^ws:\/\/127\.0\.0\.1/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((message) => {
      // A signaling message is a CBOR array whose first item is its kind; 2 is a signal.
      const signal = typeof message !== 'string' && (message[0] & 0xe0) === 0x80 && message[1] === 2;
      if (signal && dropped === 0) dropped += 1;
      else upstream.send(message);
    });
  });
  const page = await openPage(context, server.url);
  await page.evaluate((o) => window.open(o), { name: 'redial-b', broadcastChannel: false, rendezvous: [rendezvous.url] });
  await page.evaluate((f) => window.node.joinFestival(f), festival);
  // The lost dial times out (20 s); 3 s later b asks the rendezvous again and dials anew.
  await eventually(page, async (f) => (await window.node.festival(f))?.name === 'Lost letters', festival, 60_000);
  assert.equal(dropped, 1);
  for (const c of [a.context, context]) await c.close();
  await rendezvous.stop();
});

test('a node that goes offline keeps working and converges when back online', async () => {
  rendezvous = await startRendezvous();
  const a = await node({ name: 'online-a', rendezvous: [rendezvous.url] });
  const festival = await a.page.evaluate(() => window.node.createFestival({ name: 'Night market' }));
  const b = await node({ name: 'online-b', rendezvous: [rendezvous.url] });
  await b.page.evaluate((f) => window.node.joinFestival(f), festival);
  await eventually(b.page, async (f) => (await window.node.festival(f))?.name === 'Night market', festival);

  await b.page.evaluate(() => window.node.setOnline(false));
  await eventually(b.page, async () => !window.node.online && (await window.node.peers()).length === 0);
  await eventually(a.page, async () => (await window.node.peers()).length === 0);
  await b.page.evaluate((f) => window.node.createResource(f, { name: 'Lamp', kind: { type: 'item' } }), festival);
  await a.page.evaluate((f) => window.node.createResource(f, { name: 'Table', kind: { type: 'item' } }), festival);
  // Nothing crosses while offline.
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await resourceNames(a.page, festival), ['Table']);
  assert.deepEqual(await resourceNames(b.page, festival), ['Lamp']);

  await b.page.evaluate(() => window.node.setOnline(true));
  await waitForResource(a.page, festival, 'Lamp');
  await waitForResource(b.page, festival, 'Table');
  assert.deepEqual(await resourceNames(b.page, festival), ['Lamp', 'Table']);
  const peers = await b.page.evaluate(() => window.node.peers());
  assert.equal(peers.length, 1);
  assert.ok(peers[0].peer > 1, 'a link made after going online gets a new number');
  for (const n of [a, b]) await n.context.close();
  await rendezvous.stop();
});

test('a browser node and a native node sync one festival in both directions', async () => {
  rendezvous = await startRendezvous();
  const native = await startNativeNode([
    '--rendezvous', rendezvous.url, '--create-festival', 'Native fest', '--entries', '200',
  ]);
  try {
    const b = await node({ name: 'with-native', rendezvous: [rendezvous.url] });
    await b.page.evaluate((f) => window.node.joinFestival(f), native.festival);
    await eventually(b.page, async (n) => (await window.node.entryCount()) >= n, native.entries);

    await b.page.evaluate(
      (f) => window.node.createResource(f, { name: 'From the browser', kind: { type: 'skill' } }),
      native.festival,
    );
    await native.waitFor((line) => line.event === 'stored' && line.count >= native.entries + 1);
    const status = await native.status();
    assert.ok(status.resources.includes('From the browser'), JSON.stringify(status));

    native.send({ cmd: 'publish-resource', name: 'From native' });
    await waitForResource(b.page, native.festival, 'From native');
    await b.context.close();
  } finally {
    await native.stop();
    await rendezvous.stop();
  }
});

for (const misbehave of ['garbage', 'oversized', 'forged']) {
  test(`a peer sending ${misbehave} frames is dropped and the store is unchanged`, async () => {
    rendezvous = await startRendezvous();
    const native = await startNativeNode([
      '--rendezvous', rendezvous.url, '--create-festival', 'Bad fest', '--entries', '20',
      '--misbehave', misbehave,
    ]);
    try {
      const b = await node({ name: `bad-${misbehave}`, rendezvous: [rendezvous.url] });
      const own = await b.page.evaluate(async (f) => {
        await window.node.joinFestival(f);
        const mine = await window.node.createFestival({ name: 'Mine' });
        await window.node.createResource(mine, { name: 'Kept', kind: { type: 'item' } });
        return mine;
      }, native.festival);
      const before = await b.page.evaluate(() => window.node.entryCount());
      await native.waitFor((line) => line.event === 'dropped', 30_000);
      const after = await b.page.evaluate(async (own) => ({
        entries: await window.node.entryCount(),
        kept: (await window.node.resources(own)).map((r) => r.name),
      }), own);
      assert.equal(after.entries, before);
      assert.deepEqual(after.kept, ['Kept']);
      await b.context.close();
    } finally {
      await native.stop();
      await rendezvous.stop();
    }
  });
}
