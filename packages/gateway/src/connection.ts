import type { Socket } from 'node:net';
import { KeyOrder } from '@triekv/broker';
import {
  RespParser,
  RespProtocolError,
  RespWriter,
  type RespCommand,
  type RespSession,
} from '@triekv/resp';
import type { GatewayContext } from './commands.js';
import { execute, keysOfCommand } from './commands.js';

let nextId = 1;

/** Commands of one connection that run at once. */
const WINDOW = 64;

/** One command's place in the line of replies. */
interface Slot {
  reply?: RespWriter;
  /** A protocol error: answered in its place, then the connection closes. */
  error?: RespProtocolError;
  done: Promise<void>;
  ready: boolean;
  failure?: unknown;
}

/**
 * One client of the gateway. Its pipelined commands run side by side (see `run`), each a round trip to
 * its keys' servers, and are answered in the order they arrived. Reading stops while the client is slow
 * to take its replies. A protocol error is answered with `-ERR Protocol error: ...` in its place and
 * closes the connection, as Redis does.
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
  /** No more queued commands are started (after a protocol error). */
  private closingQueue = false;
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

  /**
   * Answers the queued commands, up to `window` at once, replies in order: a command waits for the
   * earlier ones on any of its keys (a GET after a SET of the same key sees it), and one without keys
   * (AUTH, HELLO, SCAN, INFO, ...) waits for everything before it and holds back everything after.
   * Replies go out whenever the next one is not ready yet.
   */
  private async run(): Promise<void> {
    this.running = true;
    const { ctx, writer } = this;
    const lines: Slot[] = [];
    const order = new KeyOrder();
    try {
      for (;;) {
        // Start what the window allows.
        while (this.head < this.queue.length && lines.length < WINDOW && !this.closingQueue) {
          const item = this.queue[this.head] as RespCommand | RespProtocolError;
          this.queue[this.head++] = undefined as unknown as RespCommand;
          if (item instanceof RespProtocolError) {
            lines.push({ error: item, done: Promise.resolve(), ready: true });
            this.closingQueue = true;
            break;
          }
          const keys = keysOfCommand(ctx, item);
          const before = order.before(keys);
          const reply = new RespWriter();
          const slot: Slot = { reply, done: Promise.resolve(), ready: false };
          slot.done = before
            .then(async () => {
              // After a QUIT nothing more runs.
              if (this.quitting) return;
              reply.protocol = this.protocol;
              await execute(ctx, this, item, reply);
            })
            .then(
              () => {
                slot.ready = true;
              },
              (error: unknown) => {
                slot.ready = true;
                slot.failure = error;
              },
            );
          order.add(keys, slot.done);
          lines.push(slot);
        }
        const first = lines.shift();
        if (first === undefined) break;
        if (!first.ready) {
          // The replies ready so far go out before waiting for the next one.
          this.flush();
          await first.done;
        }
        if (first.failure !== undefined)
          throw first.failure instanceof Error ? first.failure : new Error('a command failed');
        if (first.error !== undefined) {
          ctx.counts.errors++;
          ctx.log.debug(
            { remote: this.remote, reason: first.error.message },
            'RESP protocol error',
          );
          writer.error(`ERR ${first.error.message}`);
          this.stop();
          break;
        }
        writer.append((first.reply as RespWriter).take());
        if (this.quitting) {
          // QUIT's reply is the last: what came after it was not run.
          this.stop();
          break;
        }
        if (writer.length > 64 * 1024) this.flush();
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
    this.closingQueue = true;
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
