import type { Socket } from 'node:net';

const due = new Set<Outbox>();
let scheduled = false;

function flushDue(): void {
  scheduled = false;
  const outboxes = [...due];
  due.clear();
  for (const outbox of outboxes) outbox.flush();
}

/**
 * What a connection has released for its socket, written once the event loop's poll phase is over, in
 * one writev, together with every other connection's (as Redis writes its replies before it sleeps);
 * the socket ends, or a backpressure check runs, only after it. Written from each connection's data
 * callback instead, each reply's write woke the client from its wait (13-15 µs a write on a VM, most
 * of a pipelined server's time); written one after another, most find it awake.
 */
export class Outbox {
  private chunks: Uint8Array[] = [];
  /** Bytes queued and not yet handed to the socket. */
  bytes = 0;
  private ending = false;
  private then: (() => void) | undefined;

  constructor(private readonly socket: Socket) {}

  /** Queues bytes, in order with everything queued before. */
  send(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    due.add(this);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flushDue);
    }
  }

  /** Ends the socket after what is queued. */
  end(): void {
    if (this.chunks.length === 0) this.socket.end();
    else this.ending = true;
  }

  /** Calls `then` once what is queued is with the socket (now, if nothing is). */
  afterFlush(then: () => void): void {
    if (this.chunks.length === 0) then();
    else this.then = then;
  }

  /** Hands what is queued to the socket (called after the poll phase). */
  flush(): void {
    const { socket, chunks } = this;
    this.chunks = [];
    this.bytes = 0;
    if (chunks.length > 0 && !socket.destroyed) {
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    }
    if (this.ending) {
      this.ending = false;
      socket.end();
    }
    const then = this.then;
    this.then = undefined;
    then?.();
  }
}
