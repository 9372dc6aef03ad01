import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ErrorCode,
  PROTOCOL_VERSION,
  encodeFrame,
  type OkReply,
  type Reply,
  type Version,
} from '@triekv/protocol';
import { formatValue, parseValue, type Doc } from '@triekv/record';
import type { KvServer } from '@triekv/server';
import { RawClient, startServer, waitFor } from '@triekv/test-utils';

const doc = (text: string): Doc => parseValue(text) as Doc;
const v = (wall: number): Version => [wall, 0, 'test'];
const ok = (reply: Reply): OkReply => {
  if (reply.type !== 'OK') throw new Error(`expected OK, got ${JSON.stringify(reply)}`);
  return reply;
};

describe('server over TCP', () => {
  let server: KvServer;
  let port: number;
  const clients: RawClient[] = [];
  const client = async (): Promise<RawClient> => {
    const c = await RawClient.connect(port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    ({ server, port } = await startServer({ maxFrameSize: 64 * 1024 }));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await server.close();
  });

  it('answers pipelined mixed requests in order, matched by id', async () => {
    const c = await client();
    const replies = await Promise.all([
      c.request({
        type: 'PUT',
        key: 'person1',
        value: doc('{ "name" : "John" ; "age" : 22 }'),
        version: v(1),
      }),
      c.request({ type: 'GET', key: 'person1' }),
      c.request({ type: 'QUERY', key: 'person1', path: ['age'] }),
      c.request({ type: 'GET', key: 'nobody' }),
      c.request({ type: 'PING' }),
      c.request({ type: 'DELETE', key: 'person1', version: v(2) }),
      c.request({ type: 'GET', key: 'person1' }),
    ]);
    expect(replies.map((r) => r.type)).toEqual([
      'OK',
      'OK',
      'OK',
      'NOT_FOUND',
      'OK',
      'OK',
      'NOT_FOUND',
    ]);
    expect(formatValue(ok(replies[1]).value!)).toBe('{ "name" : "John" ; "age" : 22 }');
    expect(ok(replies[2]).value).toBe(22);
    expect(replies[6]).toMatchObject({ type: 'NOT_FOUND', version: v(2) });
    // Replies came back in request order on the wire.
    const ids = c.replies.map((r) => (r instanceof Error ? -1 : r.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('keeps versions: stale writes are reported as not applied', async () => {
    const c = await client();
    ok(await c.request({ type: 'PUT', key: 'k', value: doc('{ "v" : 2 }'), version: v(2) }));
    expect(
      await c.request({ type: 'PUT', key: 'k', value: doc('{ "v" : 1 }'), version: v(1) }),
    ).toMatchObject({
      type: 'OK',
      applied: false,
      version: v(2),
    });
    expect(
      await c.request({
        type: 'PUT_BATCH',
        records: [
          { key: 'k', value: doc('{}'), version: v(1) },
          { key: 'j', value: doc('{}'), version: v(1) },
        ],
      }),
    ).toMatchObject({ type: 'OK', appliedCount: 1, ignoredCount: 1 });
  });

  it('pages through SCAN with a cursor', async () => {
    const c = await client();
    const records = Array.from({ length: 50 }, (_, i) => ({
      key: `key${i}`,
      value: doc('{}'),
      version: v(1),
    }));
    ok(await c.request({ type: 'PUT_BATCH', records }));
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = ok(
        await c.request({
          type: 'SCAN',
          prefix: 'key',
          limit: 8,
          ...(after === undefined ? {} : { after }),
        }),
      );
      seen.push(...(page.keys ?? []));
      after = page.cursor;
    } while (after !== undefined);
    expect(seen).toEqual(records.map((r) => r.key).sort());
  });

  it('answers garbage with an ERROR and keeps serving that connection', async () => {
    const c = await client();
    c.raw(Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]));
    c.raw(Buffer.from([0, 0, 0, 2, 0x92, 0x63])); // [99, ...] truncated inside the frame
    const reply = await c.request({ type: 'PING' });
    expect(reply.type).toBe('OK');
    const errors = c.replies.filter((r) => !(r instanceof Error) && r.type === 'ERROR');
    expect(errors.length).toBe(2);
    // c1 c1 c1: one value and bytes left over; then a message cut short inside its frame.
    expect(errors.map((e) => (e as { code: string }).code)).toEqual([
      ErrorCode.CORRUPT,
      ErrorCode.CORRUPT,
    ]);
  });

  it('answers an unknown op with UNKNOWN_TYPE naming the id', async () => {
    const c = await client();
    const { packr } = await import('../../protocol/src/codec.js');
    const body = packr.pack([42, 7, 'x']);
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32BE(body.length);
    body.copy(frame, 4);
    const reply = c.expect(7);
    c.raw(frame);
    expect(await reply).toMatchObject({ type: 'ERROR', id: 7, code: ErrorCode.UNKNOWN_TYPE });
  });

  it('closes only the connection that sends an oversized frame', async () => {
    const bad = await client();
    const good = await client();
    bad.raw(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    await bad.closed;
    expect(bad.replies[0]).toMatchObject({ type: 'ERROR', code: ErrorCode.FRAME_TOO_LARGE });
    expect((await good.request({ type: 'PING' })).type).toBe('OK');
  });

  it('refuses values over the limits without closing the connection', async () => {
    const c = await client();
    const big = doc(`{ "s" : "${'x'.repeat(70 * 1024)}" }`);
    const tooBig = c.expect(5);
    c.raw(encodeFrame({ type: 'PUT', id: 5, key: 'big', value: big, version: v(1) }));
    await c.closed; // over maxFrameSize: the frame is refused and that connection closed
    expect(await tooBig.catch((e: Error) => e.message)).toBe('connection closed');
    const other = await client();
    let deep: Doc = new Map();
    for (let i = 0; i < 100; i++) deep = new Map([['a', deep]]);
    expect(
      await other.request({ type: 'PUT', key: 'deep', value: deep, version: v(1) }),
    ).toMatchObject({
      type: 'ERROR',
      code: ErrorCode.BAD_VALUE,
    });
    expect((await other.request({ type: 'PING' })).type).toBe('OK');
  });

  it('survives a client killed mid-frame', async () => {
    const c = await client();
    const frame = encodeFrame({
      type: 'PUT',
      id: 1,
      key: 'k',
      value: doc('{ "a" : 1 }'),
      version: v(1),
    });
    c.raw(frame.subarray(0, 7));
    c.destroy();
    await c.closed;
    const next = await client();
    expect((await next.request({ type: 'GET', key: 'k' })).type).toBe('NOT_FOUND');
    await waitFor(() => server.stats().connections === 1, 'the killed connection to be dropped');
  });

  it('stops reading from a slow reader and catches up when it reads again', async () => {
    const { server: slowServer, port: slowPort } = await startServer({ writeHighWater: 16 * 1024 });
    try {
      const socket = connect({ port: slowPort, host: '127.0.0.1' });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.pause(); // read nothing for now
      const value = doc(`{ "s" : "${'y'.repeat(10000)}" }`); // 2000 replies: 20 MB, more than socket buffers hold
      const put = encodeFrame({ type: 'PUT', id: 1, key: 'k', value, version: v(1) });
      const gets = Buffer.concat(
        Array.from({ length: 2000 }, (_, i) => encodeFrame({ type: 'GET', id: i + 2, key: 'k' })),
      );
      socket.write(Buffer.concat([put, gets]));
      // The server pauses the socket: fewer GETs are answered than sent while we do not read.
      await waitFor(
        () => (slowServer.stats().ops as Record<string, number>).GET !== undefined,
        'some GETs',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const answeredWhilePaused = (slowServer.stats().ops as Record<string, number>).GET ?? 0;
      expect(answeredWhilePaused).toBeLessThan(2000);
      // Read everything: all 2001 replies arrive.
      const { FrameDecoder } = await import('@triekv/protocol');
      const decoder = new FrameDecoder();
      let replies = 0;
      socket.on('data', (chunk: Buffer) => (replies += decoder.push(chunk).length));
      socket.resume();
      await waitFor(() => replies === 2001, 'all replies');
      socket.destroy();
    } finally {
      await slowServer.close();
    }
  });

  it('serves 200 concurrent connections', async () => {
    const many = await Promise.all(Array.from({ length: 200 }, () => client()));
    const replies = await Promise.all(
      many.map((c, i) =>
        c.request({ type: 'PUT', key: `c${i}`, value: doc(`{ "i" : ${i} }`), version: v(1) }),
      ),
    );
    expect(replies.every((r) => r.type === 'OK')).toBe(true);
    const reads = await Promise.all(
      many.map((c, i) => c.request({ type: 'QUERY', key: `c${(i + 1) % 200}`, path: ['i'] })),
    );
    reads.forEach((r, i) => expect(ok(r).value).toBe((i + 1) % 200));
    expect(server.stats().connections).toBe(200);
    expect(server.stats().keys).toBe(200);
  });

  it('reports STATS: keys, tombstones, connections, ops by type, uptime, memory', async () => {
    const c = await client();
    ok(await c.request({ type: 'PUT', key: 'a', value: doc('{}'), version: v(1) }));
    ok(await c.request({ type: 'DELETE', key: 'a', version: v(2) }));
    const stats = ok(await c.request({ type: 'STATS' })).stats!;
    expect(stats).toMatchObject({
      keys: 0,
      tombstones: 1,
      connections: 1,
      ops: { PUT: 1, DELETE: 1, STATS: 1 },
    });
    expect(typeof stats.uptimeSeconds).toBe('number');
    expect(stats.memoryRssBytes as number).toBeGreaterThan(0);
  });

  it('answers HELLO with its identity and refuses another protocol version', async () => {
    const c = await client();
    expect(ok(await c.request({ type: 'HELLO', protocol: PROTOCOL_VERSION })).server).toMatchObject(
      {
        protocol: PROTOCOL_VERSION,
        name: 'triekv',
      },
    );
    expect(await c.request({ type: 'HELLO', protocol: 99 })).toMatchObject({
      type: 'ERROR',
      code: ErrorCode.PROTOCOL_VERSION,
    });
  });
});

describe('server limits and auth', () => {
  it('requires HELLO with the token first when auth is on', async () => {
    const { server, port } = await startServer({ authToken: 's3cret' });
    try {
      const anon = await RawClient.connect(port);
      expect(await anon.request({ type: 'GET', key: 'x' })).toMatchObject({
        type: 'ERROR',
        code: ErrorCode.AUTH_REQUIRED,
      });
      await anon.closed;
      const wrong = await RawClient.connect(port);
      expect(
        await wrong.request({ type: 'HELLO', protocol: PROTOCOL_VERSION, token: 'nope' }),
      ).toMatchObject({
        code: ErrorCode.AUTH_FAILED,
      });
      await wrong.closed;
      const right = await RawClient.connect(port);
      expect(
        (await right.request({ type: 'HELLO', protocol: PROTOCOL_VERSION, token: 's3cret' })).type,
      ).toBe('OK');
      expect((await right.request({ type: 'GET', key: 'x' })).type).toBe('NOT_FOUND');
      right.destroy();
    } finally {
      await server.close();
    }
  });

  it('refuses connections past maxConnections with an ERROR', async () => {
    const { server, port } = await startServer({ maxConnections: 2 });
    try {
      const a = await RawClient.connect(port);
      const b = await RawClient.connect(port);
      await waitFor(() => server.stats().connections === 2, 'two connections');
      const c = await RawClient.connect(port);
      await c.closed;
      expect(c.replies[0]).toMatchObject({ type: 'ERROR', code: ErrorCode.LIMIT });
      expect((await a.request({ type: 'PING' })).type).toBe('OK');
      a.destroy();
      b.destroy();
    } finally {
      await server.close();
    }
  });

  it('closes idle connections after idleTimeoutMs', async () => {
    const { server, port } = await startServer({ idleTimeoutMs: 100 });
    try {
      const c = await RawClient.connect(port);
      await c.closed;
      expect(server.status).toBe('listening');
    } finally {
      await server.close();
    }
  });

  it('cannot listen twice, and closing twice is fine', async () => {
    const { server } = await startServer();
    await expect(server.listen()).rejects.toThrow(/cannot listen: the server is listening/);
    await server.close();
    await server.close();
    expect(server.status).toBe('closed');
  });

  it('close() during listen() wins: the start is cancelled and nothing stays bound', async () => {
    const { createServer } = await import('@triekv/server');
    const dir = mkdtempSync(join(tmpdir(), 'triekv-close-'));
    try {
      for (const options of [{}, { dataDir: join(dir, 'data') }]) {
        const server = createServer({ host: '127.0.0.1', port: 0, ...options });
        const listening = server.listen();
        expect(server.status).toBe('starting');
        await server.close();
        await expect(listening).rejects.toThrow('closed before it finished starting');
        expect(server.status).toBe('closed');
        expect(() => server.address()).toThrow('not listening');
      }
      // The data directory was released: another server can open it.
      const again = createServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data') });
      await again.listen();
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the address that is in use', async () => {
    const { server, port } = await startServer();
    try {
      const { createServer } = await import('@triekv/server');
      await expect(createServer({ port }).listen()).rejects.toThrow(
        `127.0.0.1:${port} is already in use`,
      );
    } finally {
      await server.close();
    }
  });

  it('checks its options, naming the field', async () => {
    const { createServer } = await import('@triekv/server');
    expect(() => createServer({ port: -1 })).toThrow(
      'options.port must be a whole number >= 0, got -1',
    );
    expect(() => createServer({ authToken: '' })).toThrow(
      'options.authToken must be a non-empty string',
    );
  });
});
