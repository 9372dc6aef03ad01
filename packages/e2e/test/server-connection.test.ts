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

  test('a request with no reply times out, and the server counts as down until it reconnects', async () => {
    const c = await connect(mute.port, { requestTimeoutMs: 200, reconnectMinMs: 10 });
    const down = new Promise<string>((resolve) => c.once('down', resolve));
    await expect(c.request({ type: 'PING' })).rejects.toBeInstanceOf(TimeoutError);
    await down;
    await expect(c.request({ type: 'PING' })).rejects.toBeInstanceOf(ServerDownError);
    await waitFor(() => c.up);
  });

  test('a per-call timeout overrides the connection default', async () => {
    const c = await connect(mute.port, { requestTimeoutMs: 60_000 });
    await expect(c.request({ type: 'PING' }, { timeoutMs: 50 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
  });

  test('an abort signal rejects the request with its reason, before or after it is sent', async () => {
    const c = await connect(mute.port);
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
