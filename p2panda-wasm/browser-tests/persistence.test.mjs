// A node's identity and festivals survive a reload; a second tab can't open the same store
// while the first has it; quota errors surface typed and lose nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  eventually, launchBrowser, launchPersistentContext, openPage, startNativeNode, startRendezvous,
  startStaticServer,
} from './harness.mjs';

let browser, server;
before(async () => {
  server = await startStaticServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function writeFestival(page) {
  return page.evaluate(async () => {
    const node = window.node;
    const festival = await node.createFestival({ name: 'Summer camp', description: 'by the lake' });
    const stage = await node.createResource(festival, {
      name: 'Stage', kind: { type: 'location', address: 'Lakeside 1' }, policy: 'fcfs',
    });
    const gig = await node.createEvent(festival, { title: 'Gig', start: 1000, end: 2000, resources: [stage] });
    // The fcfs owner (this node) answers its own request in the background.
    for (let i = 0; i < 100; i++) {
      const event = await node.event(festival, gig);
      if (event.confirmed === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { festival, stage, gig };
  });
}

async function snapshot(page, festival) {
  return page.evaluate(async (festival) => {
    const node = window.node;
    return {
      publicKey: node.publicKey,
      festivals: await node.festivals(),
      resources: await node.resources(festival),
      events: await node.eventsInRange(festival, 0, 10_000),
      entries: await node.entryCount(),
    };
  }, festival);
}

test('identity, festivals and state survive a reload', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, server.url);
  const publicKey = await page.evaluate(() => window.open({ name: 'reload' }));
  const ids = await writeFestival(page);
  const before = await snapshot(page, ids.festival);
  assert.equal(before.events[0].confirmed, 1, 'fcfs granted the stage');
  assert.equal(before.entries, 4);

  await page.reload();
  await page.waitForFunction(() => document.title === 'ready');
  assert.equal(await page.evaluate(() => window.open({ name: 'reload' })), publicKey);
  const after = await snapshot(page, ids.festival);
  assert.deepEqual(after, before);

  // Writing goes on from where it was: no second entry at an old place of the log.
  await page.evaluate(async (f) => window.node.createResource(f, { name: 'Tent', kind: { type: 'item' } }), ids.festival);
  assert.equal(await page.evaluate(() => window.node.entryCount()), 5);
  await context.close();
});

test('a second tab gets STORE_IN_USE, and the store once the first tab closes', async () => {
  const context = await browser.newContext();
  const first = await openPage(context, server.url);
  const key = await first.evaluate(() => window.open({ name: 'tabs' }));
  const ids = await writeFestival(first);

  const second = await openPage(context, server.url);
  const refused = await second.evaluate(() =>
    window.open({ name: 'tabs' }).then(() => 'opened', (e) => e.code),
  );
  assert.equal(refused, 'STORE_IN_USE');

  // Other names are independent stores.
  const other = await second.evaluate(() => window.open({ name: 'tabs-other' }));
  assert.notEqual(other, key);
  await second.evaluate(() => window.node.close());

  await first.close();
  assert.equal(await second.evaluate(() => window.open({ name: 'tabs' })), key);
  const events = await second.evaluate((f) => window.node.eventsInRange(f, 0, 10_000), ids.festival);
  assert.equal(events.length, 1);
  await context.close();
});

test('a full disk is a typed STORE_QUOTA error and loses nothing stored', async () => {
  const context = await launchPersistentContext();
  const page = await openPage(context, server.url);
  // A real quota, through the DevTools protocol: room for the festival, not for much more.
  // (Chromium applies it to databases opened after it is set.)
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 200_000 });
  await page.evaluate(() => window.open({ name: 'quota' }));
  const ids = await writeFestival(page);

  const { code, written } = await page.evaluate(async (festival) => {
    for (let written = 0; written < 500; written++) {
      try {
        await window.node.createResource(festival, {
          name: `Crate ${written}`, description: 'x'.repeat(3900), kind: { type: 'item' },
        });
      } catch (error) {
        return { code: error.code, written };
      }
    }
    return { code: 'no error', written: 500 };
  }, ids.festival);
  assert.equal(code, 'STORE_QUOTA');
  // The refused write changed nothing: what the node shows is what is on disk.
  const refused = await snapshot(page, ids.festival);
  assert.equal(refused.entries, 4 + written);

  await page.evaluate(() => window.node.close());
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });
  await page.reload();
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => window.open({ name: 'quota' }));
  assert.deepEqual(await snapshot(page, ids.festival), refused);
  // With room again, writing goes on at the next place of the log.
  await page.evaluate((f) => window.node.createResource(f, { name: 'Crate', kind: { type: 'item' } }), ids.festival);
  assert.equal(await page.evaluate(() => window.node.entryCount()), refused.entries + 1);
  await context.close();
});

test('received entries that do not fit are kept in order: the store reopens whole and catches up', async () => {
  const rendezvous = await startRendezvous();
  const native = await startNativeNode([
    '--rendezvous', rendezvous.url, '--create-festival', 'Big fest', '--entries', '400',
  ]);
  const context = await launchPersistentContext();
  try {
    const page = await openPage(context, server.url);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 100_000 });
    const options = { name: 'full', rendezvous: [rendezvous.url], broadcastChannel: false };
    await page.evaluate((o) => window.open(o), options);
    await page.evaluate((f) => window.node.joinFestival(f), native.festival);
    // Everything arrives and is applied; not everything fits on disk.
    await eventually(page, async (n) => (await window.node.entryCount()) >= n, native.entries);
    await eventually(page, () => window.errors.some((e) => e.code === 'STORE_QUOTA'));
    const stored = await page.evaluate(async () => (await window.node.progress()).entriesStored);
    assert.ok(stored < native.entries, `${stored} of ${native.entries} stored under the quota`);

    await page.evaluate(() => window.node.close());
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });
    await page.reload();
    await page.waitForFunction(() => document.title === 'ready');
    // No log on disk has a gap (that would be STORE_CORRUPT): the store opens with exactly
    // what was committed, and fetches the rest from the peer again.
    await page.evaluate((o) => window.open(o), options);
    assert.equal(await page.evaluate(() => window.node.entryCount()), stored);
    await eventually(page, async (n) => (await window.node.entryCount()) >= n, native.entries);
    await eventually(
      page,
      async (n) => (await window.node.progress()).entriesStored >= n,
      native.entries - stored,
    );
  } finally {
    await context.close();
    await native.stop();
    await rendezvous.stop();
  }
});
