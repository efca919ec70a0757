/**
 * A progress percent from a plugin as it is recorded: clamped to 0..100 and rounded to 2 decimals
 * (so `55.00000000000001` reads `55`); `undefined` when it is not a number (or NaN).
 */
export function toPercent(percent: unknown): number | undefined {
  if (typeof percent !== 'number' || Number.isNaN(percent)) return undefined;
  return percent <= 0 ? 0 : percent >= 100 ? 100 : Math.round(percent * 100) / 100;
}

/**
 * {@link toPercent}, for callers that want a throw.
 * @throws TypeError when it is not a number (or NaN): a plugin bug worth failing the job for.
 */
export function clampPercent(percent: unknown): number {
  const value = toPercent(percent);
  if (value === undefined) throw new TypeError(`Expected \`percent\` to be a number, got ${typeof percent === 'number' ? 'NaN' : typeof percent}`);
  return value;
}
