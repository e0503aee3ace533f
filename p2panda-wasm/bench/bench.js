// The benchmark page's API, `window.bench`, driven by run.mjs (or by hand from the console).
// Each step runs in this page and returns plain figures; times are milliseconds.
import { openNode } from '/pkg/index.js';
import init, { KeyPair, verifySignature } from '/pkg/p2panda_wasm.js';
import { writeShare } from './workload.js';
import { usedHeap, watchAgentMemory, watchLongTasks } from './monitor.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line) => {
  document.querySelector('#log').textContent += line + '\n';
};
let node = null;

/** Open this page's node (options as for `openNode`); resolves to its public key. */
async function open(options) {
  const started = performance.now();
  node = await openNode({ loopbackOnly: true, broadcastChannel: false, ...options });
  node.on('error', (e) => log(`error ${e.code}: ${e.message}`));
  log(`opened ${node.name} in ${Math.round(performance.now() - started)} ms`);
  return node.publicKey;
}

async function createFestival(name) {
  return node.createFestival({ name, description: 'A benchmark festival' });
}

/** Join `festival`; with `wait`, until its creation arrived (so this node can write into it). */
async function join(festival, { wait = true, timeout = 60_000 } = {}) {
  await node.joinFestival(festival);
  if (!wait) return;
  const deadline = performance.now() + timeout;
  while (!((await node.festival(festival))?.pending === false)) {
    if (performance.now() > deadline) throw new Error('the festival did not arrive');
    await sleep(50);
  }
}

/** Write `count` entries into `festival` (see workload.js); resolves to the time it took. */
async function write({ festival, count, seed, inFlight, careless }) {
  const started = performance.now();
  const written = await writeShare(node, festival, {
    count, seed, inFlight, careless, onProgress: (n) => (document.title = `wrote ${n}`),
  });
  const ms = performance.now() - started;
  log(`wrote ${written} entries in ${Math.round(ms)} ms`);
  return { written, ms };
}

/** Wait until this node holds `n` entries (e.g. a source gathering its writers' shares). */
async function waitForEntries(n, timeout = 600_000) {
  const deadline = performance.now() + timeout;
  while ((await node.entryCount()) < n) {
    if (performance.now() > deadline) throw new Error(`fewer than ${n} entries after ${timeout} ms`);
    await sleep(200);
  }
  return node.entryCount();
}

/**
 * The fresh node joins `festival` and syncs its `n` entries. Polls every `everyMs`: entries held
 * and stored, this page's heap; watches long tasks and the browser's memory measurement.
 */
async function follow({ festival, n, everyMs = 100, timeout = 600_000 }) {
  const stopLongTasks = watchLongTasks();
  const stopAgentMemory = watchAgentMemory();
  const samples = []; // [ms since join, entriesReceived, entriesStored, entryCount, heap bytes]
  let firstUsable = null;
  let slowestPoll = 0;
  const started = performance.now();
  await node.joinFestival(festival);
  for (;;) {
    const asked = performance.now();
    const [count, progress] = await Promise.all([node.entryCount(), node.progress()]);
    slowestPoll = Math.max(slowestPoll, performance.now() - asked);
    const at = performance.now() - started;
    samples.push([Math.round(at), progress.entriesReceived, progress.entriesStored, count, usedHeap()]);
    if (firstUsable === null) {
      const info = await node.festival(festival);
      if (info && !info.pending && (await node.resources(festival)).length > 0) {
        firstUsable = performance.now() - started;
      }
    }
    if (count === n && progress.entriesStored === n) break;
    if (at > timeout) throw new Error(`sync incomplete after ${timeout} ms: ${JSON.stringify(progress)}`);
    document.title = `synced ${progress.entriesStored}`;
    await sleep(everyMs);
  }
  const ms = performance.now() - started;
  const longTasks = stopLongTasks();
  const agentMemory = await stopAgentMemory();
  log(`synced ${n} entries in ${Math.round(ms)} ms`);
  const shape = {
    resources: (await node.resources(festival)).length,
    conflicts: (await node.conflicts(festival)).length,
  };
  return { ms, firstUsable, slowestPoll, longTasks, agentMemory, shape, samples };
}

/**
 * Open the stored node `name` again (after a reload) and time it until it holds `n` entries.
 * Right after a reload the old page's Worker may still hold the store's lock: retry on
 * STORE_IN_USE, and report that wait apart.
 */
async function reopen({ name, n }) {
  const reloaded = performance.now();
  for (;;) {
    const started = performance.now();
    try {
      await open({ name });
    } catch (error) {
      if (error.code !== 'STORE_IN_USE' || started - reloaded > 10_000) throw error;
      await sleep(20);
      continue;
    }
    await waitForEntries(n);
    return { ms: performance.now() - started, lockWait: started - reloaded };
  }
}

/**
 * For comparison with `reopen`: read the stored entries of node `name` straight from IndexedDB
 * the way the node loads them (`getAll` in batches of 4,000), without decoding them. Relies on
 * the store's layout (database `p2panda:<name>`, object store `entries`, see src/store).
 */
async function readEntries({ name, batch = 4_000 }) {
  const started = performance.now();
  const done = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const db = await done(indexedDB.open(`p2panda:${name}`));
  const store = db.transaction('entries').objectStore('entries');
  let count = 0;
  let bytes = 0;
  let range;
  for (;;) {
    const values = await done(store.getAll(range, batch));
    count += values.length;
    for (const value of values) bytes += value.byteLength;
    if (values.length < batch) break;
    range = IDBKeyRange.lowerBound(values.at(-1).slice(0, 48), true);
  }
  db.close();
  return { ms: performance.now() - started, count, bytes };
}

/**
 * ed25519 verifications per second on this thread, through the exported `verifySignature`:
 * `distinct` messages of entry size by a few authors, verified round-robin `count` times.
 */
async function verifyRate({ count, distinct = 1000, messageBytes = 250 }) {
  await init();
  const keys = Array.from({ length: 8 }, () => new KeyPair());
  const signed = Array.from({ length: distinct }, (_, i) => {
    const message = crypto.getRandomValues(new Uint8Array(messageBytes));
    const key = keys[i % keys.length];
    return [key.publicKey(), message, key.sign(message)];
  });
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const [publicKey, message, signature] = signed[i % distinct];
    if (!verifySignature(publicKey, message, signature)) throw new Error('a good signature failed');
  }
  const ms = performance.now() - started;
  log(`verified ${count} signatures in ${Math.round(ms)} ms`);
  return { ms, perSecond: (count / ms) * 1000 };
}

async function close() {
  await node?.close();
  node = null;
}

window.bench = {
  open, createFestival, join, write, waitForEntries, follow, reopen, readEntries, verifyRate, close,
  entryCount: () => node.entryCount(),
  // Pairing by invite code (run.mjs carries the codes between pages).
  createInvite: () => node.createInvite(),
  acceptInvite: (code) => node.acceptInvite(code),
  completeInvite: (answer) => node.completeInvite(answer),
};
document.title = 'ready';
