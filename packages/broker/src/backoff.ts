/**
 * The wait before retry number `attempt` (0 first): `minMs` doubling up to `maxMs`, with ±25% jitter so
 * that brokers do not retry in step. Reconnects and a load's batch retries both wait so.
 */
export function backoff(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** attempt) * (0.75 + Math.random() / 2);
}
