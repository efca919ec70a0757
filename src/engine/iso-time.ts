/**
 * The `YYYY-MM-DDTHH:MM:SS.` prefixes of the last two seconds seen: a job's times fall in one or
 * two seconds, and its expiry in another, so one slot would be replaced at nearly every call.
 */
const seconds = [Number.NaN, Number.NaN];
const prefixes = ['', ''];
let older = 0;
let cachedMs = Number.NaN;
let cachedIso = '';

function prefixOf(second: number): string {
  if (seconds[0] === second) return prefixes[0] as string;
  if (seconds[1] === second) return prefixes[1] as string;
  const slot = older;
  older = 1 - older;
  seconds[slot] = second;
  return (prefixes[slot] = new Date(second).toISOString().slice(0, 20));
}

/**
 * ISO 8601 for epoch ms, like `new Date(ms).toISOString()` but several times cheaper: the
 * `YYYY-MM-DDTHH:MM:SS.` part is computed once per second (two seconds are kept).
 */
export function isoTime(ms: number): string {
  if (ms === cachedMs) return cachedIso; // the times of one job are often the same millisecond
  const whole = Math.floor(ms);
  if (whole < 0 || whole > 253_402_300_799_999) return new Date(ms).toISOString(); // outside years 1970-9999
  const second = whole - (((whole % 1000) + 1000) % 1000);
  const milli = whole - second;
  cachedMs = ms;
  cachedIso = `${prefixOf(second)}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  return cachedIso;
}
