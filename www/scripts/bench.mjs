// Schedule benchmark of the built app: for each size, a fresh browser profile opens
// `?bench=<n>`, which creates n events locally and times the schedule's first render and a
// scroll run (screens/Bench.tsx). Prints one JSON line per size.
//
//   npm run build && unshare -n sh -c 'ip link set lo up && exec node scripts/bench.mjs 1k 10k'
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../scripts/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sizes = process.argv.slice(2).length ? process.argv.slice(2) : ['1k', '10k'];
const { server, url } = await serve(join(here, '..', 'dist'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  chromiumSandbox: false,
});
try {
  for (const size of sizes) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => m.text().startsWith('[') && console.error(`  ${m.text()}`));
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    const started = Date.now();
    // No rendezvous: the benchmark needs no peers.
    await page.goto(`${url}/?rendezvous=&bench=${size}#/bench`);
    const ticker = setInterval(async () => {
      const status = await page.getByTestId('bench-status').textContent().catch(() => '?');
      console.error(`  ${Math.round((Date.now() - started) / 1000)} s: ${status}`);
    }, 15_000);
    await page.waitForFunction(() => window.__benchResult?.scroll, undefined, { timeout: 30 * 60_000, polling: 1000 });
    clearInterval(ticker);
    const result = await page.evaluate(() => window.__benchResult);
    await page.screenshot({ path: join(here, 'shots', `bench-${size}.png`) });
    // A second, warm measurement: re-mount the schedule on the same data.
    await page.evaluate(() => (window.__benchResult = undefined));
    await page.getByTestId('bench-remeasure').first().click();
    await page.waitForFunction(() => window.__benchResult?.scroll, undefined, { timeout: 120_000 });
    const warm = await page.evaluate(() => window.__benchResult);
    console.log(JSON.stringify({ size, wallS: Math.round((Date.now() - started) / 1000), first: result, again: { timings: warm.timings, scroll: warm.scroll } }));
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
