import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  ErrorCode,
  FrameDecoder,
  PROTOCOL_VERSION,
  ProtocolError,
  REPLY_SLACK,
  encodeFrame,
  isRequest,
  type Decoded,
  type PutBatchRequest,
  type Reply,
} from '@triekv/protocol';
import type { Logger } from 'pino';
import { Outbox } from './flush.js';
import { handle, handleBatch, type HandlerContext } from './handler.js';
import type { Counters } from './stats.js';

/** What a connection needs from its server. */
export interface ConnectionContext extends HandlerContext {
  /** When set, replies to writes wait until those writes are durable. */
  durability?: { written(): number; sync(): Promise<void> };
  authToken: string | undefined;
  maxDepth: number;
  maxItems: number;
  maxIntBytes: number;
  /** Largest frame a client may send (or start sending) before it has authenticated. */
  preAuthMaxFrame: number;
  /** PUT_BATCHes larger than this are applied in slices of this many records. */
  batchSlice: number;
  /** Time a client has to authenticate, ms. */
  authTimeoutMs: number;
  /**
   * Called when a connection authenticates: false when it may not (too many authenticated
   * connections); it is then refused.
   */
  authenticated(connection: Connection): boolean;
  writeHighWater: number;
  idleTimeoutMs: number;
  counters: Counters;
  log: Logger;
}

/** The replies of one pass, sent together once `ready` (its writes durable). */
interface HeldGroup {
  frames: Uint8Array[];
  bytes: number;
  ready: boolean;
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

