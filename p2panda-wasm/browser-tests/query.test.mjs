// `node.query`: paging through a festival's indexes by time, resource, owner and status gives
// what the unpaged calls give, page by page; bad arguments are INVALID_ARGUMENT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launchBrowser, nodeInNewContext, startStaticServer } from './harness.mjs';

let browser, server;
before(async () => {
  server = await startStaticServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const HOUR = 3_600_000;
const END = 10 ** 13;

/**
 * A festival with 300 events over 10 days: a third request the manual stage (some answered
 * by hand), a third the first-come-first-served tent (granted, or denied when it overlaps),
 * the rest nothing; plus one event across the whole festival.
 */
async function bigFestival(page) {
  return page.evaluate(async ({ HOUR }) => {
    const node = window.node;
    const festival = await node.createFestival({ name: 'Big camp' });
    const stage = await node.createResource(festival, { name: 'Stage', kind: { type: 'item' }, policy: 'manual' });
    const tent = await node.createResource(festival, { name: 'Tent', kind: { type: 'item' }, policy: 'fcfs' });
    const events = [];
    for (let i = 0; i < 300; i++) {
      const resources = [[stage], [tent], []][i % 3];
      const start = (i * 7919 % 300) * 48 * 60_000; // 48 minutes apart, shuffled
      events.push(await node.createEvent(festival, { title: `E${i}`, start, end: start + (1 + i % 4) * HOUR, resources }));
    }
    await node.createEvent(festival, { title: 'Camp open', start: 0, end: 240 * HOUR, resources: [stage] });
    for (let i = 0; i < 300; i += 9) {
      await node.authorize(festival, { event: events[i], resource: stage, decision: i % 2 ? 'grant' : 'deny', reason: 'busy' });
    }
    return { festival, stage, tent };
  }, { HOUR });
}

/** Every page of `q` with `limit`, checking each page's size and cursor. */
async function allPages(page, festival, q, limit) {
  return page.evaluate(async ({ festival, q, limit }) => {
    const items = [];
    let after = null;
    for (let pages = 0; pages < 1000; pages++) {
      const got = await window.node.query(festival, { ...q, limit, after });
      if (got.items.length > limit) throw new Error(`a page of ${got.items.length}`);
      items.push(...got.items);
      if (got.next === null) return items;
      if (got.items.length !== limit) throw new Error('a short page before the last');
      after = got.next;
    }
    throw new Error('no last page');
  }, { festival, q, limit });
}

/** Requests in state `status` (of `resource`, when given), as `query` lists them. */
function requestsOf(events, status, resource) {
  const found = [];
  for (const e of events) {
    for (const r of e.resources) {
      if (r.status !== status || (resource && r.resource !== resource)) continue;
      const { resource: id, status: s, reason } = r;
      found.push({ event: e.id, eventVersion: e.version, resource: id, start: e.start, end: e.end, status: s, ...(reason === undefined ? {} : { reason }) });
    }
  }
  const key = (r) => [r.start, r.event, r.resource];
  return found.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
  });
}

