// Setup and user actions shared by the festival app's end-to-end tests: the built app served
// on 127.0.0.1, the rendezvous server, headless Chromium pinned to loopback, and one browser
// context (own IndexedDB, own identity) per user. Users act through the UI only.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';
import {
  disabledFeatures, eventually, launchBrowser, startRendezvous,
} from '../../p2panda-wasm/browser-tests/harness.mjs';

export { disabledFeatures, eventually };

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = join(here, '..', 'dist');
export const ARTIFACTS = join(here, 'artifacts');

/** Waits for the app to sync between browsers: generous, the machine may be loaded. */
export const SYNC_TIMEOUT = 60_000;

/** Everything a test file needs: app URL, rendezvous, browser; `stop()` undoes it all. */
export async function startWorld() {
  const { server, url } = await serve(DIST);
  const rendezvous = await startRendezvous();
  const browser = await launchBrowser();
  mkdirSync(ARTIFACTS, { recursive: true });
  // Failure shots of an earlier run would be mistaken for this one's.
  for (const file of readdirSync(ARTIFACTS)) if (file.startsWith('failed-')) rmSync(join(ARTIFACTS, file));
  const app = `${url}/?rendezvous=${encodeURIComponent(rendezvous.url)}&loopback=1`;
  return {
    app,
    browser,
    stop: async () => {
      await browser.close().catch(() => {});
      await rendezvous.stop();
      await new Promise((done) => server.close(done));
    },
  };
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 375, height: 740 };

/** A user: a fresh browser context (own storage, so own identity) with one page. */
export async function newUser(browser, label) {
  const context = await browser.newContext({
    viewport: DESKTOP,
    // Same zone as this process, so "tomorrow 10:00" means the same instant on both sides.
    timezoneId: Intl.DateTimeFormat().resolvedOptions().timeZone,
    locale: 'en-GB',
  });
  context.setDefaultTimeout(45_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => {
    errors.push(error.message);
    console.error(`[${label} page error]`, error.message);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[${label} console]`, message.text());
  });
  return { label, context, page, errors, id: (testid) => page.getByTestId(testid) };
}

/** A css selector for `[data-testid=…]` plus attribute filters. */
export function sel(testid, attrs = {}) {
  return `[data-testid="${testid}"]` + Object.entries(attrs).map(([k, v]) => `[data-${k}="${v}"]`).join('');
}

/** Save a screenshot of the page as a test artifact. */
export async function shot(page, name, { fullPage = true } = {}) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** A `datetime-local` value for tomorrow at `hour:minute` local time. */
export function tomorrowAt(hour, minute = 0) {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(hour, minute, 0, 0);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Pick a display name in the form that is on screen (welcome card or name prompt). */
export async function setName(user, name) {
  await user.id('name-input').fill(name);
  await user.id('name-save').click();
  await user.page.locator(sel('my-name'), { hasText: name }).waitFor();
}

/** Open a festival tab by clicking it (the festival screen must be showing). */
export async function openTab(user, tab) {
  await user.id(`tab-${tab}`).click();
  await user.page.locator(`${sel(`tab-${tab}`)}[aria-current="page"]`).waitFor();
}

/**
 * Create an event through the form. `resources` maps resource id → the availability the picker
 * must show before it is ticked ("free", "requested", "booked"). Returns the new event's id.
 */
export async function createEvent(user, { title, start, end, resources = {}, description }) {
  await openTab(user, 'schedule');
  await user.id('event-new').click();
  await user.id('event-form').waitFor();
  await fillEvent(user, { title, start, end, resources, description });
  await user.id('event-submit').click();
  const page = user.page.locator(sel('event-page'), { has: user.page.locator(sel('event-title'), { hasText: title }) });
  await page.waitFor();
  return page.getAttribute('data-event');
}

/** Fill the event form (already open) and tick resources once the picker shows their state. */
export async function fillEvent(user, { title, start, end, resources = {}, description }) {
  await user.id('event-title-input').fill(title);
  await user.id('event-start-input').fill(start);
  await user.id('event-end-input').fill(end);
  if (description) await user.id('event-description-input').fill(description);
  for (const [resource, availability] of Object.entries(resources)) {
    const option = user.page.locator(sel('picker-option', { resource, availability }));
    await option.waitFor({ timeout: SYNC_TIMEOUT });
    await option.getByTestId('picker-checkbox').check();
  }
}

/** The schedule rows the page shows now, as sorted "event:status" strings (runs in the page). */
export function scheduleRowsInPage() {
  return [...document.querySelectorAll('[data-testid="schedule-event"]')]
    .map((row) => `${row.dataset.event}:${row.dataset.status}`)
    .sort();
}

/** Wait until the page's schedule (by day, all days) lists exactly `expected` ("event:status"). */
export async function waitForSchedule(user, expected, timeout = SYNC_TIMEOUT) {
  const want = [...expected].sort();
  try {
    await eventually(
      user.page,
      (want) => {
        const rows = [...document.querySelectorAll('[data-testid="schedule-event"]')]
          .map((row) => `${row.dataset.event}:${row.dataset.status}`)
          .sort();
        return rows.join() === want.join();
      },
      want,
      timeout,
    );
  } catch (error) {
    // Short ids and titles, so the message can be read.
    const got = await user.page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="schedule-event"]')].map(
        (row) => `${row.dataset.event.slice(0, 8)} ${row.querySelector('.event-title')?.textContent}:${row.dataset.status}`,
      ),
    );
    const short = want.map((row) => `${row.slice(0, 8)}:${row.split(':')[1]}`);
    throw new Error(`${user.label}'s schedule: wanted ${short.join(', ')}; got ${got.join(', ')}`, { cause: error });
  }
}

/** Mark the page, to prove later that a change arrived live (no reload or navigation away). */
export async function markLive(user) {
  await user.page.evaluate(() => {
    window.__e2eLive = true;
  });
}

export async function stillLive(user) {
  return user.page.evaluate(() => window.__e2eLive === true);
}

/**
 * Run a test body; if it fails, save what each user's page shows (failed-<name>-<user>.png)
 * before passing the error on, so a failure in CI can be read from the artifacts.
 */
export async function withFailureShots(users, name, body) {
  try {
    await body();
  } catch (error) {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
    for (const user of users()) {
      if (!user) continue;
      await shot(user.page, `failed-${slug}-${user.label}`).catch(() => {});
    }
    throw error;
  }
}
