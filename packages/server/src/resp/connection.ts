import type { Socket } from 'node:net';
import { RespParser, RespProtocolError, RespWriter, type RespCommand } from '@triekv/resp';
import { Outbox } from '../flush.js';
import { execute, type RespContext, type RespSession } from './commands.js';

/** What a RESP connection needs from its server besides the commands' context. */
export interface RespConnectionContext extends RespContext {
  /** When set, replies to writes wait until those writes are durable. */
  durability?: { written(): number; sync(): Promise<void> };
  maxBulkBytes: number;
  maxArgs: number;
  maxInlineBytes: number;
  writeHighWater: number;
  idleTimeoutMs: number;
  /** With a token: ms a connection has to authenticate before it is closed (0: never). */
  authTimeoutMs: number;
  /** With a token: most bytes held for one command before AUTH. */
  preAuthMaxBytes: number;
}

let nextId = 1;

/** Replies of one pass over the received commands, sent together once its writes are durable. */
interface Group {
  bytes: Buffer;
  ready: boolean;
}

/**
 * One RESP client connection: parses commands as they arrive (any chunk boundaries), answers each in
 * order, sends a chunk's replies in one write (after its writes are durable, with a data directory), and
 * stops reading while the client is slow to take its replies. A protocol error is answered with
 * `-ERR Protocol error: ...` and closes the connection, as Redis does.
 */
