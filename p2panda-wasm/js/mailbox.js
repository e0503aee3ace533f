// S3 store-and-forward for one festival (`node.mailbox(festival, config)` loads this on first
// use, with its own small WebAssembly module): peers that are never online together converge
// through any S3-compatible bucket. The module plans, seals and opens objects; this file moves
// them; the node verifies and stores what arrives, as if a peer had sent it.
import init, { Planner } from './p2panda_mailbox.js';
import { S3Client } from './s3.js';

let loaded;

/** Requests in flight at once. */
const CONCURRENCY = 4;

/** Refusals that mean the object is damaged (or forged by a key holder), not another key's. */
const DAMAGE = new Set(['MAILBOX_CORRUPTED', 'MAILBOX_MALFORMED']);

async function mapLimit(items, limit, run) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await run(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Writer states in use by an open mailbox (one writer, one instance: see `#open`). */
const writersInUse = new Set();

export async function openMailbox(node, call, festival, config = {}) {
  loaded ??= init(config.wasmUrl);
  await loaded;
  return new Mailbox(node, call, festival, new S3Client(config), config);
}

/** localStorage, or nothing (storage disabled: every start is a new writer). */
function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

export class Mailbox {
  #node;
  #call;
  #client;
  #planner = null;
  #plannerKey = null;
  /** The storage key of this mailbox's writer state, while this mailbox is that writer. */
  #writer = null;
  /** What to forward after a rotation (see `#open`), and the older keys' planners by key. */
  #forward = { topic: null, older: [], creation: [] };
  #forwarders = new Map();
  #turn = Promise.resolve();
  #pulls = 0;
  #timer = null;
  #unsubscribe = null;
  #pushSoon = null;

  constructor(node, call, festival, client, options) {
    this.#node = node;
    this.#call = call;
    this.#client = client;
    this.festival = festival;
    this.listEvery = options.listEvery ?? 10;
  }

  /** One push or pull at a time: each works from what the one before it learned. */
  #serial(run) {
    const result = this.#turn.then(run);
    this.#turn = result.catch(() => {});
    return result;
  }

  /** The planner for the festival's current key (a new key, learned or rotated: a new mailbox). */
  async #open() {
    const [topic, key, older, creationAuthor, creationLogId, ...logs] =
      await this.#call('mailboxLogs', [this.festival]);
    // After a rotation: the creation log (with the key shares) also goes to the older keys'
    // mailboxes, where members who have not learned the new key yet still look.
    const at = logs.findIndex((v, i) => i % 3 === 0 && v === creationAuthor && logs[i + 1] === creationLogId);
    this.#forward = { topic, older, creation: at < 0 ? [] : logs.slice(at, at + 3) };
    const id = `${topic}:${key}`;
    if (this.#plannerKey !== id) {
      this.#release();
      this.#planner = new Planner(topic, key ?? undefined);
      this.#plannerKey = id;
      // Go on as this node's writer of this mailbox from its last run, unless another open
      // mailbox is that writer now (two instances of one writer would overwrite its index).
      const writer = `p2panda.mailbox-writer:${this.#node.name}:${this.#client.endpoint.origin}/${this.#client.bucket}/${this.#client.prefix}:${this.#planner.indexesPrefix}`;
      if (!writersInUse.has(writer)) {
        writersInUse.add(writer);
        this.#writer = writer;
        const saved = storage()?.getItem(writer);
        if (saved) this.#planner.resumeWriter(fromHex(saved));
      }
    }
    this.#planner.setLogs(logs);
    return this.#planner;
  }

  /** The planner of an older key's mailbox, to forward the creation log to. */
  #forwarder(key) {
    let planner = this.#forwarders.get(key);
    if (!planner) this.#forwarders.set(key, (planner = new Planner(this.#forward.topic, key)));
    planner.setLogs(this.#forward.creation);
    return planner;
  }

  async #readIndexes(planner, rejected) {
    const listed = await this.#client.list(planner.indexesPrefix);
    const etags = new Map(listed.map((l) => [l.name, l.etag]));
    const names = planner.indexReads(listed.map((l) => l.name), listed.map((l) => l.etag ?? null));
    const bodies = await mapLimit(names, CONCURRENCY, (name) => this.#client.get(name, planner.maxObjectSize));
    names.forEach((name, i) => {
      const body = bodies[i];
      if (body === null) return; // gone since the LIST: its writer's bundles are found by listing
      const refusal = body.tooLarge
        ? tooLarge(name, body.tooLarge, planner.maxObjectSize)
        : planner.takeIndex(name, etags.get(name) ?? undefined, body);
      if (refusal) rejected.push(refusal);
    });
    return names.length;
  }

  /**
   * Upload every entry of the festival the bucket is not known to hold (and, after a rotation,
   * the creation log to the older keys' mailboxes).
   */
  push() {
    return this.#serial(async () => {
      const report = await this.#upload(await this.#open());
      if (this.#forward.creation.length) {
        for (const key of this.#forward.older) await this.#upload(this.#forwarder(key));
      }
      return report;
    });
  }

  async #upload(planner) {
    const report = { bundles: 0, entries: 0, bytes: 0, index: false, indexesRead: 0 };
    report.indexesRead = await this.#readIndexes(planner, []);
    const needs = planner.uploadNeeds();
    for (let i = 0; i < needs.length; i += 3) {
      const [author, logId, after] = needs.slice(i, i + 3);
      const entries = await this.#call('mailboxEntries', [this.festival, author, logId, after]);
      planner.addEntries(author, logId, after, entries);
    }
    const puts = planner.planUpload();
    const stored = [];
    let failure = null;
    await mapLimit(puts, CONCURRENCY, async (put) => {
      try {
        await this.#client.put(put.name, put.bytes);
        stored.push(put.name);
        report.bundles += 1;
        report.entries += put.entries;
        report.bytes += put.bytes.length;
      } catch (error) {
        failure ??= error;
      }
    });
    // The index records what made it, even when something failed.
    const index = planner.uploaded(stored);
    if (index) {
      await this.#client.put(index.name, index.bytes);
      planner.indexUploaded();
      report.index = true;
    }
    if (planner === this.#planner && this.#writer && stored.length) {
      try {
        storage()?.setItem(this.#writer, toHex(planner.writerState()));
      } catch {
        // Storage full or disabled: the next start is a new writer, which costs an index.
      }
    }
    if (failure) throw failure;
    return report;
  }

  /**
   * Download and store what this node lacks. Entries are stored as they arrive, so a pull that
   * fails half-way keeps them. Refused objects and entries are listed in the report; nothing of
   * them is used.
   */
  pull({ full = false } = {}) {
    return this.#serial(async () => {
      const planner = await this.#open();
      const report = {
        indexesRead: 0, listed: false, bundles: 0, bytes: 0, entries: 0, duplicates: 0, missing: 0,
        rejectedObjects: [], removed: 0, rejectedEntries: [],
      };
      report.indexesRead = await this.#readIndexes(planner, report.rejectedObjects);
      // An index that cannot be read hides its writer's bundles: find them by listing.
      report.listed =
        full || this.#pulls % this.listEvery === 0 || report.rejectedObjects.length > 0;
      const listed = report.listed
        ? (await this.#client.list(planner.bundlesPrefix)).map((l) => l.name)
        : undefined;
      let names = planner.planDownload(listed, true);
      while (names.length) {
        const bodies = await mapLimit(names, CONCURRENCY, (name) =>
          this.#client.get(name, planner.maxObjectSize));
        const damaged = [];
        names.forEach((name, i) => {
          const body = bodies[i];
          if (body instanceof Uint8Array) {
            report.bundles += 1;
            report.bytes += body.length;
          }
          if (body?.tooLarge) {
            planner.takeBundle(name, undefined); // unusable: not planned again
            report.rejectedObjects.push(tooLarge(name, body.tooLarge, planner.maxObjectSize));
            return;
          }
          const refusal = planner.takeBundle(name, body ?? undefined);
          if (refusal?.code === 'MAILBOX_MISSING') report.missing += 1;
          else if (refusal) report.rejectedObjects.push(refusal);
          if (DAMAGE.has(refusal?.code)) damaged.push(name);
        });
        // A damaged bundle helps no one: deleted (if the key may), its writer finds it gone at
        // its next full listing and uploads those entries again.
        const removed = await mapLimit(damaged, CONCURRENCY, (name) =>
          this.#client.delete(name).then(() => true, () => false));
        report.removed += removed.filter(Boolean).length;
        await this.#store(planner, report);
        names = planner.planDownload(undefined, false);
      }
      // Some servers answer a GET in a deleted bucket with "no such key": tell that apart from
      // a few deleted objects (this LIST throws S3_NO_SUCH_BUCKET then).
      if (report.missing > 0) await this.#client.list(planner.indexesPrefix);
      this.#pulls += 1;
      return report;
    });
  }

  /** Hand every bundle that continues what the node holds to the node, log by log. */
  async #store(planner, report) {
    for (let bundle = planner.nextReady(); bundle; bundle = planner.nextReady()) {
      const { author, logId, first, entries } = bundle;
      const [stored, duplicates, height, code, seq, message] = await this.#call('mailboxIngest', [
        this.festival, author, logId, first, entries,
      ]);
      planner.setHeight(author, logId, height);
      report.entries += stored;
      report.duplicates += duplicates;
      if (code) report.rejectedEntries.push({ code, author, logId, seq, message });
    }
  }

  /**
   * Keep the mailbox in step: pull now and every `everyMs`, push soon after each change of the
   * festival. Each finished round goes to `onSync('pull' | 'push', report)`; failures (the
   * bucket unreachable, access denied…) to `onError`, and the next round tries again.
   */
  start({ everyMs = 30_000, onError = () => {}, onSync = () => {} } = {}) {
    this.stop();
    const run = (what) =>
      this[what]().then((report) => onSync(what, report), onError);
    run('pull').then(() => run('push'));
    this.#timer = setInterval(() => run('pull'), everyMs);
    this.#unsubscribe = this.#node.subscribe(this.festival, () => {
      clearTimeout(this.#pushSoon);
      this.#pushSoon = setTimeout(() => run('push'), 1_000);
    });
  }

  /** Stop what `start` started. */
  stop() {
    clearInterval(this.#timer);
    clearTimeout(this.#pushSoon);
    this.#unsubscribe?.();
    this.#timer = this.#unsubscribe = null;
  }

  #release() {
    for (const planner of this.#forwarders.values()) planner.free();
    this.#forwarders.clear();
    this.#planner?.free();
    this.#planner = null;
    this.#plannerKey = null;
    if (this.#writer) writersInUse.delete(this.#writer);
    this.#writer = null;
  }

  /** Stop, and free the module's memory for this mailbox. */
  async close() {
    this.stop();
    await this.#turn;
    this.#release();
  }
}

function tooLarge(name, size, max) {
  return {
    code: 'MAILBOX_TOO_LARGE',
    name,
    message: `object ${name} is ${size} bytes, more than the ${max} a mailbox object may have`,
  };
}
