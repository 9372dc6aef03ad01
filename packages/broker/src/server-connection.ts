import { EventEmitter } from 'node:events';
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  DEFAULT_MAX_FRAME_SIZE,
  FrameDecoder,
  PROTOCOL_VERSION,
  REPLY_SLACK,
  ProtocolError,
  encodeFrame,
  type Reply,
  type Request,
} from '@triekv/protocol';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_MAX_PENDING,
  DEFAULT_RECONNECT_MAX_MS,
  DEFAULT_RECONNECT_MIN_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './defaults.js';
import { backoff } from './backoff.js';
import { OverloadedError, RemoteError, ServerDownError, TimeoutError } from './errors.js';
import type { ServerAddress } from './server-file.js';

/** A request without its id (the connection numbers them). Distributes over the union. */
export type Outgoing = Request extends infer R
  ? R extends Request
    ? Omit<R, 'id'>
    : never
  : never;

/** Per-call options of every async operation. */
export interface CallOptions {
  /** Abandons the call (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Overrides the request timeout for this call, in ms. */
  timeoutMs?: number;
}

/** Options for one server connection. */
export interface ConnectionOptions {
  /** @default 2000 */
  connectTimeoutMs?: number;
  /** @default 5000 */
  requestTimeoutMs?: number;
  /** Sent in HELLO when the server wants authentication. @default undefined */
  authToken?: string;
  /** Requests in flight before new ones fail fast. @default 10000 */
  maxPending?: number;
  /** @default 100 */
  reconnectMinMs?: number;
  /** Longest wait between reconnect attempts (a server that comes back is seen within it). @default 800 */
  reconnectMaxMs?: number;
  /**
   * How often an idle connection is checked with a PING, ms: a server that is up is seen to answer at
   * least this often. @default 1000
   */
  heartbeatMs?: number;
  /**
   * How long a server may send nothing while a request (or the heartbeat's PING) waits before it is
   * taken as down and the connection is dropped, ms. One slow request only times out: the server is
   * marked down on a failed connection or this missed heartbeat. @default 3000
   */
  heartbeatTimeoutMs?: number;
  /** Name sent in HELLO. @default 'triekv-broker' */
  clientName?: string;
  /**
   * Largest request frame sent (a larger request fails with FRAME_TOO_LARGE); replies are accepted up
   * to this plus `REPLY_SLACK`. Keep it equal to the servers' `--max-frame`. @default 16 MiB
   */
  maxFrameSize?: number;
  /** TLS to the servers (see `ClientTls`). @default undefined (plaintext) */
  tls?: ClientTls;
}

/**
 * TLS from a broker to its servers: `ca` verifies them (their certificate must be signed by it and
 * name the address dialled: hostname or IP); `cert` and `key` are this broker's client certificate,
 * for servers that want one (mutual TLS). `insecure` skips verification: for tests only.
 */
export interface ClientTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  insecure?: boolean;
}

/** What went wrong with a TLS connection, in words (the server is named by the caller). */
export function tlsProblem(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
  switch (code) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `its certificate is not trusted: not signed by the CA given (--tls-ca) (${code})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its certificate is for another host: ${error.message}`;
    case 'CERT_HAS_EXPIRED':
      return 'its certificate has expired (CERT_HAS_EXPIRED)';
    case 'CERT_NOT_YET_VALID':
      return 'its certificate is not valid yet (CERT_NOT_YET_VALID)';
  }
  if (/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE/i.test(code + error.message))
    return `it wants a client certificate this broker did not give or it does not trust (--tls-cert, --tls-key) (${code || error.message})`;
  if (code === 'ECONNRESET')
    return 'it reset the connection during the TLS handshake: does it want a client certificate it trusts? (--tls-cert, --tls-key)';
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL/i.test(code + error.message))
    return 'it does not speak TLS (is it started with --tls-cert?)';
  return error.message;
}

export type ConnectionState = 'connecting' | 'up' | 'down' | 'closed';

