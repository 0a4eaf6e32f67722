/** Back-off before attempt `attempt + 1`: base, 2×base, 4×base ... never more than `maxMs`. `attempt` counts from 1. */
export function retryDelay(attempt: number, baseMs: number, maxMs: number): number {
  const exponent = Math.max(0, attempt - 1);
  // 2 ** 1024 is Infinity; Math.min copes, but keep the arithmetic finite for readability in logs.
  return Math.min(maxMs, baseMs * 2 ** Math.min(exponent, 52));
}
