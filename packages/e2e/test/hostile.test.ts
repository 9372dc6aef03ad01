import { connect, type Socket } from 'node:net';
import { Broker } from '@triekv/broker';
import { PROTOCOL_VERSION, encodeFrame, type Reply } from '@triekv/protocol';
import { parseValue, type Doc } from '@triekv/record';
import {
  RawClient,
  seededRandom,
  startServerProcess,
  waitFor,
  type ServerProcess,
} from '@triekv/test-utils';

/** A frame around raw msgpack bytes. */
const frame = (body: Buffer): Buffer => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
};
const str = (s: string): Buffer => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]);
/** `[3 (PUT), id, key, <value bytes>, [1, 0, "n"]]` */
const putWith = (id: number, value: Buffer): Buffer =>
  frame(
    Buffer.concat([
      Buffer.from([0x95, 0x03, id]),
      str('k'),
      value,
      Buffer.from([0x93, 1, 0]),
      str('n'),
    ]),
  );

/**
 * A document whose tree has 2^depth nodes, in a few bytes per level, with msgpackr's structured-clone
 * references: level i is `id_i: { a: <level i-1, defined>, b: <pointer to level i-1> }`.
 */
function referenceBomb(depth: number): Buffer {
  const id = (kind: number, n: number): Buffer => {
    const b = Buffer.from([0xd6, kind, 0, 0, 0, 0]);
    b.writeUInt32BE(n, 2);
    return b;
  };
  let level = Buffer.concat([id(0x69, 0), Buffer.from([0x80])]);
  for (let i = 1; i <= depth; i++)
    level = Buffer.concat([
      id(0x69, i),
      Buffer.from([0x82]),
      str('a'),
      level,
      str('b'),
      id(0x70, i - 1),
    ]);
  return level;
}

