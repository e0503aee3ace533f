// Browser benchmark of p2panda: serves bench/index.html, drives headless Chromium through it and
// prints a table of figures. WebRTC stays on loopback only inside a network namespace:
//
//   unshare -n sh -c 'ip link set lo up && exec npm run bench:browser'
//
// Env: BENCH_SIZES (default "20000,100000"), BENCH_WRITERS (pages writing in parallel once the
// festival grows past the first size, default 4), BENCH_VERIFY (signatures to verify, 20000),
// BENCH_SAMPLES (a file to write every figure and the sync samples to, as JSON), BENCH_CARELESS=1
// (owners also grant overlapping bookings: a festival full of conflicts).
//
// Per size N: a source node A holds a festival of N entries (the first size written by A alone
// through the JS API, each further size grown by A and BENCH_WRITERS-1 writer pages paired with
// A by invite code, which A then holds too); a fresh node B in its own browser context joins
// through the rendezvous and syncs from A alone; then B is closed, reloaded and reopened.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ROOT, startRendezvous } from '../browser-tests/harness.mjs';
import { serve } from '../../scripts/serve.mjs';

const SIZES = (process.env.BENCH_SIZES ?? '20000,100000').split(',').map(Number);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 4);
const VERIFY = Number(process.env.BENCH_VERIFY ?? 20_000);
const CARELESS = Boolean(process.env.BENCH_CARELESS);
const PKG = join(ROOT, 'p2panda-wasm', 'pkg');
const KiB = 1024;
const MiB = 1024 * 1024;

// The harness's flags, plus eager `measureUserAgentSpecificMemory` (else it waits for a GC).
const ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
  '--enable-precise-memory-info', '--enable-blink-features=ForceEagerMeasureMemory',
];

const say = (line) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Gzip -9 sizes of the module and of the JS glue. */
function sizes() {
  const gz = (files) => files.reduce((sum, f) => sum + gzipSync(readFileSync(join(PKG, f)), { level: 9 }).length, 0);
  const wasm = gz(['p2panda_wasm_bg.wasm']);
  const glue = gz(['p2panda_wasm.js', 'index.js', 'worker.js']);
  return { wasm, glue, total: wasm + glue };
}

/** The static server, cross-origin isolated so `measureUserAgentSpecificMemory` is allowed. */
async function startServer() {
  const { server, url } = await serve(join(ROOT, 'p2panda-wasm'));
  server.prependListener('request', (_, response) => {
    response.setHeader('cross-origin-opener-policy', 'same-origin');
    response.setHeader('cross-origin-embedder-policy', 'require-corp');
  });
  return { url, close: () => new Promise((done) => server.close(done)) };
}

/** A bench page in `context`, with its node open. */
async function benchPage(context, url, options) {
  const page = await context.newPage();
  page.on('pageerror', (error) => say(`page error: ${error.message}`));
  page.on('console', (m) => m.type() === 'error' && say(`console: ${m.text()}`));
  await page.goto(`${url}/bench/index.html`);
  await page.waitForFunction(() => document.title === 'ready');
  if (options) await page.evaluate((o) => window.bench.open(o), options);
  return page;
}

/** Pair `page` with `source` directly by invite code. */
async function pair(page, source) {
  const offer = await page.evaluate(() => window.bench.createInvite());
  const answer = await source.evaluate((code) => window.bench.acceptInvite(code), offer);
  await page.evaluate((code) => window.bench.completeInvite(code), answer);
}

/**
 * Grow the festival at `source` to `n` entries with `writers` authors: the source writes its
 * share while `writers - 1` helper pages in its context (each its own node and author) write
 * theirs at the same time, offline; then the helpers pair with the source, which syncs their
 * shares, and close. Live sync of every single write costs more than the write (three live
 * writers managed ~350 entries/s together, one alone ~800/s); writing offline and handing over in
 * bulk is also how a team preparing a festival offline works.
 */
