// A long sync you can see: browser A makes a festival with N events (the bench), browser B
// joins by invite link and must show the progress bar while catching up, then every event.
//
//   npm run build && unshare -n sh -c 'ip link set lo up && exec node scripts/bigsync.mjs 5k'
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const size = process.argv[2] ?? '5k';
const binary = join(here, '..', '..', 'target', 'debug', 'p2panda-rendezvous');
const rendezvous = spawn(binary, ['--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const address = await new Promise((resolve) =>
  createInterface({ input: rendezvous.stdout }).on('line', (l) => /listening on (\S+)/.exec(l)?.[1] && resolve(/listening on (\S+)/.exec(l)[1])),
);
const { server, url } = await serve(join(here, '..', 'dist'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream', '--disable-features=WebRtcHideLocalIpsWithMdns'],
  chromiumSandbox: false,
});
const app = `${url}/?rendezvous=ws://${address}&loopback=1`;
let ok = false;
try {
  const a = await (await browser.newContext()).newPage();
  await a.goto(`${app}&bench=${size}#/bench`);
  await a.waitForFunction(() => window.__benchResult?.scroll, undefined, { timeout: 20 * 60_000, polling: 1000 });
  const { festival, count } = await a.evaluate(() => window.__benchResult);
  console.log(`A made ${count} events`);
  const b = await (await browser.newContext({ viewport: { width: 375, height: 760 } })).newPage();
  const started = Date.now();
  await b.goto(`${app}#/join/${festival}`);
  let sawProgress = false;
  let maxLag = 0;
  for (;;) {
    // How responsive is B's page while syncing: a round trip through its event loop.
    const t0 = Date.now();
    const state = await b.evaluate(() => ({
      progress: document.querySelector('[data-testid="sync-progress"]')?.getAttribute('value') ?? null,
      count: Number(document.querySelector('[data-testid="schedule-count"]')?.getAttribute('data-count') ?? -1),
    }));
    maxLag = Math.max(maxLag, Date.now() - t0);
    if (state.progress !== null && !sawProgress) {
      sawProgress = true;
      console.log(`progress bar visible after ${Date.now() - started} ms (${state.progress}%)`);
      await b.screenshot({ path: join(here, 'shots', 'bigsync-progress-phone.png') });
    }
    if (state.count === count) break;
    if (Date.now() - started > 10 * 60_000) throw new Error(`B has ${state.count} of ${count} after 10 min`);
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`B shows all ${count} events after ${Date.now() - started} ms; progress bar seen: ${sawProgress}; slowest page round trip ${maxLag} ms`);
  await b.screenshot({ path: join(here, 'shots', 'bigsync-done-phone.png') });
  ok = sawProgress;
} finally {
  await browser.close();
  server.close();
  rendezvous.kill('SIGTERM');
}
process.exit(ok ? 0 : 1);
