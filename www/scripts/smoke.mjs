// Smoke test of the built app (www/dist) with two browsers: create a festival and resources,
// join by invite link from a second browser, request resources, answer from the owner's
// inbox (confirm, deny with a reason, first-come-first-served), and check overlap blocking.
// Takes screenshots into www/scripts/shots/ (desktop and phone width).
//
// Run inside a loopback-only network namespace (WebRTC must stay on loopback):
//   npm run build && unshare -n sh -c 'ip link set lo up && exec node scripts/smoke.mjs'
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');
const SHOTS = join(here, 'shots');
mkdirSync(SHOTS, { recursive: true });

// Quiet flags plus what lets headless Chromium gather a 127.0.0.1 candidate (TOOLING.md).
// Playwright passes its own --disable-features: ours is merged into a single switch below.
const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
];

function startRendezvous() {
  const binary = join(ROOT, 'target', 'debug', 'p2panda-rendezvous');
  const child = spawn(binary, ['--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('rendezvous did not start')), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `ws://${m[1]}`, stop: () => child.kill('SIGTERM') });
      }
    });
    child.once('error', reject);
  });
}

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...ARGS, '--disable-features=WebRtcHideLocalIpsWithMdns'],
    chromiumSandbox: false,
  });
}

const step = (text) => console.log(`• ${text}`);
const t = (page, id) => page.getByTestId(id);

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function watch(page, who) {
  page.on('pageerror', (e) => console.error(`[${who} page error]`, e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.text().startsWith('[schedule]')) console.error(`[${who} console]`, m.text());
  });
}

async function setName(page, name) {
  await t(page, 'name-input').fill(name);
  await t(page, 'name-save').click();
  // The header shows the new name (the welcome card, holding the form, goes away).
  await page.locator('[data-testid="my-name"]', { hasText: name }).waitFor();
}

/** datetime-local value for tomorrow at `hour`:00 local time. */
function tomorrowAt(hour) {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(hour, 0, 0, 0);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:00`;
}

async function createResource(page, festivalId, { name, address, url, policy }) {
  await page.goto(page.url().replace(/#.*$/, `#/festival/${festivalId}/new-resource`));
  await t(page, 'resource-name-input').fill(name);
  if (address) await t(page, 'resource-address-input').fill(address);
  if (url) await t(page, 'resource-url-input').fill(url);
  await t(page, `resource-policy-${policy}`).check();
  await t(page, 'resource-submit').click();
  await t(page, 'resource-page').waitFor();
  return page.getByTestId('resource-page').getAttribute('data-resource');
}

