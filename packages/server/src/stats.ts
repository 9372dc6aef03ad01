/**
 * Told of every native request once it is answered: its type, the reply's type (`OK`, `NOT_FOUND`,
 * `ERROR`) and how long the server took over it, in seconds. For metrics; unset, nothing is timed.
 */
export type RequestObserver = (type: string, outcome: string, seconds: number) => void;

/** Counters a server keeps for STATS. */
export class Counters {
  /** See `RequestObserver` (`KvServer#observe` sets it). */
  observer: RequestObserver | undefined;
  /** Told of every log fsync's duration, in seconds (durable servers). */
  fsyncObserver: ((seconds: number) => void) | undefined;
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