/** A request waiting for its reply. */
interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
  /** The caller's signal and the listener on it, to remove once the request is settled. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

function uncork(socket: Socket): void {
  socket.uncork();
}

function encodeOutgoing(id: number, request: Outgoing, maxFrameSize: number): Uint8Array {
  return encodeFrame({ ...request, id }, { maxFrameSize });
}

function callFrame(id: number, frame: (id: number) => Uint8Array): Uint8Array {
  return frame(id);
}

function timedOut(connection: ServerConnection, id: number, timeoutMs: number): void {
  connection.timedOut(id, timeoutMs);
}

function beat(connection: ServerConnection): void {
  connection.heartbeat();
}

/**
 * A persistent, pipelined connection to one server. It says HELLO on every (re)connect, matches replies
 * to requests by id, times requests out, fails requests fast while the server is down, and reconnects
 * with exponential backoff (100 ms doubling to 800 ms, ±25% jitter). A request that times out fails
 * alone; the server is taken as down when its connection fails or it misses the heartbeat (nothing
 * heard for `heartbeatTimeoutMs` while something waits). Emits `up` and `down` when its health changes.
 */
export class ServerConnection extends EventEmitter<{ up: []; down: [reason: string] }> {
  readonly name: string;
  private socket: Socket | undefined;
  private decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stateValue: ConnectionState = 'down';
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The connection attempt in progress (settles once it is up or has failed). */
  private opening: Promise<void> | undefined;
  private firstAttempt: Promise<void> | undefined;
  /** Smoothed round-trip time of recent requests, ms. */
  latencyMs: number | undefined;
  /** When the server last sent anything (performance.now()). */
  private lastHeard = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Whether the heartbeat's PING is waiting for its reply. */
  private pinging = false;
  /**
   * Why the last connection attempt failed or the connection dropped (`connection refused`, `its
   * certificate is not trusted ...`), for messages such as kv-broker's `H:P is down: ...`.
   */
  lastError: string | undefined;
  /** Why the connection is being dropped, when it is this side that drops it. */
  private dropReason: string | undefined;

  constructor(
    readonly address: ServerAddress,
    private readonly options: ConnectionOptions = {},
  ) {
    super();
    this.name = address.name ?? `${address.host}:${address.port}`;
    this.decoder = this.newDecoder();
  }

