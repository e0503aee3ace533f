// S3 store-and-forward from the browser: pages that never connect to each other converge
// through a real S3-compatible server (s3s-fs on 127.0.0.1, SigV4 from WebCrypto, CORS), the
// bucket holds nothing readable, and bad buckets give typed errors without losing anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, nodeInNewContext, startS3Server, startStaticServer } from './harness.mjs';

let browser, server;
before(async () => {
  server = await startStaticServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A node with no way to reach any other (no rendezvous, no BroadcastChannel). */
const node = (name) => nodeInNewContext(browser, server.url, { name });

/** The bucket settings a user would type in, for the mailbox under `prefix`. */
const settings = (s3, prefix, changes = {}) => ({
  endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey, prefix, ...changes,
});

/** Run `what` ('push' or 'pull') on a fresh mailbox in the page: its report, or `{error: {code, message}}`. */
const mailbox = (n, festival, config, what, options) =>
  n.page.evaluate(async ({ festival, config, what, options }) => {
    window.mailboxes ??= new Map();
    const key = JSON.stringify([festival, config]);
    if (!window.mailboxes.has(key)) window.mailboxes.set(key, await window.node.mailbox(festival, config));
    try {
      return await window.mailboxes.get(key)[what](options);
    } catch (error) {
      return { error: { code: error.code, message: error.message } };
    }
  }, { festival, config, what, options });

const names = (n, festival) =>
  n.page.evaluate(async (f) => (await window.node.resources(f).catch(() => [])).map((r) => r.name).sort(), festival);
const count = (n) => n.page.evaluate(() => window.node.entryCount());

function files(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else out.push(path);
  }
  return out;
}

async function festivalWithResources(n, name, resources, options = {}) {
  return n.page.evaluate(async ({ name, resources, options }) => {
    const f = await window.node.createFestival({ name, ...options });
    for (const r of resources) await window.node.createResource(f, { name: r, kind: { type: 'item' } });
    return f;
  }, { name, resources, options });
}

test('two pages that never connect converge through an S3 bucket, both ways', async () => {
  const s3 = await startS3Server();
  try {
    const a = await node('s3-a');
    const festival = await festivalWithResources(a, 'Harbour festival', ['Crane', 'Dinghy', 'Net loft']);
    const pushed = await mailbox(a, festival, settings(s3, 'fest'), 'push');
    assert.equal(pushed.entries, 4, JSON.stringify(pushed));
    assert.ok(pushed.bundles >= 1 && pushed.index, JSON.stringify(pushed));

    // b knows only the festival's id (an invite link), and no peer.
    const b = await node('s3-b');
    await b.page.evaluate((f) => window.node.joinFestival(f), festival);
    const pulled = await mailbox(b, festival, settings(s3, 'fest'), 'pull');
    assert.equal(pulled.entries, 4, JSON.stringify(pulled));
    assert.deepEqual(pulled.rejectedObjects, []);
    assert.deepEqual(await names(b, festival), ['Crane', 'Dinghy', 'Net loft']);
    assert.equal((await b.page.evaluate((f) => window.node.festival(f), festival)).name, 'Harbour festival');

    // Back the other way, incrementally: a downloads only b's new entry.
    await b.page.evaluate((f) => window.node.createResource(f, { name: 'Lighthouse', kind: { type: 'location' } }), festival);
    const pushedB = await mailbox(b, festival, settings(s3, 'fest'), 'push');
    assert.equal(pushedB.entries, 1, 'b uploads only what the bucket lacks');
    const pulledA = await mailbox(a, festival, settings(s3, 'fest'), 'pull');
    assert.equal(pulledA.entries, 1, JSON.stringify(pulledA));
    assert.deepEqual(await names(a, festival), ['Crane', 'Dinghy', 'Lighthouse', 'Net loft']);
    // Stored, not only shown: the entries survive a reload of b.
    await b.page.reload();
    await b.page.evaluate(() => window.open({ name: 's3-b', broadcastChannel: false }));
    assert.equal(await count(b), 5);
    for (const n of [a, b]) assert.deepEqual(await n.page.evaluate(() => window.node.peers()), []);
    // After the reload b goes on as the same writer: its new entry joins its one index.
    const indexes = () => files(join(s3.root, s3.bucket)).filter((p) => p.includes('/i/') && !p.endsWith('.json'));
    assert.equal(indexes().length, 2, indexes().join());
    await b.page.evaluate((f) => window.node.createResource(f, { name: 'Slipway', kind: { type: 'location' } }), festival);
    assert.equal((await mailbox(b, festival, settings(s3, 'fest'), 'push')).entries, 1);
    assert.equal(indexes().length, 2, 'no index object per start');
    assert.equal((await mailbox(a, festival, settings(s3, 'fest'), 'pull')).entries, 1);

    // The provider sees opaque names and ciphertext only.
    for (const path of files(join(s3.root, s3.bucket))) {
      const text = `${path}\n${readFileSync(path).toString('latin1')}`;
      for (const secret of ['Harbour', 'Crane', 'Lighthouse', festival, a.publicKey, b.publicKey])
        assert.ok(!text.includes(secret), `${path} reveals ${secret.slice(0, 16)}`);
    }
    for (const n of [a, b]) await n.context.close();
  } finally {
    await s3.stop();
  }
});

test('a private festival through S3: members read it, a page without the key finds nothing', async () => {
  const s3 = await startS3Server();
  try {
    const a = await node('s3-private-a');
    const festival = await festivalWithResources(a, 'Quiet retreat', ['Yurt'], { private: true });
    const key = await a.page.evaluate((f) => window.node.festivalKey(f), festival);
    const pushed = await mailbox(a, festival, settings(s3, ''), 'push');
    assert.equal(pushed.entries, 2);

    const b = await node('s3-private-b');
    await b.page.evaluate(({ f, key }) => window.node.joinFestival(f, key), { f: festival, key });
    const pulled = await mailbox(b, festival, settings(s3, ''), 'pull');
    assert.equal(pulled.entries, 2, JSON.stringify(pulled));
    assert.deepEqual(await names(b, festival), ['Yurt']);

    // Without the key, the festival's mailbox can't even be found (its name comes from the key).
    const c = await node('s3-private-c');
    await c.page.evaluate((f) => window.node.joinFestival(f), festival);
    const blind = await mailbox(c, festival, settings(s3, ''), 'pull');
    assert.equal(blind.entries, 0);
    assert.equal(await count(c), 0);
    for (const path of files(join(s3.root, s3.bucket)))
      assert.ok(!readFileSync(path).toString('latin1').includes('Yurt'));

    // A rotation, with members who meet only through the bucket: b writes, a removes c (the
    // new key is sealed to b) and writes under it. b, holding only the old key, finds the share
    // in the old key's mailbox (a forwards its creation log there), then follows the new key.
    await b.page.evaluate((f) => window.node.createResource(f, { name: 'Sauna', kind: { type: 'item' } }), festival);
    assert.equal((await mailbox(b, festival, settings(s3, ''), 'push')).entries, 1);
    assert.equal((await mailbox(a, festival, settings(s3, ''), 'pull')).entries, 1);
    await a.page.evaluate(({ f, c }) => window.node.removeMember(f, c), { f: festival, c: c.publicKey });
    await a.page.evaluate((f) => window.node.createResource(f, { name: 'Fire pit', kind: { type: 'item' } }), festival);
    const newKey = await a.page.evaluate((f) => window.node.festivalKey(f), festival);
    assert.notEqual(newKey, key);
    await mailbox(a, festival, settings(s3, ''), 'push');
    await mailbox(b, festival, settings(s3, ''), 'pull'); // the old mailbox: the share
    assert.equal(await b.page.evaluate((f) => window.node.festivalKey(f), festival), newKey);
    await mailbox(b, festival, settings(s3, ''), 'pull'); // the new one
    assert.deepEqual(await names(b, festival), ['Fire pit', 'Sauna', 'Yurt']);
    for (const n of [a, b, c]) await n.context.close();
  } finally {
    await s3.stop();
  }
});

test('wrong credentials, corrupted objects and a vanished bucket: typed errors, nothing lost', async () => {
  const s3 = await startS3Server();
  try {
    const a = await node('s3-bad-a');
    const festival = await festivalWithResources(a, 'Storm camp', ['Tarp', 'Rope']);

    const denied = await mailbox(a, festival, settings(s3, 'bad', { secretAccessKey: 'not-the-secret' }), 'push');
    assert.equal(denied.error?.code, 'S3_ACCESS_DENIED', JSON.stringify(denied));
    const unreachable = await mailbox(a, festival, settings(s3, 'bad', { endpoint: 'http://127.0.0.1:9' }), 'pull');
    assert.equal(unreachable.error?.code, 'S3_UNREACHABLE', JSON.stringify(unreachable));
    const invalid = await a.page.evaluate(
      (f) => window.node.mailbox(f, { endpoint: 'not a url', bucket: 'b', accessKeyId: 'k', secretAccessKey: 's' })
        .then(() => null, (e) => e.code),
      festival,
    );
    assert.equal(invalid, 'INVALID_ARGUMENT');
    assert.equal(await count(a), 3);

    // A bundle altered in the bucket is refused; everything else still arrives.
    assert.equal((await mailbox(a, festival, settings(s3, 'bad'), 'push')).entries, 3);
    const bundles = files(join(s3.root, s3.bucket)).filter((p) => p.includes('/b/'));
    assert.equal(bundles.length, 1);
    const bytes = readFileSync(bundles[0]);
    bytes[bytes.length - 20] ^= 0x40;
    writeFileSync(bundles[0], bytes);
    const b = await node('s3-bad-b');
    await b.page.evaluate((f) => window.node.joinFestival(f), festival);
    const pulled = await mailbox(b, festival, settings(s3, 'bad'), 'pull');
    assert.deepEqual(pulled.rejectedObjects.map((r) => r.code), ['MAILBOX_CORRUPTED'], JSON.stringify(pulled));
    assert.equal(await count(b), 0);
    // b deleted it; a finds its bundle gone at its next full listing and uploads the entries
    // again, so b gets everything.
    assert.equal(pulled.removed, 1);
    assert.equal(files(join(s3.root, s3.bucket)).filter((p) => p.includes('/b/')).length, 0);
    assert.equal((await mailbox(a, festival, settings(s3, 'bad'), 'pull', { full: true })).entries, 0);
    assert.equal((await mailbox(a, festival, settings(s3, 'bad'), 'push')).entries, 3);
    const again = await mailbox(b, festival, settings(s3, 'bad'), 'pull');
    assert.deepEqual([again.entries, again.rejectedObjects.length], [3, 0], JSON.stringify(again));
    assert.deepEqual(await names(b, festival), ['Rope', 'Tarp']);

    // The bucket disappears: a typed error, and a keeps everything it has.
    rmSync(join(s3.root, s3.bucket), { recursive: true, force: true });
    await a.page.evaluate((f) => window.node.createResource(f, { name: 'Lantern', kind: { type: 'item' } }), festival);
    const gone = await mailbox(a, festival, settings(s3, 'bad'), 'push');
    assert.equal(gone.error?.code, 'S3_NO_SUCH_BUCKET', JSON.stringify(gone));
    const goneToo = await mailbox(a, festival, settings(s3, 'bad'), 'pull');
    assert.equal(goneToo.error?.code, 'S3_NO_SUCH_BUCKET', JSON.stringify(goneToo));
    assert.equal(await count(a), 4);
    assert.deepEqual(await names(a, festival), ['Lantern', 'Rope', 'Tarp']);
    for (const n of [a, b]) await n.context.close();
  } finally {
    await s3.stop();
  }
});