test('paging by time, resource, owner and status gives the unpaged answers', async () => {
  const { context, page, publicKey: me } = await nodeInNewContext(browser, server.url, { name: 'query' });
  const { festival, stage, tent } = await bigFestival(page);
  // The node answers the tent's requests itself (fcfs), in the background.
  await eventually(page, async ({ festival, tent }) => {
    const left = await window.node.query(festival, { by: 'status', status: 'pending', resource: tent });
    return left.items.length === 0;
  }, { festival, tent });

  const events = await page.evaluate((f) => window.node.eventsInRange(f, 0, 10 ** 13), festival);
  assert.equal(events.length, 301);
  const byTime = await allPages(page, festival, { by: 'time' }, 50);
  assert.deepEqual(byTime, events);
  // A window in the middle: what overlaps it, the festival-long event first.
  const [from, to] = [100 * HOUR, 120 * HOUR];
  const middle = await page.evaluate(({ festival, from, to }) => window.node.eventsInRange(festival, from, to), { festival, from, to });
  assert.deepEqual(await allPages(page, festival, { by: 'time', from, to }, 7), middle);
  assert.equal(middle[0].title, 'Camp open');

  const stageEvents = events.filter((e) => e.resources.some((r) => r.resource === stage));
  assert.deepEqual(await allPages(page, festival, { by: 'resource', resource: stage }, 50), stageEvents);

  const counts = {};
  for (const status of ['pending', 'granted', 'denied']) {
    const expected = requestsOf(events, status);
    counts[status] = expected.length;
    assert.deepEqual(await allPages(page, festival, { by: 'status', status }, 50), expected, status);
    const ofStage = requestsOf(events, status, stage);
    assert.deepEqual(await allPages(page, festival, { by: 'status', status, resource: stage }, 13), ofStage);
    // This node owns both resources: its requests by owner are all of them.
    assert.deepEqual(await allPages(page, festival, { by: 'owner', owner: me, status }, 7), expected);
  }
  assert.ok(counts.pending > 50 && counts.granted + counts.denied > 50, JSON.stringify(counts));

  const resources = await page.evaluate((f) => window.node.resources(f), festival);
  const owned = await allPages(page, festival, { by: 'owner' }, 1);
  assert.deepEqual(owned.map((r) => r.id), resources.map((r) => r.id).sort());
  assert.deepEqual(owned.map((r) => r.name).sort(), ['Stage', 'Tent']);
  await context.close();
});

test('a page after a change lists what changed past its cursor, nothing twice', async () => {
  const { context, page } = await nodeInNewContext(browser, server.url, { name: 'query-change' });
  const ids = await page.evaluate(async () => {
    const node = window.node;
    const festival = await node.createFestival({ name: 'Small camp' });
    for (let i = 0; i < 10; i++) await node.createEvent(festival, { title: `E${i}`, start: i * 1000, end: i * 1000 + 500 });
    const first = await node.query(festival, { by: 'time', limit: 4 });
    // One event before the cursor (not shown: that page was read), one after it.
    await node.createEvent(festival, { title: 'early', start: 100, end: 200 });
    await node.createEvent(festival, { title: 'late', start: 20_000, end: 20_500 });
    const rest = await node.query(festival, { by: 'time', limit: 100, after: first.next });
    return [...first.items, ...rest.items].map((e) => e.title);
  });
  assert.deepEqual(ids, ['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'E9', 'late']);
  await context.close();
});

test('bad arguments are INVALID_ARGUMENT', async () => {
  const { context, page } = await nodeInNewContext(browser, server.url, { name: 'query-bad' });
  const codes = await page.evaluate(async () => {
    const node = window.node;
    const festival = await node.createFestival({ name: 'Camp' });
    const bad = [
      { by: 'name' },
      {},
      null,
      'time',
      { by: 'resource' },
      { by: 'resource', resource: 'abc' },
      { by: 'status' },
      { by: 'status', status: 'maybe' },
      { by: 'owner', owner: 'not a key' },
      { by: 'time', limit: 0 },
      { by: 'time', limit: 1001 },
      { by: 'time', limit: 2.5 },
      { by: 'time', from: 'yesterday' },
      { by: 'time', from: 10, to: 5 },
      { by: 'time', after: 'zz' },
      { by: 'time', after: '00' },
    ];
    const codes = [];
    for (const q of bad) codes.push(await node.query(festival, q).then(() => 'ok', (e) => e.code));
    // A good query still works, and a festival that is not there is NOT_FOUND.
    codes.push((await node.query(festival, { by: 'time' })).next);
    codes.push(await node.query('ab'.repeat(64), { by: 'time' }).then(() => 'ok', (e) => e.code));
    return codes;
  });
  assert.deepEqual(codes, [...Array(16).fill('INVALID_ARGUMENT'), null, 'NOT_FOUND']);
  await context.close();
});
