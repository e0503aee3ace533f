// What the app needs around identity: a secret-key backup that opens the same identity in a new
// store, display names, leaving a festival for good, and the list of problems to show.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, startStaticServer } from './harness.mjs';

let browser, server;
before(async () => {
  server = await startStaticServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('an exported secret key opens the same identity in a new store, and only there', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, server.url);
  const publicKey = await page.evaluate(() => window.open({ name: 'original' }));
  const secret = await page.evaluate(() => window.node.exportSecretKey());
  assert.match(secret, /^[0-9a-f]{64}$/);
  await page.evaluate(() => window.node.close());

  const imported = await page.evaluate((secretKey) => window.open({ name: 'imported', secretKey }), secret);
  assert.equal(imported, publicKey);
  await page.evaluate(() => window.node.close());

  // A store holding another identity refuses the key; the store is left as it was.
  const other = await page.evaluate(() => window.open({ name: 'someone-else' }));
  await page.evaluate(() => window.node.close());
  const refused = await page.evaluate(
    (secretKey) => window.open({ name: 'someone-else', secretKey }).then(() => 'opened', (e) => e.code),
    secret,
  );
  assert.equal(refused, 'IDENTITY_MISMATCH');
  assert.equal(await page.evaluate(() => window.open({ name: 'someone-else' })), other);
  await page.evaluate(() => window.node.close());

  const bad = await page.evaluate(() =>
    window.open({ name: 'bad-key', secretKey: 'not hex' }).then(() => 'opened', (e) => e.code),
  );
  assert.equal(bad, 'INVALID_ARGUMENT');
  // Not a string is refused too, rather than quietly making a new identity.
  const number = await page.evaluate(() =>
    window.open({ name: 'bad-key', secretKey: 42 }).then(() => 'opened', (e) => e.code),
  );
  assert.equal(number, 'INVALID_ARGUMENT');
  await context.close();
});

test('display names, leaving a festival across a reload, and an empty problem list', async () => {
  const context = await browser.newContext();
  const page = await openPage(context, server.url);
  const me = await page.evaluate(() => window.open({ name: 'profile' }));
  const { festival, kept } = await page.evaluate(async () => {
    const node = window.node;
    const festival = await node.createFestival({ name: 'Zine fair' });
    const kept = await node.createFestival({ name: 'Repair café' });
    await node.setProfile(festival, { name: 'Ada' });
    await node.setProfile(festival, { name: 'Ada L.' });
    return { festival, kept };
  });
  assert.deepEqual(await page.evaluate((f) => window.node.profiles(f), festival), [
    { author: me, name: 'Ada L.' },
  ]);
  const empty = await page.evaluate(
    (f) => window.node.setProfile(f, { name: '  ' }).then(() => 'written', (e) => e.code),
    festival,
  );
  assert.equal(empty, 'INVALID_OPERATION');
  assert.deepEqual(await page.evaluate((f) => window.node.problems(f), festival), []);

  await page.evaluate((f) => window.node.leaveFestival(f), festival);
  await page.reload();
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => window.open({ name: 'profile' }));
  const joined = await page.evaluate(async () =>
    (await window.node.festivals()).filter((f) => f.joined).map((f) => f.id),
  );
  assert.deepEqual(joined, [kept]);
  // Left, not deleted: what was stored is still readable.
  const left = await page.evaluate((f) => window.node.festival(f), festival);
  assert.equal(left.name, 'Zine fair');
  assert.equal(left.joined, false);
  await context.close();
});
