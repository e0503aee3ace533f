// Synthetic festival content for the schedule benchmark: N events spread over locations and
// days without overlaps per location, titles varied enough for search to do real work.
import { DAY } from './time';

export const BENCH_LOCATIONS = 12;
export const BENCH_DAYS = 30;
const TOPICS = ['jazz', 'poetry', 'repair café', 'kids', 'dance', 'film', 'talk', 'workshop', 'yoga', 'choir'];

export interface BenchEvent {
  title: string;
  start: number;
  end: number;
  /** Index into the bench locations. */
  location: number;
}

export function benchEvent(i: number, count: number, base: number): BenchEvent {
  const location = i % BENCH_LOCATIONS;
  const perLocationDay = Math.ceil(count / (BENCH_LOCATIONS * BENCH_DAYS));
  const slot = Math.floor(DAY / perLocationDay);
  const day = Math.floor(i / BENCH_LOCATIONS) % BENCH_DAYS;
  const index = Math.floor(i / (BENCH_LOCATIONS * BENCH_DAYS));
  const start = base + day * DAY + index * slot;
  return {
    title: `Session ${i + 1}: ${TOPICS[i % TOPICS.length]}`,
    start,
    end: start + Math.max(60_000, Math.floor(slot * 0.8)),
    location,
  };
}

/** Frame statistics of a scroll run: frame gaps in ms. */
export function frameStats(gaps: number[]): { frames: number; avg: number; p95: number; max: number; long: number } {
  if (!gaps.length) return { frames: 0, avg: 0, p95: 0, max: 0, long: 0 };
  const sorted = [...gaps].sort((a, b) => a - b);
  return {
    frames: gaps.length,
    avg: gaps.reduce((s, g) => s + g, 0) / gaps.length,
    p95: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))],
    max: sorted[sorted.length - 1],
    long: gaps.filter((g) => g > 50).length,
  };
}
