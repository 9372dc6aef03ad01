import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  ErrorCode,
  FrameDecoder,
  ProtocolError,
  encodeFrame,
  isRequest,
  type Decoded,
  type Reply,
} from '@triekv/protocol';
import type { Logger } from 'pino';
import { handle, type HandlerContext } from './handler.js';
import type { Counters } from './stats.js';

/** What a connection needs from its server. */
export interface ConnectionContext extends HandlerContext {
  /** When set, replies to writes wait until those writes are durable. */
  durability?: { written(): number; sync(): Promise<void> };
  authToken: string | undefined;
  maxFrameSize: number;
  maxDepth: number;
  writeHighWater: number;
  idleTimeoutMs: number;
  counters: Counters;
  log: Logger;
}

/** Compares secrets in time independent of where they differ (hashing first evens out lengths). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * One client connection: decodes frames as they arrive, answers each request in order (replies to a
 * chunk's requests go out in one write), and stops reading while the client is slow to take its replies.
 */
export class Connection {
  private readonly decoder: FrameDecoder;
  private authenticated: boolean;
  private closing = false;
  /** Decoded requests not answered yet (from `head` on), while the client is slow to read. */
  private readonly queue: Decoded[] = [];
  private head = 0;
  private waitingForDrain = false;
  /** Replies of the current pass, held until its writes are durable. */
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private waitingForDisk = false;
  readonly closed: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.decoder = new FrameDecoder({ maxFrameSize: ctx.maxFrameSize, maxDepth: ctx.maxDepth });
    this.authenticated = ctx.authToken === undefined;
    socket.setNoDelay(true);
    if (ctx.idleTimeoutMs > 0) {
      socket.setTimeout(ctx.idleTimeoutMs, () => {
        ctx.log.debug({ remote: this.remote }, 'closing idle connection');
        this.end();
      });
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) =>
      ctx.log.debug({ remote: this.remote, err: error }, 'socket error'),
    );
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        const incomplete = this.decoder.end();
        if (incomplete !== undefined) {
          ctx.log.debug(
            { remote: this.remote, reason: incomplete.message },
            'client closed mid-frame',
          );
        }
        resolve();
      });
    });
  }

  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** Ends the connection once everything written so far has been sent. */
  end(): void {
    if (this.closing) return;
    this.closing = true;
    // Replies waiting for the disk are sent when it answers; then the socket ends.
    if (this.waitingForDisk) {
      void this.ctx.durability?.sync().finally(() => this.socket.end());
      return;
    }
    this.deliver();
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.ctx.counters.bytesIn += chunk.length;
    for (const item of this.decoder.push(chunk)) this.queue.push(item);
    this.pump();
  }

  /**
   * Answers queued requests in order until the queue is empty or the unsent replies pass the high-water
   * mark; then stops reading until the client has taken them. One chunk's requests cannot flood memory
   * with replies, and the queue never holds more than one chunk's worth.
   */
  private pump(): void {
    const { socket, queue } = this;
    if (this.waitingForDrain || this.waitingForDisk) return;
    const durability = this.ctx.durability;
    const writtenBefore = durability?.written() ?? 0;
    let full = false;
    while (this.head < queue.length) {
      if (socket.writableLength + this.outboxBytes > this.ctx.writeHighWater) {
        full = true;
        break;
      }
      const item = queue[this.head] as Decoded;
      queue[this.head++] = undefined as unknown as Decoded;
      if (!this.answer(item)) {
        this.head = queue.length;
        break;
      }
    }
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    }
    if (durability === undefined || durability.written() === writtenBefore) {
      this.deliver();
      if (full) this.waitForDrain();
      return;
    }
    // This pass wrote: its replies go out once the log has them on disk (one fsync for every
    // connection's writes of the moment, under the batch policy).
    this.waitingForDisk = true;
    socket.pause();
    durability.sync().then(
      () => {
        this.waitingForDisk = false;
        this.deliver();
        if (this.closing) return;
        if (full) {
          this.waitForDrain();
          return;
        }
        socket.resume();
        this.pump();
      },
      (error: unknown) => {
        this.ctx.log.error(
          { err: error },
          'could not make writes durable; closing the connection unanswered',
        );
        this.outbox = [];
        this.outboxBytes = 0;
        this.socket.destroy();
      },
    );
  }

  /** A slow reader: stop taking requests until its replies drain. */
  private waitForDrain(): void {
    const { socket } = this;
    this.waitingForDrain = true;
    socket.pause();
    socket.once('drain', () => {
      this.waitingForDrain = false;
      if (this.closing) return;
      socket.resume();
      this.pump();
    });
  }

  /** Sends the held replies, in order, in one write. */
  private deliver(): void {
    if (this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    this.socket.cork();
    for (const frame of frames) this.socket.write(frame);
    this.socket.uncork();
  }

  /** Answers one decoded item; false when the connection must stop (it is being closed). */
  private answer(item: Decoded): boolean {
    const { ctx } = this;
    if (item instanceof ProtocolError) {
      ctx.counters.errors++;
      ctx.log.debug({ remote: this.remote, code: item.code, reason: item.message }, 'bad frame');
      this.send({ type: 'ERROR', id: item.id ?? 0, code: item.code, message: item.message });
      if (item.fatal) {
        this.deliver();
        this.end();
        return false;
      }
      return true;
    }
    if (!isRequest(item)) {
      ctx.counters.errors++;
      this.send({
        type: 'ERROR',
        id: item.id,
        code: ErrorCode.BAD_MESSAGE,
        message: `${item.type} is a reply, not a request`,
      });
      return true;
    }
    if (!this.authenticated) {
      if (item.type !== 'HELLO') {
        this.refuse(
          item.id,
          ErrorCode.AUTH_REQUIRED,
          'authentication required: send HELLO with the token first',
        );
        return false;
      }
      if (item.token === undefined || !sameSecret(item.token, ctx.authToken as string)) {
        this.refuse(item.id, ErrorCode.AUTH_FAILED, 'wrong auth token');
        return false;
      }
      this.authenticated = true;
    }
    ctx.counters.count(item.type);
    let reply: Reply;
    try {
      reply = handle(item, ctx);
    } catch (error) {
      ctx.counters.errors++;
      ctx.log.error({ err: error, op: item.type }, 'request failed');
      reply = {
        type: 'ERROR',
        id: item.id,
        code: ErrorCode.INTERNAL,
        message: 'internal error (see the server log)',
      };
    }
    this.send(reply);
    return true;
  }

  private refuse(id: number, code: string, message: string): void {
    this.ctx.counters.errors++;
    this.ctx.log.info({ remote: this.remote, code }, message);
    this.send({ type: 'ERROR', id, code, message });
    this.deliver();
    this.end();
  }

  private send(reply: Reply): void {
    let frame: Uint8Array;
    try {
      frame = encodeFrame(reply, { maxFrameSize: this.ctx.maxFrameSize });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      frame = encodeFrame({
        type: 'ERROR',
        id: reply.id,
        code: ErrorCode.LIMIT,
        message: `reply too large: ${error.message}`,
      });
    }
    this.ctx.counters.bytesOut += frame.length;
    this.outbox.push(frame);
    this.outboxBytes += frame.length;
  }
}
