// Shared setup of the browser tests: a static server for the package and test pages, the
// rendezvous server, the native node, and headless Chromium pinned to loopback.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');

// The quiet flags, plus what lets Chromium gather a 127.0.0.1 candidate (TOOLING.md). The
// tests run in a loopback-only network namespace, which is what keeps WebRTC on loopback.
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--enable-precise-memory-info',
];

const launchOptions = (args) => ({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args,
  chromiumSandbox: false,
});

/** The `--disable-features` list of a running browser, read from chrome://version. */
export async function disabledFeatures(browser) {
  const page = await browser.newPage();
  try {
    await page.goto('chrome://version');
    const line = (await page.locator('#command_line').textContent()) ?? '';
    const all = [...line.matchAll(/--disable-features=(\S+)/g)];
    return all.length ? all[all.length - 1][1].split(',') : [];
  } finally {
    await page.close();
  }
}

let disableFeaturesFlag;
/**
 * `--disable-features` with WebRtcHideLocalIpsWithMdns (so candidates are plain 127.0.0.1, not
 * mDNS names) on top of Playwright's own list: Chromium keeps only the last such switch, so a
 * bare one would drop Playwright's. The list is read once from a probe launch rather than
 * copied, so it follows Playwright upgrades.
 */
function featuresFlag() {
  disableFeaturesFlag ??= (async () => {
    const probe = await chromium.launch(launchOptions(ARGS));
    const theirs = await disabledFeatures(probe).finally(() => probe.close());
    return `--disable-features=${[...new Set([...theirs, 'WebRtcHideLocalIpsWithMdns'])].join(',')}`;
  })();
  return disableFeaturesFlag;
}

export async function launchBrowser() {
  return chromium.launch(launchOptions([...ARGS, await featuresFlag()]));
}

/**
 * A browser with an on-disk profile. Quota overrides (DevTools `Storage.overrideQuotaForOrigin`)
 * only bite there, not in the in-memory profiles of `browser.newContext()`.
 */
export async function launchPersistentContext() {
  const dir = mkdtempSync(join(tmpdir(), 'p2panda-profile-'));
  const context = await chromium.launchPersistentContext(dir, launchOptions([...ARGS, await featuresFlag()]));
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  };
  return context;
}

/** Serve p2panda-wasm/ (pkg/ and browser-tests/pages/) on 127.0.0.1. */
export async function startStaticServer() {
  const { server, url } = await serve(join(ROOT, 'p2panda-wasm'));
  return { url, close: () => new Promise((done) => server.close(done)) };
}

/** Run a program, read its first stdout line matching `pattern`. */
function spawnReading(command, args, pattern) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  const seen = [];
  lines.on('line', (line) => {
    seen.push(line);
    for (const w of waiting.splice(0)) if (!w(line)) waiting.push(w);
  });
  const next = (test, timeout = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for output of ${command}`)), timeout);
      const check = (line) => {
        if (!test(line)) return false;
        clearTimeout(timer);
        resolve(line);
        return true;
      };
      if (seen.some(check)) return;
      waiting.push(check);
    });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w(`exit ${code}`);
  });
  return { child, next, seen, ready: next((line) => pattern.test(line)) };
}

/** The rendezvous server on a free port. */
export async function startRendezvous(port = 0) {
  const binary = join(ROOT, 'target', 'debug', 'p2panda-rendezvous');
  const { child, ready } = spawnReading(binary, ['--listen', `127.0.0.1:${port}`], /listening on/);
  const line = await ready;
  const address = line.match(/listening on (\S+)/)[1];
  return {
    url: `ws://${address}`,
    port: Number(address.split(':')[1]),
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A real S3-compatible server (s3s-fs, crate p2panda-s3's `p2panda-s3-test-server`) on
 * 127.0.0.1 with one bucket, allowing browsers' cross-origin requests as a bucket CORS rule
 * would. Resolves to its settings (endpoint, bucket, keys, `root`: the directory of its files).
 */
export async function startS3Server() {
  const binary = join(ROOT, 'target', 'debug', 'p2panda-s3-test-server');
  const root = mkdtempSync(join(tmpdir(), 'p2panda-s3-'));
  const { child, ready } = spawnReading(binary, ['--root', root], /"endpoint"/);
  const settings = JSON.parse(await ready);
  return {
    ...settings,
    stop: () =>
      new Promise((done) => {
        const finish = () => {
          rmSync(root, { recursive: true, force: true });
          done();
        };
        if (child.exitCode !== null) return finish();
        child.once('exit', finish);
        child.kill('SIGTERM');
      }),
  };
}

/** The native node (p2panda-node crate), talking JSON lines. */
export async function startNativeNode(args) {
  const binary = join(ROOT, 'target', 'debug', 'p2panda-node');
  const run = spawnReading(binary, args, /"ready"/);
  const ready = JSON.parse(await run.ready);
  const send = (command) => run.child.stdin.write(JSON.stringify(command) + '\n');
  return {
    ...ready,
    send,
    /** Wait for a JSON line for which `test` holds. */
    waitFor: async (test, timeout) => JSON.parse(await run.next((line) => {
      try {
        return test(JSON.parse(line));
      } catch {
        return false;
      }
    }, timeout)),
    status: async () => {
      const marker = Math.random().toString(36).slice(2);
      send({ cmd: 'status', marker });
      return JSON.parse(await run.next((line) => line.includes(marker)));
    },
    stop: () =>
      new Promise((done) => {
        if (run.child.exitCode !== null) return done();
        run.child.once('exit', done);
        send({ cmd: 'quit' });
        setTimeout(() => run.child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** A page of `context` with the package loaded. */
export async function openPage(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('[page error]', error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error('[page console]', message.text());
  });
  await page.goto(`${url}/browser-tests/pages/node.html`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

/**
 * A node in a browser context of its own (its own IndexedDB and identity), opened with `options`
 * (see pages/node.html; BroadcastChannel off unless asked, so contexts meet only as told).
 */
export async function nodeInNewContext(browser, url, options) {
  const context = await browser.newContext();
  const page = await openPage(context, url);
  const publicKey = await page.evaluate((o) => window.open(o), { broadcastChannel: false, ...options });
  return { context, page, publicKey };
}

/** Run `check(arg)` in the page every 100 ms until it gives a truthy value (it may be async). */
export async function eventually(page, check, arg, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(check, arg);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
