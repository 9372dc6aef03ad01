import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  FrameDecoder,
  ProtocolError,
  encodeFrame,
  type Message,
  type Reply,
  type Request,
} from '@triekv/protocol';

type Pending = { resolve: (reply: Reply) => void; reject: (error: Error) => void };

/** Any request, its id optional (one is filled in). Distributes over the union, unlike a plain Omit. */
export type Outgoing = Request extends infer R
  ? R extends Request
    ? Omit<R, 'id'> & { id?: number }
    : never
  : never;

/**
 * A bare protocol client for tests: it sends exactly what it is given (raw bytes too) and matches replies
 * to requests by id. No retries, no pooling: the broker has those.
 */
export class RawClient {
  readonly replies: (Reply | ProtocolError)[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder({
    maxFrameSize: 64 * 1024 * 1024,
    maxItems: Number.MAX_SAFE_INTEGER,
    maxIntBytes: 1 << 20,
  });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const item of this.decoder.push(chunk)) {
        this.replies.push(item as Reply | ProtocolError);
        if (item instanceof ProtocolError) continue;
        const waiter = this.pending.get(item.id);
        if (waiter !== undefined) {
          this.pending.delete(item.id);
          waiter.resolve(item as Reply);
        }
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        for (const waiter of this.pending.values()) waiter.reject(new Error('connection closed'));
        this.pending.clear();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Connects over TLS (`ca` verifies the server; `cert`/`key` for mutual TLS). */
  static connectTls(
    port: number,
    tls: { ca?: Buffer; cert?: Buffer; key?: Buffer },
    host = '127.0.0.1',
  ): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ port, host, ...tls }, () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** A fresh request id. */
  id(): number {
    return this.nextId++;
  }

  /** Sends a request (its id filled in when 0) and resolves with its reply. */
  request(request: Outgoing): Promise<Reply> {
    const message = { ...request, id: request.id ?? this.id() } as Message;
    const reply = this.expect(message.id);
    // Requests made in one turn go out in one write (one TLS record), as the broker sends them.
    if (!this.socket.writableCorked) {
      this.socket.cork();
      process.nextTick(() => this.socket.uncork());
    }
    this.socket.write(encodeFrame(message));
    return reply;
  }

  /** Resolves with the reply to `id` when it arrives. */
  expect(id: number): Promise<Reply> {
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Sends bytes as they are. */
  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
