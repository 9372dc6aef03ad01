/** Counters a server keeps for STATS. */
export class Counters {
  readonly started = Date.now();
  connections = 0;
  connectionsTotal = 0;
  connectionsRefused = 0;
  errors = 0;
  bytesIn = 0;
  bytesOut = 0;
  private readonly ops: Record<string, number> = {};

  /** One more request of `type` (a native message type, or `resp:<command>`). */
  count(type: string): void {
    this.ops[type] = (this.ops[type] ?? 0) + 1;
  }

  /** Requests handled so far, by type. */
  opsByType(): Record<string, number> {
    return { ...this.ops };
  }
}