export class RespConnection implements RespSession {
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
  private held: Group[] = [];
  private heldBytes = 0;
  private closing = false;
  private quitting = false;
  private waitingForDrain = false;
  /** Replies made, written at the end of the poll phase. */
  private readonly outbox: Outbox;
  private authTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly ctx: RespConnectionContext,
  ) {
    this.parser = new RespParser({
      maxBulkBytes: ctx.maxBulkBytes,
      maxArgs: ctx.maxArgs,
      maxInlineBytes: ctx.maxInlineBytes,
    });
    this.authenticated = ctx.authToken === undefined;
    if (!this.authenticated && ctx.authTimeoutMs > 0) {
      this.authTimer = setTimeout(() => {
        if (this.authenticated) return;
        ctx.log.info({ remote: this.remote }, 'RESP: authentication timed out');
        this.writer.error(
          `NOAUTH authentication timed out: no AUTH within ${ctx.authTimeoutMs} ms`,
        );
        this.flushNow();
        this.end();
      }, ctx.authTimeoutMs);
      this.authTimer.unref();
    }
    this.outbox = new Outbox(socket);
    socket.setNoDelay(true);
    if (ctx.idleTimeoutMs > 0) socket.setTimeout(ctx.idleTimeoutMs, () => this.end());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      ctx.log.debug({ remote: this.remote, err: error }, 'RESP socket error'),
    );
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        clearTimeout(this.authTimer);
        resolve();
      });
    });
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** QUIT: the connection ends once this reply (and those before it) are out. */
  quit(): void {
    this.quitting = true;
  }

  /** Ends the connection once everything written so far has been sent. */
  end(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.held.length === 0) this.outbox.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.ctx.counters.bytesIn += chunk.length;
    try {
      const items = this.parser.push(chunk);
      // Usually nothing is left from before: the parser's list becomes the queue as it is.
      if (this.head === this.queue.length) {
        this.queue = items;
        this.head = 0;
      } else for (const item of items) this.queue.push(item);
      if (!this.authenticated && this.parser.pendingBytes > this.ctx.preAuthMaxBytes) {
        this.queue.length = 0;
        this.head = 0;
        this.writer.error(
          `NOAUTH Authentication required: a command of more than ${this.ctx.preAuthMaxBytes} bytes before AUTH`,
        );
        this.flushNow();
        this.end();
        return;
      }
      this.pump();
    } catch (error) {
      this.ctx.counters.errors++;
      this.ctx.log.error({ err: error, remote: this.remote }, 'RESP connection failed; closing it');
      this.socket.destroy();
    }
  }

  /** Answers queued commands in order until none is left or the unsent replies pass the high-water mark. */
  private pump(): void {
    if (this.waitingForDrain || this.closing) return;
    const { ctx, queue, writer, socket } = this;
    const durability = ctx.durability;
    const writtenBefore = durability?.written() ?? 0;
    let full = false;
    // Nothing reaches the socket during the loop: what it holds is counted once.
    const unsent = socket.writableLength + this.heldBytes + this.outbox.bytes;
    while (this.head < queue.length) {
      if (unsent + writer.length > ctx.writeHighWater) {
        full = true;
        break;
      }
      const item = queue[this.head] as RespCommand | RespProtocolError;
      queue[this.head++] = undefined as unknown as RespCommand;
      if (item instanceof RespProtocolError) {
        ctx.counters.errors++;
        ctx.log.debug({ remote: this.remote, reason: item.message }, 'RESP protocol error');
        writer.error(`ERR ${item.message}`);
        this.head = queue.length;
        this.closing = true;
        break;
      }
      const wasAuthenticated = this.authenticated;
      execute(ctx, this, item, writer);
      if (!wasAuthenticated && this.authenticated) clearTimeout(this.authTimer);
      if (this.quitting) {
        this.head = queue.length;
        this.closing = true;
        break;
      }
    }
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    }
    const wrote = durability !== undefined && durability.written() !== writtenBefore;
    if (writer.length > 0) {
      const bytes = writer.take();
      ctx.counters.bytesOut += bytes.length;
      if (!wrote && this.held.length === 0) {
        // Nothing waits to be made durable ahead of these replies: they go out now.
        this.outbox.send(bytes);
        if (this.closing) this.outbox.end();
        if (full) this.waitForDrain();
        return;
      }
      const group: Group = { bytes, ready: !wrote };
      this.held.push(group);
      this.heldBytes += bytes.length;
      if (wrote) {
        durability.sync().then(
          () => {
            group.ready = true;
            this.release();
          },
          (error: unknown) => {
            ctx.log.error(
              { err: error },
              'could not make writes durable; closing the RESP connection unanswered',
            );
            this.held = [];
            this.heldBytes = 0;
            socket.destroy();
          },
        );
      }
    }
    this.release();
    if (full) this.waitForDrain();
  }

  /** Sends the reply groups at the head of the line that are ready, in order. */
  private release(): void {
    let released = false;
    while (this.held.length > 0 && (this.held[0] as Group).ready) {
      const group = this.held.shift() as Group;
      this.heldBytes -= group.bytes.length;
      this.outbox.send(group.bytes);
      released = true;
    }
    if (this.held.length === 0 && this.closing) this.outbox.end();
    if (
      released &&
      this.waitingForDrain &&
      this.socket.writableLength + this.heldBytes + this.outbox.bytes <= this.ctx.writeHighWater
    ) {
      this.waitingForDrain = false;
      this.socket.resume();
      this.pump();
    }
  }

  /** Sends what the writer holds at once (errors that end the connection). */
  private flushNow(): void {
    if (this.writer.length === 0) return;
    const bytes = this.writer.take();
    this.ctx.counters.bytesOut += bytes.length;
    this.held.push({ bytes, ready: true });
    this.heldBytes += bytes.length;
    this.release();
  }

  private waitForDrain(): void {
    this.waitingForDrain = true;
    this.socket.pause();
    this.outbox.afterFlush(() => this.checkDrain());
  }

  /** With the outbox written: goes on once the socket has drained (now, if it need not). */
  private checkDrain(): void {
    const { socket } = this;
    const go = (): void => {
      if (!this.waitingForDrain) return;
      this.waitingForDrain = false;
      if (this.closing) return;
      socket.resume();
      this.pump();
    };
    if (socket.writableNeedDrain) socket.once('drain', go);
    else if (this.heldBytes === 0) setImmediate(go);
  }
}