async function createEvent(page, festivalId, { title, start, end, resources }) {
  await page.goto(page.url().replace(/#.*$/, `#/festival/${festivalId}/new-event`));
  await t(page, 'event-title-input').fill(title);
  await t(page, 'event-start-input').fill(start);
  await t(page, 'event-end-input').fill(end);
  for (const r of resources) {
    const option = page.locator(`[data-testid="picker-option"][data-resource="${r}"]`);
    await option.locator('[data-testid="picker-availability"]').waitFor();
    await option.getByTestId('picker-checkbox').check();
  }
}

const { server, url } = await serve(join(here, '..', 'dist'));
const rendezvous = await startRendezvous();
const browser = await launch();
const app = `${url}/?rendezvous=${encodeURIComponent(rendezvous.url)}&loopback=1`;
let failed = false;
const pages = [];
try {
  const alice = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
  const bob = await (await browser.newContext({ viewport: { width: 375, height: 760 }, isMobile: true, hasTouch: true })).newPage();
  watch(alice, 'alice');
  watch(bob, 'bob');
  pages.push(['alice', alice], ['bob', bob]);

  step('alice: first visit, pick a name');
  await alice.goto(`${app}#/`);
  await t(alice, 'welcome').waitFor();
  await shot(alice, '01-welcome');
  // Inline validation: empty name.
  await t(alice, 'name-save').click();
  await t(alice, 'name-input-error').waitFor();
  await setName(alice, 'Alice');

  step('alice: create a festival');
  await t(alice, 'festival-new').click();
  await t(alice, 'festival-submit').click();
  await t(alice, 'festival-name-error').waitFor(); // required
  await t(alice, 'festival-name').fill('Harvest fair');
  await t(alice, 'festival-description').fill('Three days of music and food at the old mill.');
  await t(alice, 'festival-submit').click();
  await t(alice, 'festival-screen').waitFor();
  const festival = await t(alice, 'festival-screen').getAttribute('data-festival');

  step('alice: add resources (manual location, fcfs virtual location, a skill)');
  const barn = await createResource(alice, festival, { name: 'Barn', address: 'Mill lane 3', policy: 'manual' });
  await shot(alice, '02-location-page');
  const online = await createResource(alice, festival, { name: 'Online room', url: 'https://example.org/room', policy: 'fcfs' });

  step('alice: invite link');
  await alice.goto(`${app}#/festival/${festival}/about`);
  const invite = await t(alice, 'invite-link').inputValue();
  await shot(alice, '03-about');

  step('bob: opens the invite link');
  await bob.goto(invite);
  await t(bob, 'name-prompt').waitFor();
  await setName(bob, 'Bob');
  await t(bob, 'festival-title').waitFor({ timeout: 60_000 });
  console.log('  bob sees:', await t(bob, 'festival-title').textContent());

  step('bob: request the Barn (manual) and the Online room (fcfs)');
  await createEvent(bob, festival, { title: 'Barn dance', start: tomorrowAt(19), end: tomorrowAt(23), resources: [barn, online] });
  await shot(bob, '04-event-form-phone');
  await t(bob, 'event-submit').click();
  await t(bob, 'event-page').waitFor();
  const dance = await t(bob, 'event-page').getAttribute('data-event');
  await bob.locator(`[data-testid="event-resource-status"][data-resource="${online}"][data-status="granted"]`).waitFor({ timeout: 30_000 });
  console.log('  fcfs answered automatically by alice’s app');

  step('alice: inbox, confirm');
  await alice.goto(`${app}#/festival/${festival}/inbox`);
  await alice.locator(`[data-testid="inbox-item"][data-event="${dance}"]`).waitFor({ timeout: 30_000 });
  await shot(alice, '05-inbox');
  await alice.locator(`[data-testid="inbox-item"][data-event="${dance}"]`).getByTestId('inbox-confirm').click();
  await t(alice, 'inbox-empty').waitFor();

  step('bob: sees the grant');
  await bob.locator(`[data-testid="event-resource-status"][data-resource="${barn}"][data-status="granted"]`).waitFor({ timeout: 30_000 });
  console.log('  confirmed %:', await t(bob, 'event-confirmed').getAttribute('data-percent'));
  await shot(bob, '06-event-granted-phone');

  step('bob: overlapping request for the Barn is blocked before asking');
  await createEvent(bob, festival, { title: 'Late jam', start: tomorrowAt(22), end: tomorrowAt(23), resources: [barn] });
  await t(bob, 'event-resources-error').waitFor();
  await t(bob, 'event-submit').click();
  await t(bob, 'event-resources-error').waitFor();
  if (!(await t(bob, 'event-form').isVisible())) throw new Error('overlapping event was submitted');
  console.log('  blocked:', await t(bob, 'event-resources-error').textContent());
  await shot(bob, '07-overlap-blocked-phone');

  step('bob: a later request, alice denies with a reason');
  await createEvent(bob, festival, { title: 'Sunday brunch', start: tomorrowAt(10), end: tomorrowAt(12), resources: [barn] });
  await t(bob, 'event-submit').click();
  await t(bob, 'event-page').waitFor();
  const brunch = await t(bob, 'event-page').getAttribute('data-event');
  await alice.locator(`[data-testid="inbox-item"][data-event="${brunch}"]`).waitFor({ timeout: 30_000 });
  const item = alice.locator(`[data-testid="inbox-item"][data-event="${brunch}"]`);
  await item.getByTestId('inbox-reason').fill('Barn is being cleaned');
  await item.getByTestId('inbox-reason').press('Enter');
  await bob.locator(`[data-testid="event-resource-status"][data-resource="${barn}"][data-status="denied"]`).waitFor({ timeout: 30_000 });
  console.log('  reason shown:', await t(bob, 'event-resource-reason').textContent());

  step('double booking by the owner is shown plainly');
  await createEvent(bob, festival, { title: 'Workshop A', start: tomorrowAt(14), end: tomorrowAt(16), resources: [barn] });
  await t(bob, 'event-submit').click();
  await t(bob, 'event-page').waitFor();
  const workshopA = await t(bob, 'event-page').getAttribute('data-event');
  // Pending overlaps don't block (only granted ones do): the picker says "requested".
  await createEvent(bob, festival, { title: 'Workshop B', start: tomorrowAt(15), end: tomorrowAt(17), resources: [barn] });
  const picked = bob.locator(`[data-testid="picker-option"][data-resource="${barn}"]`);
  console.log('  picker says:', await picked.getAttribute('data-availability'));
  await t(bob, 'event-submit').click();
  await t(bob, 'event-page').waitFor();
  const workshopB = await t(bob, 'event-page').getAttribute('data-event');
  await alice.goto(`${app}#/festival/${festival}/inbox`);
  for (const e of [workshopA, workshopB]) {
    const card = alice.locator(`[data-testid="inbox-item"][data-event="${e}"]`);
    await card.waitFor({ timeout: 30_000 });
    if (e === workshopB) await card.getByTestId('inbox-clash').waitFor();
    await card.getByTestId('inbox-confirm').click();
    await card.waitFor({ state: 'detached' });
  }
  await t(bob, 'problems-banner').waitFor({ timeout: 30_000 });
  await t(bob, 'tab-problems').click();
  await t(bob, 'conflict-item').waitFor();
  console.log('  conflict:', (await t(bob, 'conflict-item').textContent()).trim());
  await shot(bob, '12-conflict-phone');

  step('alice: sub-festival and fork');
  await alice.goto(`${app}#/festival/${festival}/new-sub`);
  await t(alice, 'festival-name').fill('Kids corner');
  await t(alice, 'festival-name').press('Enter'); // forms submit with Enter
  await t(alice, 'festival-parent').waitFor();
  await alice.goto(`${app}#/festival/${festival}/about`);
  await t(alice, 'subfestival-item').waitFor();
  await t(alice, 'festival-fork').click();
  await t(alice, 'festival-submit').click();
  await t(alice, 'festival-screen').waitFor();
  await alice.goto(`${app}#/festival/${await t(alice, 'festival-screen').getAttribute('data-festival')}/about`);
  await t(alice, 'festival-fork-of').waitFor();
  await alice.goto(`${app}#/`);
  console.log('  festivals listed:', await t(alice, 'festival-item').count());
  await shot(alice, '13-home');

  step('key backup: alice exports, a third browser imports it');
  await alice.goto(`${app}#/settings`);
  await t(alice, 'key-export-reveal').click();
  const secret = await t(alice, 'key-export-value').inputValue();
  const alicesKey = await t(alice, 'my-public-key').textContent();
  await shot(alice, '14-settings');
  const carol = await (await browser.newContext()).newPage();
  watch(carol, 'carol');
  await carol.goto(`${app}#/settings`);
  await t(carol, 'key-import-input').fill('abc');
  await t(carol, 'key-import-submit').click();
  await t(carol, 'key-import-input-error').waitFor();
  await t(carol, 'key-import-input').fill(secret);
  await t(carol, 'key-import-submit').click();
  await carol.waitForFunction((key) => document.querySelector('[data-testid="my-public-key"]')?.textContent === key, alicesKey, { timeout: 30_000 });
  console.log('  imported identity matches alice:', alicesKey.slice(0, 16));
  await t(carol, 'store-item').first().waitFor();
  await carol.context().close();

  step('alice works offline, adds a resource, goes online: bob converges');
  await alice.goto(`${app}#/festival/${festival}/resources`);
  await t(alice, 'offline-toggle').click();
  await alice.locator('[data-testid="sync-status"][data-state="offline"]').waitFor({ timeout: 15_000 });
  await t(alice, 'offline-banner').waitFor();
  const tent = await createResource(alice, festival, { name: 'Tent', policy: 'fcfs' });
  await bob.goto(`${app}#/festival/${festival}/resources`);
  await t(bob, 'resources').waitFor();
  await bob.waitForTimeout(2000);
  if (await bob.locator(`[data-testid="resource-item"][data-resource="${tent}"]`).count()) throw new Error('offline write leaked');
  await t(alice, 'offline-toggle').click();
  await bob.locator(`[data-testid="resource-item"][data-resource="${tent}"]`).waitFor({ timeout: 60_000 });
  console.log('  converged after reconnect');

  step('bob: leaves the festival');
  await bob.goto(`${app}#/festival/${festival}/about`);
  await t(bob, 'festival-leave').click();
  await t(bob, 'festival-leave-confirm').click();
  await t(bob, 'festival-list-empty').waitFor();

  step('schedules');
  await alice.goto(`${app}#/festival/${festival}/schedule`);
  await t(alice, 'schedule-event').first().waitFor();
  await shot(alice, '08-schedule-day');
  await t(alice, 'schedule-view-timeline').click();
  await t(alice, 'timeline-lane').first().waitFor();
  await shot(alice, '09-schedule-timeline');
  await bob.goto(`${app}#/`);
  await shot(bob, '10-home-after-leave-phone');
  await alice.goto(`${app}#/festival/${festival}/people`);
  await t(alice, 'people').waitFor();
  await shot(alice, '11-people');
  console.log('smoke: ok');
} catch (error) {
  failed = true;
  console.error('smoke: FAILED', error);
  for (const [who, page] of pages) await shot(page, `failed-${who}`).catch(() => {});
} finally {
  await browser.close();
  rendezvous.stop();
  server.close();
}
process.exit(failed ? 1 : 0);
