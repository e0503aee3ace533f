// Time helpers. The node speaks UTC milliseconds; people see and type local time.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The widest range `eventsInRange` accepts: JS Date's limits (safe integers for the node's i64). */
export const ALL_TIME = { from: -8.64e15, to: 8.64e15 };

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` of the local day containing `ms`. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight starting the day `key` (`YYYY-MM-DD`), or null if it is not a date. */
export function dayStart(key: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (d.getMonth() !== Number(m[2]) - 1) return null; // e.g. 2027-02-31
  return d.getTime();
}

/** Local midnight ending the day `key` (handles 23/25-hour days around DST changes). */
export function dayEnd(key: string): number | null {
  const start = dayStart(key);
  if (start === null) return null;
  const d = new Date(start);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
}

/** The value a `<input type="datetime-local">` shows for `ms`. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${dayKey(ms)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Parse a `datetime-local` value (`YYYY-MM-DDTHH:mm[:ss]`) as local time; null if invalid. */
export function fromLocalInput(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (date.getMonth() !== mo - 1 || date.getDate() !== d || h > 23 || mi > 59) return null;
  return date.getTime();
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Sat 4 Sep 2027` for a day key. */
export function formatDay(key: string): string {
  const start = dayStart(key);
  if (start === null) return key;
  const d = new Date(start);
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

/** `Sat 4 Sep 2027, 19:00–23:00`, or with both days when it spans midnight. */
export function formatRange(start: number, end: number): string {
  const startDay = dayKey(start);
  const endDay = dayKey(end - 1);
  if (startDay === endDay) return `${formatDay(startDay)}, ${formatTime(start)}–${formatTime(end)}`;
  return `${formatDay(startDay)} ${formatTime(start)} – ${formatDay(dayKey(end))} ${formatTime(end)}`;
}

/** `just now`, `12 s ago`, `3 min ago`, `2 h ago`, or `never`. */
export function formatAgo(then: number | null | undefined, now: number): string {
  if (then == null) return 'never';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 3) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.round(minutes / 60)} h ago`;
}
