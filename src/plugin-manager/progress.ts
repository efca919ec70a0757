/**
 * A progress percent from a plugin, clamped to 0..100.
 * @throws TypeError when it is not a number (or NaN): a plugin bug worth failing the job for.
 */
export function clampPercent(percent: unknown): number {
  if (typeof percent !== 'number' || Number.isNaN(percent)) {
    throw new TypeError(`Expected \`percent\` to be a number, got ${typeof percent === 'number' ? 'NaN' : typeof percent}`);
  }
  return percent < 0 ? 0 : percent > 100 ? 100 : percent;
}
