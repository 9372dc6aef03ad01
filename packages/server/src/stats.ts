/** Counters a server keeps for STATS. */
export class Counters {
  readonly started = Date.now();
  connections = 0;
  connectionsTotal = 0;
  connectionsRefused = 0;
  errors = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** One cell per request type, so that a hot path counts with an increment (see `cell`). */
  private readonly ops = new Map<string, { n: number }>();

  /** One more request of `type` (a native message type, or `resp:<command>`). */
  count(type: string): void {
    this.cell(type).n++;
  }

  /** The counter of `type`, to increment directly where a type is known ahead (a command's entry). */
  cell(type: string): { n: number } {
    let cell = this.ops.get(type);
    if (cell === undefined) {
      cell = { n: 0 };
      this.ops.set(type, cell);
    }
    return cell;
  }

  /** Requests handled so far, by type (types not seen yet left out). */
  opsByType(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [type, cell] of this.ops) if (cell.n > 0) out[type] = cell.n;
    return out;
  }
}
