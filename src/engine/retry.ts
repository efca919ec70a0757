/** Waits between tries of a write a worker must not give up on (the last one repeats). */
const RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 5_000];

/** The wait before try `attempt + 1` (from 0). */
export function retryDelay(attempt: number): number {
  return RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)] as number;
}
