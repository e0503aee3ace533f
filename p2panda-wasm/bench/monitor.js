// What page 2 watches while it syncs: main-thread long tasks, its JS heap, and (when the page is
// cross-origin isolated) the browser's own memory measurement, which also counts the Worker.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Count long tasks on this page's main thread from now on; call the result to stop. */
export function watchLongTasks() {
  const durations = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) durations.push(entry.duration);
  });
  observer.observe({ type: 'longtask' });
  return () => {
    observer.disconnect();
    return {
      count: durations.length,
      longest: Math.round(Math.max(0, ...durations)),
      over100: durations.filter((d) => d > 100).length,
    };
  };
}

/** This page's used JS heap now (needs --enable-precise-memory-info for exact figures). */
export const usedHeap = () => performance.memory?.usedJSHeapSize ?? 0;

/**
 * Measure with `performance.measureUserAgentSpecificMemory()` until `stop()` is called; resolves
 * to the peak total and peak Worker share in bytes, or null where the API is unavailable (it
 * needs cross-origin isolation).
 */
export function watchAgentMemory(everyMs = 1000) {
  if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) {
    return () => Promise.resolve(null);
  }
  let running = true;
  const peak = { total: 0, worker: 0, measurements: 0 };
  const loop = (async () => {
    while (running) {
      const result = await performance.measureUserAgentSpecificMemory();
      const worker = result.breakdown
        .filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope'))
        .reduce((sum, b) => sum + b.bytes, 0);
      peak.total = Math.max(peak.total, result.bytes);
      peak.worker = Math.max(peak.worker, worker);
      peak.measurements++;
      await sleep(everyMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}