async function grow(source, festival, n, writers, inFlight, url) {
  const have = await source.evaluate(() => window.bench.entryCount());
  const share = Math.floor((n - have) / writers);
  const helpers = [];
  for (let i = 1; i < writers; i++) {
    const options = { name: `writer-${n}-${i}`, maxConnections: 1, targetConnections: 1 };
    const page = await benchPage(source.context(), url, options);
    // Fetch the festival from the source, then go offline: reopen with no way to meet peers.
    await page.evaluate((f) => window.bench.join(f, { wait: false }), festival);
    await pair(page, source);
    await page.evaluate((f) => window.bench.join(f), festival);
    await page.evaluate(async (o) => {
      await window.bench.close();
      await window.bench.open(o);
    }, options);
    helpers.push(page);
  }
  const started = Date.now();
  const counts = [n - have - share * (writers - 1), ...helpers.map(() => share)];
  await Promise.all([source, ...helpers].map((page, i) =>
    page.evaluate((a) => window.bench.write(a), { festival, count: counts[i], seed: n + i, inFlight, careless: CARELESS })));
  const written = Date.now() - started;
  await Promise.all(helpers.map((page) => pair(page, source)));
  await source.evaluate((n) => window.bench.waitForEntries(n), n);
  const ms = Date.now() - started;
  for (const page of helpers) {
    await page.evaluate(() => window.bench.close());
    await page.close();
  }
  return { entries: n - have, writers, inFlight, ms, written, handover: ms - written };
}

/** The size of the Worker's wasm memory on `page` (the node's module instance). */
async function workerWasmBytes(page, url) {
  const worker = page.workers().find((w) => w.url().endsWith('/pkg/worker.js'));
  if (!worker) return 0;
  return worker
    .evaluate(async (glue) => (await (await import(glue)).default()).memory.buffer.byteLength, `${url}/pkg/p2panda_wasm.js`)
    .catch(() => 0);
}

/**
 * Where the last open of the node on `page` spent its time: the `detail` of the User Timing
 * measure `p2panda:open` its Worker records (see src/node/restore.rs), or null.
 */
async function openPhases(page) {
  const worker = page.workers().find((w) => w.url().endsWith('/pkg/worker.js'));
  if (!worker) return null;
  return worker
    .evaluate(() => performance.getEntriesByName('p2panda:open').at(-1)?.detail ?? null)
    .catch(() => null);
}

/**
 * CPU time (user + system, ms) of each Chromium dedicated-worker thread on this machine, by
 * thread id, from /proc (Linux; an empty map elsewhere). Unlike wall time it barely changes with
 * the load of other processes on the machine, so it shows what a change to the open costs.
 */
function workerThreadsCpu() {
  const threads = new Map();
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return threads;
  }
  for (const pid of pids) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        if (!stat.slice(stat.indexOf('('), stat.lastIndexOf(')')).includes('DedicatedWorker')) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime, in clock ticks (100 per second on Linux).
        threads.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
      } catch {
        // The thread ended meanwhile.
      }
    }
  }
  return threads;
}