  /** Whether the client has authenticated (always, on a server without a token). */
  get isAuthenticated(): boolean {
    return this.authenticated;
  }
  private closing = false;
  /** Reply groups waiting to go out in order; a group is ready once its writes are durable. */
  private held: HeldGroup[] = [];
  private heldBytes = 0;
  private endWhenReleased = false;
  /** Released replies, written at the end of the poll phase. */
  private readonly sending: Outbox;
  /** Decoded requests not answered yet (from `head` on), while the client is slow to read. */
  private readonly queue: Decoded[] = [];
  private head = 0;
  private waitingForDrain = false;
  /** Replies of the current pass, held until its writes are durable. */
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private authTimer: NodeJS.Timeout | undefined;
  /** A large batch is being applied in slices: the queue waits. */
  private slicing = false;
  readonly closed: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.decoder = new FrameDecoder({
      maxFrameSize: ctx.maxFrameSize,
      maxDepth: ctx.maxDepth,
      maxItems: ctx.maxItems,
      maxIntBytes: ctx.maxIntBytes,
    });
    this.sending = new Outbox(socket);
    this.authenticated = ctx.authToken === undefined;
    if (!this.authenticated && ctx.authTimeoutMs > 0) {
      this.authTimer = setTimeout(() => {
        this.refuse(
          0,
          ErrorCode.AUTH_REQUIRED,
          `authentication timed out: no HELLO with the token within ${ctx.authTimeoutMs} ms`,
        );
      }, ctx.authTimeoutMs);
      this.authTimer.unref();
    }
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
        clearTimeout(this.authTimer);
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
    this.deliver();
    // Replies still waiting for the disk go out first; the socket ends after the last of them.
    if (this.held.length > 0) {
      this.endWhenReleased = true;
      return;
    }
    this.sending.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.ctx.counters.bytesIn += chunk.length;
    try {
      for (const item of this.decoder.push(chunk)) this.queue.push(item);
      // Before HELLO, a client cannot make the server hold more than a small frame's worth of bytes.
      if (!this.authenticated && this.decoder.pendingFrameBytes > this.ctx.preAuthMaxFrame) {
        this.queue.length = 0;
        this.head = 0;
        this.refuse(
          0,
          ErrorCode.AUTH_REQUIRED,
          `authentication required: a frame of ${this.decoder.pendingFrameBytes} bytes before HELLO (at most ${this.ctx.preAuthMaxFrame})`,
        );
        return;
      }
      this.pump();
    } catch (error) {
      // A fault of ours on one connection must not take the process (and every other client) down.
      this.ctx.counters.errors++;
      this.ctx.log.error({ err: error, remote: this.remote }, 'connection failed; closing it');
      this.socket.destroy();
    }
  }

  /**
   * Answers queued requests in order until the queue is empty or the unsent replies pass the high-water
   * mark; then stops reading until the client has taken them. One chunk's requests cannot flood memory
   * with replies, and the queue never holds more than one chunk's worth.
   */
  private pump(): void {
    const { socket, queue } = this;
    if (this.waitingForDrain || this.slicing) return;
    const durability = this.ctx.durability;
    const writtenBefore = durability?.written() ?? 0;
    let full = false;
    while (this.head < queue.length) {
      if (
        socket.writableLength + this.heldBytes + this.outboxBytes + this.sending.bytes >
        this.ctx.writeHighWater
      ) {
        full = true;
        break;
      }
      const item = queue[this.head] as Decoded;
      queue[this.head++] = undefined as unknown as Decoded;
      if (
        this.authenticated &&
        !(item instanceof ProtocolError) &&
        item.type === 'PUT_BATCH' &&
        item.records.length > this.ctx.batchSlice
      ) {
        // A large batch is applied a slice at a time, yielding to other connections in between; this
        // connection's later requests wait for it, so its replies stay in order.
        this.applySliced(item);
        break;
      }
      if (!this.answer(item)) {
        this.head = queue.length;
        break;
      }
    }
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    }
    // This pass's replies form a group; if the pass wrote, the group waits for those writes to be on disk.
    // Reading goes on meanwhile, so the next pass's writes join the next group commit.
    const wrote = durability !== undefined && durability.written() !== writtenBefore;
    if (this.outbox.length > 0) {
      const group: HeldGroup = { frames: this.outbox, bytes: this.outboxBytes, ready: !wrote };
      this.outbox = [];
      this.outboxBytes = 0;
      this.held.push(group);
      this.heldBytes += group.bytes;
      if (wrote) {
        durability.sync().then(
          () => {
            group.ready = true;
            this.release();
          },
          (error: unknown) => {
            this.ctx.log.error(
              { err: error },
              'could not make writes durable; closing the connection unanswered',
            );
            this.held = [];
            this.heldBytes = 0;
            this.socket.destroy();
          },
        );
      }
    }
    this.release();
    if (full) this.waitForDrain();
  }

  /** Sends the groups at the head of the line that are ready, in order. */
  private release(): void {
    let released = false;
    while (this.held.length > 0 && (this.held[0] as HeldGroup).ready) {
      const group = this.held.shift() as HeldGroup;
      this.heldBytes -= group.bytes;
      for (const frame of group.frames) this.sending.send(frame);
      released = true;
    }
    if (this.held.length === 0 && this.closing && this.endWhenReleased) this.sending.end();
    // A reader paused only because replies were held for the disk can go on once they are out.
    if (
      released &&
      this.waitingForDrain &&
      this.socket.writableLength + this.heldBytes + this.sending.bytes <= this.ctx.writeHighWater
    ) {
      this.waitingForDrain = false;
      if (!this.closing) {
        this.socket.resume();
        this.pump();
      }
    }
  }

  /** A slow reader (or replies held for the disk): stop taking requests until they drain. */
  private waitForDrain(): void {
    this.waitingForDrain = true;
    this.socket.pause();
    this.sending.afterFlush(() => this.checkDrain());
  }

  /** With what was released written: goes on once the socket has drained (now, if it need not). */
  private checkDrain(): void {
    const { socket } = this;
    const go = (): void => {
      if (!this.waitingForDrain) return;
      this.waitingForDrain = false;
      if (this.closing) return;
      socket.resume();
      this.pump();
    };
    // 'drain' comes only after a write that said the buffer is full; otherwise there is nothing to wait
    // for on the socket (held replies resume reading from release()), so go on at the next turn.
    if (socket.writableNeedDrain) socket.once('drain', go);
    else if (this.heldBytes === 0) setImmediate(go);
  }

  /** Sends the replies of the pass in progress (used when the connection stops early). */
  private deliver(): void {
    if (this.outbox.length === 0) return;
    this.held.push({ frames: this.outbox, bytes: this.outboxBytes, ready: true });
    this.heldBytes += this.outboxBytes;
    this.outbox = [];
    this.outboxBytes = 0;
    this.release();
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
    if (!this.authenticated && item.type !== 'HELLO') {
      this.refuse(
        item.id,
        ErrorCode.AUTH_REQUIRED,
        'authentication required: send HELLO with the token first',
      );
      return false;
    }
    if (item.type === 'HELLO' && ctx.authToken !== undefined) {
      // Every HELLO is checked, the first and any later one: a wrong token ends the connection.
      if (item.token === undefined || !sameSecret(item.token, ctx.authToken)) {
        this.refuse(item.id, ErrorCode.AUTH_FAILED, 'wrong auth token');
        return false;
      }
      if (item.protocol !== PROTOCOL_VERSION) {
        this.refuse(
          item.id,
          ErrorCode.PROTOCOL_VERSION,
          `protocol ${item.protocol} not supported (this server speaks ${PROTOCOL_VERSION})`,
        );
        return false;
      }
      if (!this.authenticated) {
        if (!ctx.authenticated(this)) {
          this.refuse(item.id, ErrorCode.LIMIT, 'too many connections');
          return false;
        }
        this.authenticated = true;
        clearTimeout(this.authTimer);
      }
    }
    ctx.counters.count(item.type);
    const observer = ctx.counters.observer;
    const started = observer === undefined ? 0 : performance.now();
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
    if (observer !== undefined)
      observer(item.type, reply.type, (performance.now() - started) / 1000);
    this.send(reply);
    return true;
  }

  /**
   * Applies a large PUT_BATCH in slices (`handleBatch`), stops reading meanwhile, and answers it once its
   * writes are durable, after the replies before it; then goes on with the queue.
   */
  private applySliced(request: PutBatchRequest): void {
    const { ctx } = this;
    this.slicing = true;
    this.socket.pause();
    ctx.counters.count(request.type);
    handleBatch(request, ctx, ctx.batchSlice)
      .then(async (reply) => {
        if (reply.type === 'OK') await ctx.durability?.sync();
        return reply;
      })
      .catch((error: unknown): Reply => {
        ctx.counters.errors++;
        ctx.log.error({ err: error, op: request.type }, 'request failed');
        return {
          type: 'ERROR',
          id: request.id,
          code: ErrorCode.INTERNAL,
          message: 'internal error (see the server log)',
        };
      })
      .then(
        (reply) => {
          this.slicing = false;
          if (this.socket.destroyed) return;
          this.send(reply);
          this.deliver();
          if (this.closing) return;
          this.socket.resume();
          this.pump();
        },
        () => undefined,
      );
  }

  /** Ends a connection that has not authenticated (to make room for others), saying why. */
  refuseUnauthenticated(message: string): void {
    this.queue.length = 0;
    this.head = 0;
    this.refuse(0, ErrorCode.AUTH_REQUIRED, message);
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
      frame = encodeFrame(reply, { maxFrameSize: this.ctx.maxFrameSize + REPLY_SLACK });
    } catch (error) {
      const tooLarge = error instanceof ProtocolError;
      if (!tooLarge) this.ctx.log.error({ err: error, op: reply.type }, 'could not encode a reply');
      this.ctx.counters.errors++;
      frame = encodeFrame({
        type: 'ERROR',
        id: reply.id,
        code: tooLarge ? ErrorCode.LIMIT : ErrorCode.INTERNAL,
        message: tooLarge
          ? `reply too large: ${error.message}`
          : 'internal error (see the server log)',
      });
    }
    this.ctx.counters.bytesOut += frame.length;
    this.outbox.push(frame);
    this.outboxBytes += frame.length;
  }
}
