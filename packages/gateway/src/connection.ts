import type { Socket } from 'node:net';
import {
  RespParser,
  RespProtocolError,
  RespWriter,
  type RespCommand,
  type RespSession,
} from '@triekv/resp';
import type { GatewayContext } from './commands.js';
import { execute } from './commands.js';

let nextId = 1;

/**
 * One client of the gateway. Its commands run one after another, in the order they arrived (a GET
 * after a SET of the same key sees it), each a round trip to the key's servers; the replies of
 * everything received so far go out in one write once the last of them is answered. Reading stops
 * while the client is slow to take its replies. A protocol error is answered with
 * `-ERR Protocol error: ...` and closes the connection, as Redis does.
 */
export class GatewayConnection implements RespSession {
  readonly id = nextId++;
  readonly createdAt = Date.now();
  name = '';
  protocol: 2 | 3 = 2;
  authenticated: boolean;
  libName = '';
  libVer = '';
  lastCommand = 'NULL';
  readonly closed: Promise<void>;
  private readonly parser: RespParser;
  private readonly writer = new RespWriter();
  private queue: (RespCommand | RespProtocolError)[] = [];
  private head = 0;
  private running = false;
  private closing = false;
  private quitting = false;
  private paused = false;
  private shuttingDown = false;
  /** Settles when the command running now (if any) has been answered. */
  private idle: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: Socket,
    private readonly ctx: GatewayContext,
  ) {
    this.parser = new RespParser(ctx.limits);
    this.authenticated = ctx.authToken === undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      ctx.log.debug({ remote: this.remote, err: error }, 'gateway client socket error'),
    );
    socket.on('drain', () => {
      if (!this.paused) return;
      this.paused = false;
      socket.resume();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Commands received and not answered yet (for INFO clients and graceful shutdown). */
  get pending(): number {
    return this.queue.length - this.head + (this.running ? 1 : 0);
  }

  quit(): void {
    this.quitting = true;
  }

  /**
   * Stops reading; the commands received so far are answered, then the connection ends. Resolves once
   * they are (graceful shutdown).
   */
  async drain(): Promise<void> {
    this.socket.pause();
    this.closing = true;
    this.shuttingDown = true;
    await this.idle;
    // Closed for good once the replies are flushed: a client that keeps its side open cannot hold
    // the shutdown up.
    if (!this.running) this.socket.destroySoon();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.ctx.counts.bytesIn += chunk.length;
    const items = this.parser.push(chunk);
    if (this.head === this.queue.length) {
      this.queue = items;
      this.head = 0;
    } else for (const item of items) this.queue.push(item);
    if (!this.authenticated && this.parser.pendingBytes > this.ctx.preAuthMaxBytes) {
      this.queue = [];
      this.head = 0;
      this.writer.error(
        `NOAUTH Authentication required: a command of more than ${this.ctx.preAuthMaxBytes} bytes before AUTH`,
      );
      this.flush();
      this.closing = true;
      this.socket.end();
      return;
    }
    if (!this.running) this.idle = this.run();
  }

  /** Answers the queued commands in order, sending the replies whenever the queue runs dry. */
  private async run(): Promise<void> {
    this.running = true;
    const { ctx, writer } = this;
    try {
      while (this.head < this.queue.length) {
        const item = this.queue[this.head] as RespCommand | RespProtocolError;
        this.queue[this.head++] = undefined as unknown as RespCommand;
        if (item instanceof RespProtocolError) {
          ctx.counts.errors++;
          ctx.log.debug({ remote: this.remote, reason: item.message }, 'RESP protocol error');
          writer.error(`ERR ${item.message}`);
          this.stop();
          break;
        }
        await execute(ctx, this, item, writer);
        if (this.quitting) {
          this.stop();
          break;
        }
        // Replies go out when nothing else has arrived, or when they have grown large.
        if (this.head === this.queue.length || writer.length > 64 * 1024) this.flush();
      }
    } catch (error) {
      ctx.log.error({ err: error, remote: this.remote }, 'gateway connection failed; closing it');
      this.socket.destroy();
    } finally {
      this.running = false;
      this.flush();
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      if (this.shuttingDown) this.socket.destroySoon();
      else if (this.closing) this.socket.end();
    }
  }

  /** Drops what is queued after a QUIT or a protocol error; the connection ends once replies are out. */
  private stop(): void {
    this.head = this.queue.length;
    this.closing = true;
  }

  private flush(): void {
    if (this.writer.length === 0 || this.socket.destroyed) return;
    const bytes = this.writer.take();
    this.ctx.counts.bytesOut += bytes.length;
    if (!this.socket.write(bytes) && !this.paused && !this.closing) {
      // A slow reader: read no more commands until it has taken these replies.
      this.paused = true;
      this.socket.pause();
    }
  }
}