/** A fresh node joins and syncs; then it is closed, its page reloaded and the node reopened. */
async function syncAndReopen(browser, url, rendezvous, festival, n) {
  const context = await browser.newContext();
  const name = `fresh-${n}`;
  const page = await benchPage(context, url, { name, rendezvous: [rendezvous] });
  let wasmPeak = 0;
  let following = true;
  const sampling = (async () => {
    while (following) {
      wasmPeak = Math.max(wasmPeak, await workerWasmBytes(page, url));
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const sync = await page.evaluate((a) => window.bench.follow(a), { festival, n }).finally(() => (following = false));
  await sampling;
  wasmPeak = Math.max(wasmPeak, await workerWasmBytes(page, url));

  await page.evaluate(() => window.bench.close());
  await page.reload();
  await page.waitForFunction(() => document.title === 'ready');
  const threadsBefore = workerThreadsCpu();
  const reopen = await page.evaluate((a) => window.bench.reopen(a), { name, n });
  // The reopened node's worker is the dedicated-worker thread that started meanwhile.
  const started = [...workerThreadsCpu()].filter(([tid]) => !threadsBefore.has(tid));
  reopen.workerCpu = started.length > 0 ? started.reduce((sum, [, ms]) => sum + ms, 0) : null;
  reopen.phases = await openPhases(page);
  reopen.wasmBytes = await workerWasmBytes(page, url);
  reopen.read = await page.evaluate((a) => window.bench.readEntries(a), { name });
  await context.close();
  return { ...summarize(sync, n), wasmPeak, reopen, samples: sync.samples };
}

/** Figures from the samples `[ms, received, stored, count, heap]` of a sync. */
function summarize(sync, n) {
  const { samples } = sync;
  const ingested = samples.find((s) => s[3] >= n)?.[0] ?? sync.ms;
  const firstStored = samples.find((s) => s[2] > 0)?.[0] ?? 0;
  let peakStoreRate = 0;
  for (let i = 0, j = 0; i < samples.length; i++) {
    while (samples[i][0] - samples[j][0] > 1000) j++;
    if (j > 0 && samples[i][0] - samples[j - 1][0] >= 900) {
      const [t0, , s0] = samples[j - 1];
      peakStoreRate = Math.max(peakStoreRate, ((samples[i][2] - s0) / (samples[i][0] - t0)) * 1000);
    }
  }
  return {
    ms: sync.ms,
    rate: (n / sync.ms) * 1000,
    firstUsable: sync.firstUsable,
    ingested,
    firstStored,
    storeRate: sync.ms - firstStored >= 1000 ? (n / (sync.ms - firstStored)) * 1000 : null,
    peakStoreRate,
    heapPeak: Math.max(...samples.map((s) => s[4])),
    agentMemory: sync.agentMemory,
    longTasks: sync.longTasks,
    slowestPoll: sync.slowestPoll,
    shape: sync.shape,
  };
}

async function main() {
  const started = Date.now();
  const size = sizes();
  const server = await startServer();
  const rendezvous = await startRendezvous();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ARGS, chromiumSandbox: false,
  });
  const results = [];
  let verify;
  try {
    const verifier = await benchPage(await browser.newContext(), server.url);
    verify = await verifier.evaluate((count) => window.bench.verifyRate({ count }), VERIFY);
    await verifier.context().close();
    say(`verify: ${Math.round(verify.perSecond)} signatures/s`);

    const source = await benchPage(await browser.newContext(), server.url, {
      name: 'source', rendezvous: [rendezvous.url],
    });
    const festival = await source.evaluate(() => window.bench.createFestival('Benchmark fair'));
    for (const [i, n] of SIZES.entries()) {
      // The first size one call after the other, as an app would; then faster.
      const [writers, inFlight] = i === 0 ? [1, 1] : [WRITERS, 16];
      say(`N=${n}: writing with ${writers} page(s)`);
      const generate = await grow(source, festival, n, writers, inFlight, server.url);
      say(`N=${n}: written in ${generate.ms} ms; a fresh node syncs`);
      const sync = await syncAndReopen(browser, server.url, rendezvous.url, festival, n);
      say(`N=${n}: synced in ${Math.round(sync.ms)} ms, reopened in ${Math.round(sync.reopen.ms)} ms`);
      results.push({ n, generate, sync });
    }
  } finally {
    await browser.close();
    await rendezvous.stop();
    await server.close();
  }
  report(results, verify, size);
  if (process.env.BENCH_SAMPLES) writeFileSync(process.env.BENCH_SAMPLES, JSON.stringify(results));
  say(`total ${Math.round((Date.now() - started) / 1000)} s`);
}

function report(results, verify, size) {
  const mark = (ok) => (ok ? '✓ ' : '✗ ');
  const int = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
  const mib = (x) => (x ? `${(x / MiB).toFixed(1)} MiB` : 'n/a');
  const rows = [
    ['Generate: new entries (writers × in flight)', (r) =>
      `${int(r.generate.entries)} (${r.generate.writers}×${r.generate.inFlight})`],
    ['Generate: writing time', (r) => `${int(r.generate.written)} ms`],
    ['Generate: + hand-over to the source', (r) => `${int(r.generate.handover)} ms`],
    ['Generate: entries/s (writing + hand-over)', (r) => int((r.generate.entries / r.generate.ms) * 1000)],
    ['Festival: resources / booking conflicts', (r) => `${int(r.sync.shape.resources)} / ${int(r.sync.shape.conflicts)}`],
    ['Sync: join → all N held and stored', (r) => `${int(r.sync.ms)} ms`],
    ['Sync: entries/s', (r) => int(r.sync.rate)],
    ['Sync: first usable (festival + resources)', (r) => `${int(r.sync.firstUsable)} ms`],
    ['Sync: all N in memory (before IndexedDB)', (r) => `${int(r.sync.ingested)} ms`],
    ['IndexedDB: stored/s (first commit → last)', (r) => int(r.sync.storeRate)],
    ['IndexedDB: peak stored/s (1 s window)', (r) => int(r.sync.peakStoreRate)],
    ['Page 2 JS heap peak (main thread)', (r) => mib(r.sync.heapPeak)],
    ['Worker wasm memory peak', (r) => mib(r.sync.wasmPeak)],
    ['UA-specific memory peak: all / worker', (r) =>
      r.sync.agentMemory ? `${mib(r.sync.agentMemory.total)} / ${mib(r.sync.agentMemory.worker)}` : 'n/a'],
    ['Long tasks: count / longest (none >100 ms)', (r) =>
      `${mark(r.sync.longTasks.over100 === 0)}${r.sync.longTasks.count} / ${r.sync.longTasks.longest} ms`],
    ['Slowest API call while syncing', (r) => `${int(r.sync.slowestPoll)} ms`],
    ['Sync rate / verify rate (target ≥50%)', (r) =>
      `${mark(r.sync.rate >= verify.perSecond / 2)}${Math.round((r.sync.rate / verify.perSecond) * 100)} %`],
    ['Reopen: openNode → entryCount() = N (≤2 s)', (r) => `${mark(r.sync.reopen.ms <= 2000)}${int(r.sync.reopen.ms)} ms`],
    ['Reopen: waiting for the old worker\'s lock', (r) => `${int(r.sync.reopen.lockWait)} ms`],
    ['Reopen: CPU time of the new worker thread', (r) =>
      (r.sync.reopen.workerCpu == null ? 'n/a' : `${int(r.sync.reopen.workerCpu)} ms`)],
    ['Reopen: worker start + wasm init (before open)', (r) => phase(r, (p) => r.sync.reopen.ms - p.total)],
    ['Reopen: lock + IndexedDB open + key', (r) => phase(r, (p) => p.store)],
    ['Reopen: entries, all (batches)', (r) => phase(r, (p) => p.entries, (p) => ` (${p.batches})`)],
    ['  of which waiting for IndexedDB', (r) => phase(r, (p) => p.read)],
    ['  of which copying into wasm', (r) => phase(r, (p) => p.copy)],
    ['  of which Replica::restore', (r) => phase(r, (p) => p.restore)],
    ['  of which indexing the views once', (r) => phase(r, (p) => p.index)],
    ['Reopen: fork evidence + festivals + node', (r) => phase(r, (p) => p.forksAndFestivals)],
    ['Reopen: IndexedDB read alone (getAll, warm)', (r) => `${int(r.sync.reopen.read.ms)} ms`],
    ['Stored entries (key ‖ entry ‖ payload)', (r) => mib(r.sync.reopen.read.bytes)],
    ['Reopen: worker wasm memory', (r) => mib(r.sync.reopen.wasmBytes)],
  ];
  const phase = (r, pick, suffix = () => '') => {
    const p = r.sync.reopen.phases;
    return p ? `${int(pick(p))} ms${suffix(p)}` : 'n/a';
  };
  const width = Math.max(...rows.map(([label]) => label.length));
  const cells = rows.map(([label, cell]) => [label.padEnd(width), ...results.map((r) => cell(r).padStart(16))]);
  console.log(['Figure'.padEnd(width), ...results.map((r) => `N=${r.n}`.padStart(16))].join(' | '));
  console.log('-'.repeat(width + results.length * 19));
  for (const row of cells) console.log(row.join(' | '));
  console.log();
  console.log(`Verify (ed25519, one thread, verifySignature): ${int(verify.perSecond)} signatures/s`);
  console.log(`Size gzip -9: wasm ${(size.wasm / KiB).toFixed(1)} KiB + JS glue ${(size.glue / KiB).toFixed(1)} KiB` +
    ` = ${mark(size.total <= 250 * KiB)}${(size.total / KiB).toFixed(1)} KiB (target ≤ 250 KiB)`);
  const built = statSync(join(PKG, 'p2panda_wasm_bg.wasm')).mtime.toISOString();
  console.log(`Package built ${built}; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')} on 2 cores`);
}

await main();