  private newDecoder(): FrameDecoder {
    const max = this.options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    // Replies carry what a server accepted (its own limits may be raised): only the frame size, which
    // bounds what is buffered, is held to ours.
    return new FrameDecoder({
      maxFrameSize: max + REPLY_SLACK,
      maxItems: Number.MAX_SAFE_INTEGER,
      maxIntBytes: 1 << 20,
    });
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get up(): boolean {
    return this.stateValue === 'up';
  }

  /** Starts connecting; resolves after the first attempt, whatever its outcome (see `state`). */
  start(): Promise<void> {
    this.firstAttempt ??= this.opening = this.open();
    return this.firstAttempt;
  }

  /**
   * Tries to reach a server that is down now, instead of at its next scheduled reconnect; resolves with
   * whether it is up afterwards (at once when it already is).
   */
  reconnectNow(): Promise<boolean> {
    if (this.stateValue === 'up') return Promise.resolve(true);
    if (this.stateValue === 'closed') return Promise.resolve(false);
    if (this.stateValue === 'down') {
      clearTimeout(this.retryTimer);
      this.opening = this.open();
    }
    return (this.opening ?? Promise.resolve()).then(() => this.up);
  }

  /**
   * Resolves after `ms`, or sooner once a connection that is down now is up again (or the signal
   * aborts): a retry's wait.
   */
  whenUp(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('up', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (this.stateValue !== 'up') this.once('up', done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Sends a request and resolves with its reply; an ERROR reply rejects with a `RemoteError`. */
  request(request: Outgoing, options?: CallOptions): Promise<Reply> {
    return this.send(encodeOutgoing, request, options);
  }

  /**
   * Like `request`, for a request already encoded but for its id: `frame(id)` gives the whole frame
   * (a `PutBatchWriter`'s, during a load). Called at once, or not at all if the request fails fast.
   */
  requestFrame(frame: (id: number) => Uint8Array, options?: CallOptions): Promise<Reply> {
    return this.send(callFrame, frame, options);
  }

  /** Stops for good: pending requests fail, no more reconnects. */
  close(): void {
    this.stateValue = 'closed';
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    this.socket?.destroy();
    this.failPending(new ServerDownError(this.name, 'connection closed'));
  }

  private send<A>(
    encode: (id: number, arg: A, maxFrameSize: number) => Uint8Array,
    arg: A,
    options?: CallOptions,
  ): Promise<Reply> {
    if (this.stateValue !== 'up' || this.socket === undefined) {
      return Promise.reject(new ServerDownError(this.name));
    }
    const limit = this.options.maxPending ?? DEFAULT_MAX_PENDING;
    if (this.pending.size >= limit) return Promise.reject(new OverloadedError(this.name, limit));
    return this.write(this.socket, encode, arg, options);
  }

  /**
   * Encodes and writes one request; its promise settles when the reply comes (an ERROR reply rejects
   * with a `RemoteError`), the time is up, the signal aborts or the connection is lost. Per request
   * there is one promise and one timer, and no closure unless a signal is given: a busy broker sends
   * tens of thousands a second.
   */
  private write<A>(
    socket: Socket,
    encode: (id: number, arg: A, maxFrameSize: number) => Uint8Array,
    arg: A,
    options?: CallOptions,
  ): Promise<Reply> {
    const id = this.nextId++;
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    let frame: Uint8Array;
    try {
      frame = encode(id, arg, this.options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const timeoutMs =
      options?.timeoutMs ?? this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    let pending: Pending | undefined;
    const reply = new Promise<Reply>((resolve, reject) => {
      pending = {
        resolve,
        reject,
        timer: setTimeout(timedOut, timeoutMs, this, id, timeoutMs),
        sentAt: performance.now(),
        signal,
        onAbort: undefined,
      };
    });
    const waiter = pending as unknown as Pending;
    if (signal !== undefined) {
      waiter.onAbort = () => {
        if (this.pending.get(id) !== waiter) return;
        this.settle(id, waiter);
        waiter.reject(signal.reason as Error);
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.pending.set(id, waiter);
    // Requests made in the same turn of the event loop (every reply that arrived, every client command
    // read) go out in one write (writev) instead of a system call each.
    if (!socket.writableCorked) {
      socket.cork();
      setImmediate(uncork, socket);
    }
    socket.write(frame);
    return reply;
  }

  /** Forgets a pending request: its timer and its abort listener. */
  private settle(id: number, waiter: Pending): void {
    this.pending.delete(id);
    clearTimeout(waiter.timer);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  /** @internal A request's time is up (its timer calls this). */
  timedOut(id: number, timeoutMs: number): void {
    const waiter = this.pending.get(id);
    if (waiter === undefined) return;
    this.settle(id, waiter);
    // Only this request fails: a server busy with a large batch is slow, not down (the heartbeat says
    // when it stops answering altogether). A late reply to it is ignored.
    waiter.reject(new TimeoutError(this.name, timeoutMs));
  }

  /** @internal Every `heartbeatMs` while up: drops a server that went silent, pings an idle one. */
  heartbeat(): void {
    const socket = this.socket;
    if (this.stateValue !== 'up' || socket === undefined) return;
    const silentMs = performance.now() - this.lastHeard;
    const timeoutMs = this.options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    if (silentMs >= timeoutMs && this.pending.size > 0) {
      this.dropReason = `no reply for ${Math.round(silentMs)} ms (missed heartbeat)`;
      socket.destroy();
      return;
    }
    if (this.pinging || silentMs < (this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS)) return;
    this.pinging = true;
    this.write(socket, encodeOutgoing, { type: 'PING' }, { timeoutMs })
      .catch(() => undefined)
      .finally(() => {
        this.pinging = false;
      });
  }

  private open(): Promise<void> {
    if (this.stateValue === 'closed') return Promise.resolve();
    this.stateValue = 'connecting';
    const tls = this.options.tls;
    const socket: Socket =
      tls === undefined
        ? connect({ host: this.address.host, port: this.address.port })
        : tlsConnect({
            host: this.address.host,
            port: this.address.port,
            ...(isIP(this.address.host) === 0 ? { servername: this.address.host } : {}),
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            ...(tls.cert === undefined ? {} : { cert: tls.cert }),
            ...(tls.key === undefined ? {} : { key: tls.key }),
            rejectUnauthorized: tls.insecure !== true,
            minVersion: 'TLSv1.2',
          });
    socket.setNoDelay(true);
    this.socket = socket;
    this.decoder = this.newDecoder();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const connectTimeout = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = (): void => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      const timer = setTimeout(() => {
        socket.destroy(new Error(`no connection within ${connectTimeout} ms`));
      }, connectTimeout);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        const hello: Outgoing = {
          type: 'HELLO',
          protocol: PROTOCOL_VERSION,
          client: this.options.clientName ?? 'triekv-broker',
          ...(this.options.authToken === undefined ? {} : { token: this.options.authToken }),
        };
        this.write(socket, encodeOutgoing, hello, { timeoutMs: connectTimeout })
          .then((reply) => {
            if (reply.type !== 'OK') throw new Error(`HELLO answered ${reply.type}`);
            this.attempt = 0;
            this.lastError = undefined;
            this.stateValue = 'up';
            this.lastHeard = performance.now();
            const every = this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
            this.heartbeatTimer = setInterval(beat, Math.max(1, every / 2), this);
            this.heartbeatTimer.unref();
            this.emit('up');
            settle();
          })
          .catch((error: unknown) => {
            // Refused (an ERROR reply: wrong protocol, bad token) or no answer: this connection ends,
            // and the server stays down until a later attempt succeeds.
            this.lastError ??= !(error instanceof ServerDownError)
              ? (error as Error).message
              : tls === undefined
                ? 'it closed the connection before answering HELLO (a TLS server? then give --tls-ca)'
                : 'it closed the connection after the TLS handshake: it wants a client certificate it trusts (--tls-cert, --tls-key)';
            socket.destroy(error as Error);
            settle();
          });
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        this.lastError = tls === undefined ? error.message : tlsProblem(error);
      });
      socket.once('close', (hadError) => {
        clearTimeout(timer);
        if (this.socket === socket)
          this.onClosed(this.dropReason ?? (hadError ? 'connection error' : 'connection closed'));
        settle();
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = performance.now();
    for (const item of this.decoder.push(chunk)) {
      if (item instanceof ProtocolError) {
        if (item.fatal || item.id === undefined) {
          this.socket?.destroy();
          return;
        }
        continue;
      }
      const waiter = this.pending.get(item.id);
      if (waiter === undefined) continue;
      this.settle(item.id, waiter);
      const rtt = performance.now() - waiter.sentAt;
      this.latencyMs = this.latencyMs === undefined ? rtt : this.latencyMs * 0.8 + rtt * 0.2;
      if (item.type === 'ERROR') waiter.reject(new RemoteError(this.name, item.code, item.message));
      else waiter.resolve(item as Reply);
    }
  }

  private onClosed(reason: string): void {
    const wasUp = this.stateValue === 'up';
    if (this.stateValue !== 'closed') this.stateValue = 'down';
    this.socket = undefined;
    this.dropReason = undefined;
    this.pinging = false;
    clearInterval(this.heartbeatTimer);
    this.failPending(new ServerDownError(this.name, `connection lost (${reason})`));
    if (wasUp) this.emit('down', reason);
    if (this.stateValue === 'closed') return;
    const min = this.options.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS;
    const max = this.options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS;
    // A server that is back is seen within max * 1.25.
    const delay = backoff(this.attempt++, min, max);
    this.retryTimer = setTimeout(() => {
      this.opening = this.open();
    }, delay);
    this.retryTimer.unref();
  }

  private failPending(error: Error): void {
    for (const [id, waiter] of [...this.pending]) {
      this.settle(id, waiter);
      waiter.reject(error);
    }
  }
}
