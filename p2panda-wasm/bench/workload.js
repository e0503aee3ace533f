// A festival's worth of writes through the public JS API: a few resources, many events (some
// requesting resources, which the owner then grants while free or denies), event updates and
// cancellations, now and then a resource change. `seed` shapes it; with several calls in flight
// their order (and so the ids) varies from run to run.
//
// Every entry comes from exactly one API call (resources use the 'manual' policy, so nothing is
// answered automatically), which is what lets a writer stop at an exact entry count.

const DAY = 86_400_000;
const OPENING = Date.UTC(2026, 6, 1, 8); // first day of the festival, 08:00 UTC
const WORDS = (
  'harvest lantern meadow workshop stage barn tent music dance choir fire circle kitchen bread ' +
  'compost repair bicycle poetry film children yoga market swap drums pottery weaving garden ' +
  'solar water forest night morning tea circus puppet radio map cleanup welcome closing'
).split(' ');

/** mulberry32: small, fast, good enough to shape a workload. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Write exactly `count` entries to `festival` as `node`'s user. `inFlight` calls are kept
 * waiting at once (the node still commits them one by one; this only hides the page ↔ worker
 * round trip). `onProgress(written)` is called now and then.
 */
export async function writeShare(node, festival, { count, seed = 1, inFlight = 16, careless = false, onProgress }) {
  const rnd = random(seed);
  const pick = (list) => list[Math.floor(rnd() * list.length)];
  const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const slot = () => {
    const start = OPENING + Math.floor(rnd() * 4) * DAY + Math.floor(rnd() * 56) * 15 * 60_000;
    return { start, end: start + (2 + Math.floor(rnd() * 10)) * 15 * 60_000 };
  };
  const resourceInput = (i) => {
    const type = pick(['location', 'location', 'item', 'skill']);
    const kind = type === 'location'
      ? { type, address: `Field ${i}, ${words(2)} lane`, geo: { lat: 52.5 + rnd() / 100, lon: 13.4 + rnd() / 100 } }
      : { type };
    return { name: `${words(2)} ${i}`, description: words(8), kind, policy: 'manual' };
  };

  const resources = [];
  const granted = new Map(); // resource → [{ start, end }] this owner granted
  const book = (resource, { start, end }) => {
    const slots = granted.get(resource) ?? [];
    if (slots.some((s) => s.start < end && start < s.end)) return false;
    granted.set(resource, [...slots, { start, end }]);
    return true;
  };
  const plainEvents = []; // events without requests: free to update or cancel
  let reserved = 0;
  let written = 0;
  const done = (n) => {
    written += n;
    if (written % 500 < n) onProgress?.(written);
  };

  // A few resources first, so events have something to request.
  const initial = Math.min(count, Math.max(3, Math.round(count / 200)));
  reserved = initial;
  for (let i = 0; i < initial; i++) {
    resources.push(await node.createResource(festival, resourceInput(i)));
    done(1);
  }

  // One chain of calls after the other; `inFlight` chains run at once.
  async function chain() {
    for (;;) {
      const left = count - reserved;
      if (left <= 0) return;
      const roll = rnd();
      if (roll < 0.2 && left >= 3) {
        // An event asking for one or two resources, then the owner's answers.
        const wanted = [...new Set([pick(resources), pick(resources)])];
        reserved += 1 + wanted.length;
        const times = slot();
        const event = await node.createEvent(festival, { title: words(3), description: words(12), ...times, resources: wanted });
        for (const resource of wanted) {
          // Like a careful owner: grant only what is still free (now and then not even that).
          // A `careless` one grants overlapping bookings too, which makes conflicts.
          const grant = rnd() < 0.95 && (careless || book(resource, times));
          await node.authorize(festival, { event, resource, decision: grant ? 'grant' : 'deny', reason: grant ? undefined : 'taken' });
        }
        done(1 + wanted.length);
      } else if (roll < 0.35 && plainEvents.length > 0) {
        reserved += 1;
        await node.updateEvent(festival, pick(plainEvents), { title: words(3), ...slot() });
        done(1);
      } else if (roll < 0.38 && plainEvents.length > 0) {
        reserved += 1;
        const event = plainEvents.splice(Math.floor(rnd() * plainEvents.length), 1)[0];
        await node.cancelEvent(festival, event);
        done(1);
      } else if (roll < 0.4) {
        reserved += 1;
        if (rnd() < 0.5) resources.push(await node.createResource(festival, resourceInput(resources.length)));
        else await node.updateResource(festival, pick(resources), { description: words(10) });
        done(1);
      } else {
        reserved += 1;
        plainEvents.push(await node.createEvent(festival, { title: words(3), description: words(12), ...slot() }));
        done(1);
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, chain));
  onProgress?.(written);
  return written;
}
