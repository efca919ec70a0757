/**
 * A progress percent from a plugin as it is recorded: clamped to 0..100 and rounded to 2 decimals
 * (so `55.00000000000001` reads `55`); `undefined` when it is not a number (or NaN).
 */
export function toPercent(percent: unknown): number | undefined {
  if (typeof percent !== 'number' || Number.isNaN(percent)) return undefined;
  return percent <= 0 ? 0 : percent >= 100 ? 100 : Math.round(percent * 100) / 100;
}

/** How a value a plugin passed to `ctx.progress` reads in an error message. */
function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === null ? 'null' : typeof value;
}

/** The message of the `PLUGIN_FAILED` a job gets for a `ctx.progress` value that is not a number. */
export function invalidProgressMessage(percent: unknown): string {
  return `ctx.progress expects a number from 0 to 100, got ${describe(percent)}`;
}
