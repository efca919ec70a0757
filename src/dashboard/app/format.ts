/** How times, durations and numbers read on the page. */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A duration, short: `850 ms`, `4.2 s`, `3 m 05 s`, `2 h 10 m`, `3 d 4 h`.
 * @example
 * ```ts
 * formatDuration(1_530); // '1.5 s'
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < SECOND) return `${ms < 10 ? ms.toFixed(1).replace(/\.0$/, '') : Math.round(ms)} ms`;
  if (ms < MINUTE) return `${(ms / SECOND).toFixed(ms < 10 * SECOND ? 1 : 0)} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} m ${String(Math.floor((ms % MINUTE) / SECOND)).padStart(2, '0')} s`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ${String(Math.floor((ms % HOUR) / MINUTE)).padStart(2, '0')} m`;
  return `${Math.floor(ms / DAY)} d ${Math.floor((ms % DAY) / HOUR)} h`;
}

/** Milliseconds since the epoch of an ISO time, or NaN. */
export function timeOf(iso: string | undefined): number {
  return iso === undefined ? Number.NaN : Date.parse(iso);
}

/** How long ago (or, in the future, how soon): `now`, `12 s ago`, `in 3 m`. */
export function formatRelative(iso: string | undefined, now: number): string {
  const at = timeOf(iso);
  if (Number.isNaN(at)) return '—';
  const delta = now - at;
  const size = Math.abs(delta);
  if (size < 2 * SECOND) return 'now';
  let text: string;
  if (size < MINUTE) text = `${Math.floor(size / SECOND)} s`;
  else if (size < HOUR) text = `${Math.floor(size / MINUTE)} m`;
  else if (size < DAY) text = `${Math.floor(size / HOUR)} h`;
  else text = `${Math.floor(size / DAY)} d`;
  return delta >= 0 ? `${text} ago` : `in ${text}`;
}

/** A local date and time with seconds, for tooltips and the detail panel. */
export function formatTime(iso: string | undefined): string {
  const at = timeOf(iso);
  if (Number.isNaN(at)) return '—';
  return new Date(at).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A local time of day with milliseconds, for the timeline. */
export function formatClock(iso: string | undefined): string {
  const at = timeOf(iso);
  if (Number.isNaN(at)) return '—';
  const date = new Date(at);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A count with thousands separators; large ones shortened: `1,234`, `12.3k`, `4.5M`. */
export function formatCount(value: number): string {
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
  if (value >= 10_000) return `${(value / 1_000).toFixed(1).replace(/\.0$/, '')}k`;
  return value.toLocaleString('en-US');
}

/** A rate per minute: `0`, `0.4`, `12`, `1.2k`. */
export function formatRate(perMinute: number): string {
  if (perMinute === 0) return '0';
  if (perMinute < 10) return perMinute.toFixed(1).replace(/\.0$/, '');
  return formatCount(Math.round(perMinute));
}

/** A progress value as the page shows it: a whole percent, from 0 to 100. */
export function formatPercent(progress: number): string {
  return `${Math.round(Math.min(100, Math.max(0, progress)))}%`;
}

/** The first characters of an id: enough to tell jobs apart in a list. */
export function shortId(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

/** A JSON value as readable text (two-space indentation); strings as they are. */
export function formatJson(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}
