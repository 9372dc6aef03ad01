import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * What a proxy does to the traffic through it:
 * - `pass`: forwards both ways.
 * - `delay`: forwards both ways, every chunk `ms` later (order kept).
 * - `drop`: resets every connection through it and every new one, as a dead link or a firewall's REJECT.
 * - `blackhole`: accepts and keeps connections but forwards nothing either way, as a partition where
 *   packets vanish; when it ends, the connections that lost bytes are reset (their streams have holes).
 */
export type ProxyMode =
  { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'drop' } | { kind: 'blackhole' };

/** One direction of a proxied connection: chunks wait in order until their release time. */
class Lane {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly to: Socket) {}

  push(chunk: Buffer, delayMs: number): void {
    if (delayMs <= 0 && this.queue.length === 0) {
      this.to.write(chunk);
      return;
    }
    this.queue.push({ at: Date.now() + delayMs, chunk });
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const head = this.queue[0] as { at: number };
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const now = Date.now();
        while (this.queue.length > 0 && (this.queue[0] as { at: number }).at <= now) {
          this.to.write((this.queue.shift() as { chunk: Buffer }).chunk);
        }
        this.schedule();
      },
      Math.max(0, head.at - Date.now()),
    );
  }
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** Bytes were swallowed by a blackhole: the streams are broken once it ends. */
  holed: boolean;
  lanes: Lane[];
}

/**
 * A TCP proxy on 127.0.0.1 (port 0) in front of one server, with faults that can be switched at any
 * time. The upstream port can change (a restarted server listens on a new one); connections made after
 * the change go there.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private modeValue: ProxyMode = { kind: 'pass' };
  /** Connections accepted since the start (for tests and reports). */
  accepted = 0;
  /** Bytes a blackhole swallowed since the start. */
  swallowed = 0;

  constructor(
    private upstreamPort: number,
    private readonly upstreamHost = '127.0.0.1',
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  get mode(): ProxyMode {
    return this.modeValue;
  }

  /** Starts listening; resolves with the port. */
  listen(host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  /** Where new connections go. */
  setUpstream(port: number): void {
    this.upstreamPort = port;
  }

  /** Switches the fault; see `ProxyMode`. */
  setMode(mode: ProxyMode): void {
    const previous = this.modeValue;
    this.modeValue = mode;
    if (mode.kind === 'drop') {
      for (const pair of this.pairs) this.end(pair, true);
    } else if (previous.kind === 'blackhole' && mode.kind !== 'blackhole') {
      for (const pair of this.pairs) if (pair.holed) this.end(pair, true);
    }
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    for (const pair of this.pairs) this.end(pair, false);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.setNoDelay(true);
    const pair: Pair = { client, upstream: undefined, holed: false, lanes: [] };
    client.on('error', () => this.end(pair, true));
    client.on('close', () => this.end(pair, false));
    this.pairs.add(pair);
    if (this.modeValue.kind === 'drop') {
      this.end(pair, true);
      return;
    }
    const upstream = connect({ host: this.upstreamHost, port: this.upstreamPort });
    upstream.setNoDelay(true);
    pair.upstream = upstream;
    upstream.on('error', () => this.end(pair, true));
    upstream.on('close', () => this.end(pair, false));
    const toUpstream = new Lane(upstream);
    const toClient = new Lane(client);
    pair.lanes.push(toUpstream, toClient);
    client.on('data', (chunk: Buffer) => this.forward(pair, toUpstream, chunk));
    upstream.on('data', (chunk: Buffer) => this.forward(pair, toClient, chunk));
  }

  private forward(pair: Pair, lane: Lane, chunk: Buffer): void {
    const mode = this.modeValue;
    if (mode.kind === 'blackhole') {
      pair.holed = true;
      this.swallowed += chunk.length;
      return;
    }
    if (mode.kind === 'drop') return;
    lane.push(chunk, mode.kind === 'delay' ? mode.ms : 0);
  }

  /** Ends both sides; `reset` sends RST (a failure) rather than FIN (an orderly close). */
  private end(pair: Pair, reset: boolean): void {
    if (!this.pairs.delete(pair)) return;
    for (const lane of pair.lanes) lane.stop();
    for (const socket of [pair.client, pair.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      if (reset) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}
