import {
  OverloadedError,
  RemoteError,
  ServerConnection,
  ServerDownError,
  TimeoutError,
} from '@triekv/broker';
import { PutBatchWriter, encodeRecord } from '@triekv/protocol';
import type { KvServer } from '@triekv/server';
import { startMuteServer, startServer, waitFor, type MuteServer } from '@triekv/test-utils';

/** One connection to a real in-process server, and one to a server that never answers. */
describe('ServerConnection', () => {
  let server: KvServer;
  let mute: MuteServer;
  const connections: ServerConnection[] = [];

  const connect = async (
    port: number,
    options: ConstructorParameters<typeof ServerConnection>[1] = {},
  ): Promise<ServerConnection> => {
    const c = new ServerConnection({ host: '127.0.0.1', port }, options);
    connections.push(c);
    await c.start();
    return c;
  };

  beforeEach(async () => {
    server = (await startServer({ maxKeyLength: 16 })).server;
    mute = await startMuteServer();
  });

  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await server.close();
    await mute.close();
  });

  const port = (): number => (server.address() as { port: number }).port;

  test('pipelines: requests made in one tick all get their own replies', async () => {
    const c = await connect(port());
    expect(c.up).toBe(true);
    const version = [1, 0, 'n'] as const;
    const writes = Array.from({ length: 200 }, (_, i) =>
      c.request({ type: 'PUT', key: `k${i}`, value: new Map([['i', i]]), version }),
    );
    await Promise.all(writes);
    const reads = await Promise.all(
      Array.from({ length: 200 }, (_, i) => c.request({ type: 'GET', key: `k${i}` })),
    );
    reads.forEach((reply, i) => expect(reply).toMatchObject({ value: new Map([['i', i]]) }));
    expect(c.latencyMs).toBeGreaterThan(0);
  });

  test('a frame built elsewhere (PutBatchWriter) goes out with its own id', async () => {
    const c = await connect(port());
    const writer = new PutBatchWriter();
    for (const key of ['a', 'b', 'c'])
      writer.add(encodeRecord({ key, value: new Map([['x', 1]]), version: [1, 0, 'n'] }));
    await expect(c.requestFrame((id) => writer.frame(id))).resolves.toMatchObject({
      type: 'OK',
      appliedCount: 3,
    });
    await expect(c.request({ type: 'GET', key: 'b' })).resolves.toMatchObject({ type: 'OK' });
  });

  test('an ERROR reply rejects with a RemoteError carrying its code', async () => {
    const c = await connect(port());
    const failed = c.request({ type: 'GET', key: 'x'.repeat(17) });
    await expect(failed).rejects.toBeInstanceOf(RemoteError);
    await expect(failed).rejects.toMatchObject({ remoteCode: 'LIMIT' });
    // The connection goes on.
    await expect(c.request({ type: 'PING' })).resolves.toMatchObject({ type: 'OK' });
  });

  test('a request that times out fails alone: a server that answers the heartbeat stays up', async () => {
    const slow = await startMuteServer((r) =>
      r.type === 'PING' ? { type: 'OK', id: r.id } : undefined,
    );
    try {
      const c = await connect(slow.port, {
        requestTimeoutMs: 200,
        heartbeatMs: 50,
        heartbeatTimeoutMs: 400,
      });
      let downs = 0;
      c.on('down', () => downs++);
      await expect(c.request({ type: 'GET', key: 'k' })).rejects.toBeInstanceOf(TimeoutError);
      // Heartbeats keep going, answered, well past the heartbeat timeout.
      const pings = slow.received.filter((t) => t === 'PING').length;
      await waitFor(() => slow.received.filter((t) => t === 'PING').length >= pings + 10);
      expect([c.up, downs]).toEqual([true, 0]);
      await expect(c.request({ type: 'PING' })).resolves.toMatchObject({ type: 'OK' });
    } finally {
      await slow.close();
    }
  });

  test('a server that goes silent misses the heartbeat: down, saying why, until it reconnects', async () => {
    const c = await connect(mute.port, {
      requestTimeoutMs: 60_000,
      heartbeatMs: 50,
      heartbeatTimeoutMs: 300,
      reconnectMinMs: 10,
    });
    const down = new Promise<string>((resolve) => c.once('down', resolve));
    const waiting = c.request({ type: 'GET', key: 'k' });
    await expect(down).resolves.toMatch(/^no reply for \d+ ms \(missed heartbeat\)$/);
    // What waited fails then, not at its own (minute-long) timeout.
    await expect(waiting).rejects.toBeInstanceOf(ServerDownError);
    await expect(waiting).rejects.toThrow(/missed heartbeat/);
    // The mute server says HELLO again: the connection is back up.
    await waitFor(() => c.up);
  });

  test('an idle server is pinged: a silent one is found down with no request of ours waiting', async () => {
    const c = await connect(mute.port, { heartbeatMs: 50, heartbeatTimeoutMs: 300 });
    await expect(new Promise<string>((resolve) => c.once('down', resolve))).resolves.toMatch(
      /missed heartbeat/,
    );
  });

  test('a per-call timeout overrides the connection default', async () => {
    const c = await connect(mute.port, { requestTimeoutMs: 60_000 });
    await expect(c.request({ type: 'PING' }, { timeoutMs: 50 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
  });

  test('an abort signal rejects the request with its reason, before or after it is sent', async () => {
    // No heartbeat PING during the test: the mute server counts what it receives.
    const c = await connect(mute.port, { heartbeatMs: 60_000 });
    const early = new AbortController();
    early.abort(new Error('not wanted'));
    await expect(c.request({ type: 'PING' }, { signal: early.signal })).rejects.toThrow(
      'not wanted',
    );
    const late = new AbortController();
    const pending = c.request({ type: 'PING' }, { signal: late.signal });
    await waitFor(() => mute.received.length === 1);
    late.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
    // A settled request leaves nothing behind on the signal: aborting again changes nothing.
    const live = await connect(port());
    const signal = new AbortController();
    await live.request({ type: 'PING' }, { signal: signal.signal });
    signal.abort();
    await expect(live.request({ type: 'PING' })).resolves.toMatchObject({ type: 'OK' });
  });

  test('past maxPending requests in flight, new ones fail fast; a lost connection fails the rest', async () => {
    const c = await connect(mute.port, { maxPending: 2, reconnectMinMs: 10_000 });
    const first = c.request({ type: 'PING' });
    const second = c.request({ type: 'PING' });
    await expect(c.request({ type: 'PING' })).rejects.toBeInstanceOf(OverloadedError);
    for (const socket of mute.sockets) socket.destroy();
    await expect(first).rejects.toBeInstanceOf(ServerDownError);
    await expect(second).rejects.toBeInstanceOf(ServerDownError);
  });
});