/** Resolves with the reply to a PING on a fresh connection (authenticating first when a token is given). */
async function ping(port: number, token?: string): Promise<Reply> {
  const client = await RawClient.connect(port);
  try {
    if (token !== undefined)
      await client.request({ type: 'HELLO', protocol: PROTOCOL_VERSION, token });
    return await client.request({ type: 'PING' });
  } finally {
    client.destroy();
  }
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('a kv-server facing hostile clients', () => {
  const started: ServerProcess[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    const stopping = started.splice(0);
    for (const s of stopping) s.kill('SIGKILL');
    await Promise.all(stopping.map((s) => s.exited));
  });
  const server = async (args: string[] = []): Promise<ServerProcess> => {
    const s = await startServerProcess(args);
    started.push(s);
    return s;
  };

  it('refuses a 704-byte reference bomb before authentication, and keeps answering others', async () => {
    const s = await server(['--auth-token', 't0ken']);
    const bomb = putWith(1, referenceBomb(40));
    expect(bomb.length).toBeLessThan(800);
    const attacker = await RawClient.connect(s.port);
    attacker.raw(bomb);
    await waitFor(() => attacker.replies.length > 0, 'a reply to the bomb');
    expect(attacker.replies[0]).toMatchObject({ type: 'ERROR', code: 'BAD_VALUE' });
    expect((attacker.replies[0] as { message: string }).message).toBe(
      'msgpack extension type 0x69 is not supported',
    );
    attacker.destroy();
    expect(await ping(s.port, 't0ken')).toMatchObject({ type: 'OK' });
  });

  it('does not store an amplified document (depth 20) and stays fast for the next GET', async () => {
    const s = await server();
    const client = await RawClient.connect(s.port);
    client.raw(putWith(2, referenceBomb(20)));
    await waitFor(() => client.replies.length > 0, 'the reply');
    expect(client.replies[0]).toMatchObject({ type: 'ERROR', id: 2, code: 'BAD_VALUE' });
    expect(await client.request({ type: 'GET', key: 'k' })).toMatchObject({ type: 'NOT_FOUND' });
    client.destroy();
  });

  it('refuses a 4 MB integer at once (the integer size limit), and a 200-byte one under a raised limit is kept', async () => {
    const s = await server();
    const big = Buffer.alloc(4 * 1024 * 1024, 0x7f);
    const ext = Buffer.alloc(6);
    ext[0] = 0xc9;
    ext.writeUInt32BE(big.length, 1);
    ext[5] = 0x42;
    const client = await RawClient.connect(s.port);
    client.raw(putWith(3, Buffer.concat([Buffer.from([0x81]), str('n'), ext, big])));
    await waitFor(() => client.replies.length > 0, 'the reply');
    expect(client.replies[0]).toMatchObject({
      type: 'ERROR',
      id: 3,
      code: 'LIMIT',
      message: `an integer of ${big.length} bytes exceeds the limit of 64 bytes`,
    });
    expect(await ping(s.port)).toMatchObject({ type: 'OK' });
    client.destroy();
    const raised = await server(['--max-int-bytes', '256']);
    const c2 = await RawClient.connect(raised.port);
    const n = 2n ** 1599n;
    await c2.request({ type: 'PUT', key: 'n', value: new Map([['n', n]]), version: [1, 0, 'n'] });
    expect(await c2.request({ type: 'GET', key: 'n' })).toMatchObject({
      value: new Map([['n', n]]),
    });
    c2.destroy();
  });

  it('closes a client that sends more than a small frame before HELLO', async () => {
    const s = await server(['--auth-token', 't0ken']);
    const socket = await rawSocket(s.port);
    sockets.push(socket);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(15 * 1024 * 1024);
    let received = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(Buffer.concat([header, Buffer.alloc(1000)]));
    await closed;
    expect(received.subarray(4).toString()).toContain('a frame of 15728644 bytes before HELLO');
  });

  it('closes a client that does not authenticate in time', async () => {
    const s = await server(['--auth-token', 't0ken', '--auth-timeout', '300']);
    const socket = await rawSocket(s.port);
    sockets.push(socket);
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString()));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(received).toContain('authentication timed out: no HELLO with the token within 300 ms');
  });

  it('lets a client with the token in while idle unauthenticated sockets fill their own limit', async () => {
    const s = await server([
      '--auth-token',
      't0ken',
      '--max-unauthenticated',
      '5',
      '--max-connections',
      '3',
    ]);
    let closed = 0;
    for (let i = 0; i < 20; i++) {
      const socket = await rawSocket(s.port);
      socket.once('close', () => closed++);
      socket.resume();
      sockets.push(socket);
    }
    // The oldest idle ones made room for the newer ones: 5 are left waiting.
    await waitFor(() => closed === 15, '15 idle sockets closed');
    for (let i = 0; i < 3; i++) expect(await ping(s.port, 't0ken')).toMatchObject({ type: 'OK' });
  });

  it('checks every HELLO: a wrong token or protocol later on ends the connection', async () => {
    const s = await server(['--auth-token', 't0ken']);
    const client = await RawClient.connect(s.port);
    expect(
      await client.request({ type: 'HELLO', protocol: PROTOCOL_VERSION, token: 't0ken' }),
    ).toMatchObject({
      type: 'OK',
    });
    expect(
      await client.request({ type: 'HELLO', protocol: PROTOCOL_VERSION, token: 'wrong' }),
    ).toMatchObject({
      type: 'ERROR',
      code: 'AUTH_FAILED',
    });
    await client.closed;
    const other = await RawClient.connect(s.port);
    expect(await other.request({ type: 'HELLO', protocol: 9, token: 't0ken' })).toMatchObject({
      type: 'ERROR',
      code: 'PROTOCOL_VERSION',
    });
    await other.closed;
  });

  it('refuses invalid UTF-8 in a key instead of turning it into U+FFFD', async () => {
    const s = await server();
    const client = await RawClient.connect(s.port);
    const bad = Buffer.from([0xa2, 0xed, 0xa0]); // a lone surrogate's first two bytes
    client.raw(
      frame(
        Buffer.concat([
          Buffer.from([0x95, 0x03, 4]),
          bad,
          Buffer.from([0x80, 0x93, 1, 0]),
          str('n'),
        ]),
      ),
    );
    await waitFor(() => client.replies.length > 0, 'the reply');
    expect(client.replies[0]).toMatchObject({
      type: 'ERROR',
      code: 'BAD_VALUE',
      message: 'a string is not valid UTF-8',
    });
    expect(() => encodeFrame({ type: 'GET', id: 1, key: 'a\uD800' })).toThrow('lone surrogate');
    client.destroy();
  });

  it('refuses a document with more keys than --max-doc-keys', async () => {
    const s = await server(['--max-doc-keys', '1000']);
    const client = await RawClient.connect(s.port);
    const value = new Map(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    expect(
      await client.request({ type: 'PUT', key: 'wide', value, version: [1, 0, 'n'] }),
    ).toMatchObject({
      type: 'ERROR',
      code: 'LIMIT',
      message: 'a document has 1001 keys, more than the limit of 1000 (maxDocKeys)',
    });
    client.destroy();
  });

  it('fuzz: 3,000 damaged and random frames never stop it answering another client within a second', async () => {
    const s = await server(['--auth-token', 't0ken', '--max-unauthenticated', '16']);
    const random = seededRandom(20261201);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const doc = parseValue(
      '{ "a" : 1 ; "b" : { "c" : "x" ; "d" : 1.5 } ; "e" : 123456789012345678901 }',
    ) as Doc;
    const valid = [
      encodeFrame({ type: 'HELLO', id: 1, protocol: PROTOCOL_VERSION, token: 't0ken' }),
      encodeFrame({ type: 'PUT', id: 2, key: 'k', value: doc, version: [1, 0, 'n'] }),
      encodeFrame({
        type: 'PUT_BATCH',
        id: 3,
        records: [{ key: 'b', value: doc, version: [2, 0, 'n'] }],
      }),
      encodeFrame({ type: 'QUERY', id: 4, key: 'k', path: ['b', 'c'] }),
      encodeFrame({ type: 'SCAN', id: 5, prefix: '', limit: 10 }),
      putWith(6, referenceBomb(12)),
    ].map((f) => Buffer.from(f));
    const damaged = (): Buffer => {
      const f = Buffer.from(pick(valid));
      const kind = random();
      if (kind < 0.5)
        for (let i = 0; i < 1 + random() * 4; i++)
          f[4 + Math.floor(random() * (f.length - 4))] = Math.floor(random() * 256);
      else if (kind < 0.7) return f.subarray(0, Math.floor(random() * f.length));
      else if (kind < 0.85) {
        const body = Buffer.from(
          Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
        );
        return frame(body);
      }
      return f;
    };
    const probe = await RawClient.connect(s.port);
    await probe.request({ type: 'HELLO', protocol: PROTOCOL_VERSION, token: 't0ken' });
    for (let batch = 0; batch < 30; batch++) {
      const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(s.port)));
      for (const c of clients) {
        // Half of them authenticate first, so the fuzz reaches the request handlers too.
        if (random() < 0.5) c.raw(valid[0] as Buffer);
        for (let i = 0; i < 25; i++) c.raw(damaged());
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no PING reply within 1 s after batch ${batch}`)),
          1000,
        );
      });
      await expect(Promise.race([probe.request({ type: 'PING' }), late])).resolves.toMatchObject({
        type: 'OK',
      });
      clearTimeout(timer);
      for (const c of clients) c.destroy();
    }
    probe.destroy();
    expect(s.child.exitCode).toBeNull();
  });

  it('refuses a planted far-future version, naming the key; a broker reading one keeps its clock', async () => {
    const s = await server();
    const client = await RawClient.connect(s.port);
    const planted: [number, number, string] = [
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
      '~',
    ];
    const value = new Map([['a', 1]]) as Doc;
    const reply = await client.request({ type: 'PUT', key: 'victim', value, version: planted });
    expect(reply).toMatchObject({ type: 'ERROR', code: 'BAD_VALUE' });
    expect((reply as { message: string }).message).toMatch(
      /^the version of "victim" is \d+ ms ahead of this server's clock \(at most 60000 ms, --max-clock-drift\)$/,
    );
    client.destroy();
    // A server that allows it (a huge drift): the broker warns on the read and its writes still work.
    const lax = await server(['--max-clock-drift', String(Number.MAX_SAFE_INTEGER)]);
    const c2 = await RawClient.connect(lax.port);
    await c2.request({ type: 'PUT', key: 'victim', value, version: planted });
    c2.destroy();
    const broker = new Broker({ servers: [{ host: '127.0.0.1', port: lax.port }], k: 1 });
    try {
      await broker.start();
      const read = await broker.get('victim');
      expect(read.warnings.some((w) => w.startsWith('"victim" carries a version'))).toBe(true);
      const put = await broker.put('other', value);
      expect(put.version[0]).toBeLessThan(Date.now() + 1000);
      expect((await broker.get('other')).found).toBe(true);
    } finally {
      await broker.close();
    }
  });

  it('applies a 100,000-record PUT_BATCH in slices: another client is answered meanwhile, and order holds', async () => {
    const s = await server();
    const loader = await RawClient.connect(s.port);
    const other = await RawClient.connect(s.port);
    const value = new Map([['n', 1]]) as Doc;
    const records = Array.from({ length: 100_000 }, (_, i) => ({
      key: `b${i}`,
      value,
      version: [1, 0, 'n'] as [number, number, string],
    }));
    const order: string[] = [];
    const batch = loader.request({ type: 'PUT_BATCH', records }).then((r) => {
      order.push('batch');
      return r;
    });
    // The same connection's next request is answered after the batch, never before.
    const after = loader.request({ type: 'GET', key: 'b99999' }).then((r) => {
      order.push('after');
      return r;
    });
    // Pings on another connection, until the batch is answered.
    let pings = 0;
    while (!order.includes('batch')) {
      await other.request({ type: 'PING' });
      if (!order.includes('batch')) pings++;
    }
    expect(await batch).toMatchObject({ type: 'OK', appliedCount: 100_000, ignoredCount: 0 });
    expect(await after).toMatchObject({ type: 'OK', value });
    expect(order).toEqual(['batch', 'after']);
    // Applied whole, it answered one ping (sent while the frame was still arriving); in slices of 2,000,
    // about one per slice.
    expect(pings).toBeGreaterThan(10);
    loader.destroy();
    other.destroy();
  });
});
