// Browser benchmark of the S3 mailbox: page A writes a festival of N entries and pushes it to a
// real S3-compatible server (s3s-fs on 127.0.0.1, p2panda-s3's test server); page B, which never
// connects to A, pulls it (download, open, verify, store in IndexedDB). Prints a table.
//
//   BENCH_MAILBOX_ENTRIES=5000 npm run bench:mailbox     (needs: build-wasm.sh, and
//   cargo build -p p2panda-s3 --features test-server --bins)
import { launchBrowser, nodeInNewContext, startS3Server, startStaticServer } from '../browser-tests/harness.mjs';

const N = Number(process.env.BENCH_MAILBOX_ENTRIES ?? 5000);

const server = await startStaticServer();
const s3 = await startS3Server();
const browser = await launchBrowser();
const config = {
  endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey,
};
try {
  const node = async (name) => (await nodeInNewContext(browser, server.url, { name })).page;
  const a = await node('bench-mailbox-a');
  const festival = await a.evaluate(async (n) => {
    const f = await window.node.createFestival({ name: 'Bench fair' });
    for (let i = 1; i < n; i += 1)
      await window.node.createResource(f, { name: `Item ${i}`, description: 'a'.repeat(i % 200), kind: { type: 'item' } });
    return f;
  }, N);
  const pushed = await a.evaluate(async ({ f, config }) => {
    let t = performance.now();
    const mailbox = await window.node.mailbox(f, config);
    const load = performance.now() - t;
    t = performance.now();
    const report = await mailbox.push();
    const push = performance.now() - t;
    t = performance.now();
    const again = await mailbox.push();
    return { load, push, report, again, nothing: performance.now() - t };
  }, { f: festival, config });
  const b = await node('bench-mailbox-b');
  const pulled = await b.evaluate(async ({ f, config }) => {
    await window.node.joinFestival(f);
    const mailbox = await window.node.mailbox(f, config);
    let t = performance.now();
    const report = await mailbox.pull();
    const pull = performance.now() - t;
    // Until IndexedDB holds every entry (saving follows storing).
    while ((await window.node.progress()).entriesStored < report.entries) await new Promise((r) => setTimeout(r, 20));
    const stored = performance.now() - t;
    t = performance.now();
    const again = await mailbox.pull();
    return { pull, stored, report, again, nothing: performance.now() - t };
  }, { f: festival, config });
  const rate = (n, ms) => `${Math.round((n / ms) * 1000).toLocaleString('en')} entries/s`;
  const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
  console.log(`Mailbox, ${N} entries (headless Chromium ⇄ s3s-fs on 127.0.0.1):`);
  console.log(`  module load (first node.mailbox call)   ${pushed.load.toFixed(0)} ms`);
  console.log(`  push: ${pushed.report.bundles} objects, ${kb(pushed.report.bytes)}   ${pushed.push.toFixed(0)} ms (${rate(pushed.report.entries, pushed.push)})`);
  console.log(`  push again, nothing new                 ${pushed.nothing.toFixed(0)} ms (${pushed.again.entries} entries)`);
  console.log(`  pull: verified and stored               ${pulled.pull.toFixed(0)} ms (${rate(pulled.report.entries, pulled.pull)})`);
  console.log(`  pull, until IndexedDB holds them        ${pulled.stored.toFixed(0)} ms (${rate(pulled.report.entries, pulled.stored)})`);
  console.log(`  pull again, nothing new                 ${pulled.nothing.toFixed(0)} ms (${pulled.again.entries} entries)`);
  if (pulled.report.entries !== N) throw new Error(`pulled ${pulled.report.entries} of ${N}`);
} finally {
  await browser.close();
  await s3.stop();
  await server.close();
}
