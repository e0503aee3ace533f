// End-to-end: two organisers who are never online at the same time plan one festival through
// an S3 mailbox they type into the app (a real S3-compatible server: s3s-fs on 127.0.0.1).
//
// Run (inside a loopback-only network namespace, see README.md):
//   unshare -n sh -c 'ip link set lo up && exec node --test --test-concurrency=1 www/e2e/mailbox.test.mjs'
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startS3Server } from '../../p2panda-wasm/browser-tests/harness.mjs';
import { SYNC_TIMEOUT, newUser, openTab, sel, setName, shot, startWorld, withFailureShots } from './helpers.mjs';

let world, s3;
before(async () => {
  world = await startWorld();
  s3 = await startS3Server();
});
after(async () => {
  await world?.stop();
  await s3?.stop();
});

/** Type the bucket settings into the mailbox form on screen and connect. */
async function connectMailbox(user) {
  await user.id('mailbox-endpoint').fill(s3.endpoint);
  await user.id('mailbox-bucket').fill(s3.bucket);
  await user.id('mailbox-access-key').fill(s3.accessKeyId);
  await user.id('mailbox-secret').fill(s3.secretAccessKey);
  await user.id('mailbox-connect').click();
}

test('organisers who are never online together plan through an S3 mailbox', async () => {
  const ada = await newUser(world.browser, 'ada');
  const s3Requests = [];
  const watch = (user) => user.page.on('request', (r) => r.url().startsWith(s3.endpoint) && s3Requests.push(r.url()));
  watch(ada);
  let festival;
  await withFailureShots([ada], 'mailbox', async () => {
    await ada.page.goto(`${world.app}#/`);
    await setName(ada, 'Ada');
    await ada.id('festival-new').click();
    await ada.id('festival-name').fill('Orchard gathering');
    await ada.id('festival-submit').click();
    await ada.id('festival-title').filter({ hasText: 'Orchard gathering' }).waitFor();
    festival = await ada.id('festival-screen').getAttribute('data-festival');
    await openTab(ada, 'resources');
    await ada.id('resource-new').click();
    await ada.id('resource-name-input').fill('Cider press');
    await ada.id('resource-submit').click();
    await ada.id('resource-name').filter({ hasText: 'Cider press' }).waitFor();

    // Wrong settings are caught before anything is sent, then a wrong secret by the server.
    await openTab(ada, 'about');
    await ada.id('mailbox-connect').click();
    await ada.id('mailbox-endpoint-error').waitFor();
    await ada.id('mailbox-endpoint').fill(s3.endpoint);
    await ada.id('mailbox-bucket').fill(s3.bucket);
    await ada.id('mailbox-access-key').fill(s3.accessKeyId);
    await ada.id('mailbox-secret').fill('wrong');
    await ada.id('mailbox-connect').click();
    await ada.id('mailbox-error').filter({ hasText: 'S3_ACCESS_DENIED' }).waitFor();

    await connectMailbox(ada);
    await ada.page.locator(sel('mailbox-status', { state: 'ok' })).waitFor({ timeout: SYNC_TIMEOUT });
    await ada.id('mailbox-status').filter({ hasText: /, [1-9]\d* sent/ }).waitFor();
    await shot(ada.page, 'mailbox-connected');
  });
  const invite = await ada.id('invite-link').inputValue();
  await ada.context.close(); // Ada goes away before Bo ever opens the app

  const bo = await newUser(world.browser, 'bo');
  watch(bo);
  await withFailureShots([bo], 'mailbox', async () => {
    await bo.page.goto(invite);
    await setName(bo, 'Bo');
    await bo.id('festival-pending-screen').waitFor();
    await connectMailbox(bo);
    await bo.id('festival-title').filter({ hasText: 'Orchard gathering' }).waitFor({ timeout: SYNC_TIMEOUT });
    await openTab(bo, 'about');
    await bo.id('mailbox-status').filter({ hasText: /[1-9]\d* changes? received/ }).waitFor();
    await openTab(bo, 'resources');
    await bo.id('resource-item').filter({ hasText: 'Cider press' }).waitFor();
    assert.equal(await bo.id('sync-peer-count').getAttribute('data-count'), '0', 'Bo never met Ada');

    // The settings stay in this browser: after a reload the mailbox syncs again by itself.
    await bo.page.reload();
    await openTab(bo, 'about');
    await bo.page.locator(sel('mailbox-status', { state: 'ok' })).waitFor({ timeout: SYNC_TIMEOUT });
  });
  // What the provider saw: opaque names only.
  assert.ok(s3Requests.length > 4, s3Requests.join('\n'));
  for (const url of s3Requests) {
    assert.ok(!url.includes(festival) && !/orchard|cider/i.test(url), url);
  }
  await bo.context.close();
});
