import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '@triekv/broker';
import { parseValue, valuesEqual } from '@triekv/record';
import type { KvServer } from '@triekv/server';
import {
  PYTHON,
  hasRedisPy,
  rawExchange,
  runPython,
  startServer,
  startServerProcess,
  waitFor,
} from '@triekv/test-utils';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

const raw = rawExchange;

describe('kv-server over RESP', () => {
  let server: KvServer;
  let port: number;
  let redis: Redis;

  beforeAll(async () => {
    server = (await startServer({ respPort: 0 })).server;
    port = server.respAddress().port;
    redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
  });

  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });

  beforeEach(async () => {
    await redis.flushall();
  });

  it('ioredis: strings, with Redis replies', async () => {
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.echo('hi')).toBe('hi');
    expect(await redis.set('k', 'v')).toBe('OK');
    expect(await redis.get('k')).toBe('v');
    expect(await redis.set('k', 'w', 'NX')).toBeNull();
    expect(await redis.set('new', 'x', 'XX')).toBeNull();
    expect(await redis.set('k', 'w', 'GET')).toBe('v');
    expect(await redis.setnx('k', 'z')).toBe(0);
    expect(await redis.getset('k', 'y')).toBe('w');
    expect(await redis.getdel('k')).toBe('y');
    expect(await redis.get('k')).toBeNull();
    expect(await redis.mset('a', '1', 'b', '2')).toBe('OK');
    expect(await redis.mget('a', 'b', 'nope')).toEqual(['1', '2', null]);
    expect(await redis.msetnx('a', '9', 'c', '3')).toBe(0);
    expect(await redis.msetnx('c', '3', 'd', '4')).toBe(1);
    expect(await redis.append('a', 'xyz')).toBe(4);
    expect(await redis.strlen('a')).toBe(4);
    expect(await redis.getrange('a', 1, -2)).toBe('xy');
    expect(await redis.incr('n')).toBe(1);
    expect(await redis.incrby('n', 41)).toBe(42);
    expect(await redis.decr('n')).toBe(41);
    expect(await redis.decrby('n', 40)).toBe(1);
    expect(await redis.incrbyfloat('f', '1.5')).toBe('1.5');
    expect(await redis.incrbyfloat('f', '0.25')).toBe('1.75');
    await expect(redis.incr('a')).rejects.toThrow('ERR value is not an integer or out of range');
    await redis.set('max', '9223372036854775807');
    await expect(redis.incr('max')).rejects.toThrow('ERR increment or decrement would overflow');
    await expect(redis.set('k', 'v', 'EX', 10)).rejects.toThrow('expiry');
  });

  it('ioredis: keys, SCAN to the end, TYPE, RENAME, DBSIZE', async () => {
    for (let i = 0; i < 250; i++) await redis.set(`user:${i}`, String(i));
    await redis.set('other', 'x');
    expect(await redis.dbsize()).toBe(251);
    expect(await redis.exists('user:1', 'user:2', 'missing')).toBe(2);
    expect((await redis.keys('user:1?')).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `user:1${i}`).sort(),
    );
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'user:*', 'COUNT', 37);
      keys.forEach((k) => seen.add(k));
      cursor = next;
    } while (cursor !== '0');
    expect(seen.size).toBe(250);
    for (const bad of ['abc', '-1', '2'])
      await expect(redis.scan(bad)).rejects.toThrow(/^ERR invalid cursor$/);
    expect(await redis.type('other')).toBe('string');
    expect(await redis.type('missing')).toBe('none');
    expect(await redis.rename('other', 'renamed')).toBe('OK');
    expect(await redis.get('renamed')).toBe('x');
    await expect(redis.rename('missing', 'x')).rejects.toThrow('ERR no such key');
    expect(await redis.randomkey()).toMatch(/^(user:\d+|renamed)$/);
    expect(await redis.del('renamed', 'user:1', 'missing')).toBe(2);
    expect(await redis.unlink('user:2')).toBe(1);
  });

  it('stops reading from a client that does not read its replies, and catches up when it does', async () => {
    const slow = (await startServer({ respPort: 0, writeHighWater: 16 * 1024 })).server;
    try {
      const socket = connect({ port: slow.respAddress().port, host: '127.0.0.1' });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.pause(); // read nothing for now
      const value = 'y'.repeat(10_000); // 2,000 replies: 20 MB, more than socket buffers hold
      const set = `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value.length}\r\n${value}\r\n`;
      socket.write(set + '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'.repeat(2000));
      const connections = (slow as unknown as { respConnections: Set<{ socket: Socket }> })
        .respConnections;
      await waitFor(
        () => [...connections].some((c) => c.socket.isPaused()),
        'the server to stop reading',
      );
      const answered = (slow.stats().ops as Record<string, number>)['resp:get'] ?? 0;
      expect(answered).toBeGreaterThan(0);
      expect(answered).toBeLessThan(2000);
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.resume();
      const reply = `$${value.length}\r\n${value}\r\n`.length;
      await waitFor(() => bytes === '+OK\r\n'.length + 2000 * reply, 'every reply');
      socket.destroy();
    } finally {
      await slow.close();
    }
  });

  it('ioredis: binary values of every byte, a 1 MiB value, and a pipeline of 10,000 commands in order', async () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await redis.set(Buffer.from('bin'), every);
    expect((await redis.getBuffer('bin'))?.equals(every)).toBe(true);
    const big = Buffer.alloc(1 << 20, 7);
    big[12345] = 0;
    await redis.set('big', big);
    expect((await redis.getBuffer('big'))?.equals(big)).toBe(true);
    const pipeline = redis.pipeline();
    for (let i = 0; i < 10_000; i++) {
      if (i % 2 === 0) pipeline.set(`p${i}`, String(i));
      else pipeline.get(`p${i - 1}`);
    }
    const results = (await pipeline.exec()) ?? [];
    expect(results).toHaveLength(10_000);
    results.forEach(([error, value], i) => {
      expect(error).toBeNull();
      expect(value).toBe(i % 2 === 0 ? 'OK' : String(i - 1));
    });
  });

  it('ioredis: server, client and COMMAND answers', async () => {
    expect(await redis.select(0)).toBe('OK');
    await expect(redis.select(1)).rejects.toThrow('out of range');
    expect(await redis.client('SETNAME', 'tester')).toBe('OK');
    expect(await redis.client('GETNAME')).toBe('tester');
    expect(typeof (await redis.client('ID'))).toBe('number');
    expect(await redis.client('LIST')).toContain('name=tester');
    const info = await redis.info();
    expect(info).toContain('# Server');
    expect(info).toContain('loading:0');
    await redis.set('x', '1');
    expect(await redis.info('keyspace')).toContain('db0:keys=1,expires=0,avg_ttl=0');
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    const [seconds, micros] = (await redis.time()).map(Number) as [number, number];
    expect(Math.abs(Number(seconds) - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(micros)).toBeLessThan(1_000_000);
    expect(await redis.command('COUNT')).toBeGreaterThan(40);
    const [getInfo] = (await redis.command('INFO', 'get')) as [unknown[]];
    expect(getInfo.slice(0, 2)).toEqual(['get', 2]);
    await expect(redis.call('NOSUCH', 'a')).rejects.toThrow(
      "ERR unknown command 'NOSUCH', with args beginning with: 'a'",
    );
    await expect(redis.call('GET')).rejects.toThrow(
      "ERR wrong number of arguments for 'get' command",
    );
  });

  it('node-redis over RESP2 and RESP3', async () => {
    for (const RESP of [2, 3] as const) {
      await redis.flushall();
      const client = createClient({ socket: { port, host: '127.0.0.1' }, RESP });
      client.on('error', () => undefined);
      await client.connect();
      try {
        expect(await client.ping()).toBe('PONG');
        expect(await client.set('nr', 'value')).toBe('OK');
        expect(await client.get('nr')).toBe('value');
        expect(await client.incr('nrc')).toBe(1);
        expect(await client.mGet(['nr', 'none'])).toEqual(['value', null]);
        expect(await client.exists('nr')).toBe(1);
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: 'nr*', COUNT: 1 }))
          keys.push(...batch);
        expect(keys.sort()).toEqual(['nr', 'nrc']);
        expect(await client.dbSize()).toBe(2);
        const hello: unknown = await client.sendCommand(['HELLO']);
        expect(
          RESP === 3 ? (hello as Record<string, unknown>).proto : (hello as unknown[])[5],
        ).toBe(RESP);
      } finally {
        await client.close();
      }
    }
  });

  it('JSON.* as node-redis (RedisJSON replies) and ioredis use them; ints and floats keep their kind', async () => {
    const client = createClient({ socket: { port, host: '127.0.0.1' } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      expect(
        await client.json.set('doc', '$', { a: 1, l: [1, 2], o: { x: 'y' }, n: null, t: true }),
      ).toBe('OK');
      expect(await client.json.get('doc')).toEqual({
        a: 1,
        l: [1, 2],
        o: { x: 'y' },
        n: null,
        t: true,
      });
      expect(await client.json.get('doc', { path: '$.l[1]' })).toEqual([2]);
      expect(await client.json.set('doc', '$.o.z', 5)).toBe('OK');
      expect(await client.json.set('doc', '$.o.z', 6, { condition: 'NX' })).toBeNull();
      // RedisJSON's raw reply shapes, as ioredis passes them through.
      expect(await redis.call('JSON.TYPE', 'doc', '$.o')).toEqual(['object']);
      expect(await redis.call('JSON.OBJKEYS', 'doc', '$.o')).toEqual([['x', 'z']]);
      expect(await redis.call('JSON.ARRAPPEND', 'doc', '$.l', '3', '"four"')).toEqual([4]);
      expect(await redis.call('JSON.ARRLEN', 'doc', '$.l')).toEqual([4]);
      expect(await redis.call('JSON.NUMINCRBY', 'doc', '$.a', '2')).toBe('[3]');
      expect(await redis.call('JSON.DEL', 'doc', '$.l[0]')).toBe(1);
      expect(await client.json.get('doc', { path: '$.l' })).toEqual([[2, 3, 'four']]);
      expect(await client.json.mGet(['doc', 'none'], '$.a')).toEqual([[3], null]);
      expect(await client.json.del('doc')).toBe(1);
      expect(await client.exists('doc')).toBe(0);
    } finally {
      await client.close();
    }
    // The exact text: 1.0 stays a float, big ints stay exact, legacy paths answer bare values.
    await redis.call(
      'JSON.SET',
      'f',
      '$',
      '{"x":1.0,"big":123456789012345678901234567890,"s":"t"}',
    );
    expect(await redis.call('JSON.GET', 'f')).toBe(
      '{"x":1.0,"big":123456789012345678901234567890,"s":"t"}',
    );
    expect(await redis.call('JSON.NUMINCRBY', 'f', '.x', '1')).toBe('2.0');
    expect(await redis.call('JSON.GET', 'f', '.s')).toBe('"t"');
    expect(await redis.call('JSON.TYPE', 'f', '.big')).toBe('integer');
    await expect(redis.call('JSON.GET', 'f', '.missing')).rejects.toThrow(
      "ERR Path '.missing' does not exist",
    );
    await expect(redis.call('JSON.SET', 'f', '$', '{bad')).rejects.toThrow('ERR invalid JSON');
    await expect(redis.call('JSON.ARRLEN', 'f', '.x')).rejects.toThrow('WRONGTYPE');
  });

  it('reads what the native protocol wrote, and the reverse', async () => {
    const broker = new Broker({
      servers: [{ host: '127.0.0.1', port: server.address().port }],
      k: 1,
    });
    await broker.start();
    try {
      await broker.put('doc', parseValue('{ "name" : "Mary" ; "items" : [ 1 ; 2.0 ] }'));
      expect(await redis.call('KV.GET', 'doc')).toBe(
        '"doc" : { "name" : "Mary" ; "items" : [ 1 ; 2.0 ] }',
      );
      expect(await redis.call('KV.QUERY', 'doc.items[1]')).toBe('doc.items[1] : 2.0');
      expect(await redis.call('KV.QUERY', 'doc', 'JSON')).toBe('{"name":"Mary","items":[1,2.0]}');
      await expect(redis.get('doc')).rejects.toThrow('WRONGTYPE');
      expect(await redis.type('doc')).toBe('ReJSON-RL');
      await redis.set('fromresp', Buffer.from([0, 1, 2]));
      const got = await broker.get('fromresp');
      expect(got.found && valuesEqual(got.value as Uint8Array, Uint8Array.from([0, 1, 2]))).toBe(
        true,
      );
      // A native write of a later version replaces a RESP one, and the reverse: versions rule both.
      await broker.put('shared', 'native');
      await redis.set('shared', 'resp');
      expect((await broker.get('shared')).value).toEqual(new Uint8Array(Buffer.from('resp')));
      await broker.put('shared', 'native again');
      expect(await redis.get('shared')).toBe('native again');
      expect(await redis.call('KV.PUT', '"kv" : { "a" : [ true ; null ] }')).toBe('OK');
      expect(await redis.call('KV.SCAN', 'k')).toEqual(['kv']);
      expect((await broker.get('kv')).value).toEqual(parseValue('{ "a" : [ true ; null ] }'));
    } finally {
      await broker.close();
    }
  });

  it('answers a protocol error with -ERR Protocol error and closes only that connection', async () => {
    const bad = await raw(port, '*2\r\n$3\r\nGET\r\n:1\r\n');
    expect(bad).toEqual({ text: "-ERR Protocol error: expected '$', got ':'\r\n", closed: true });
    const huge = await raw(port, '*1\r\n$99999999999\r\n');
    expect(huge.text).toBe('-ERR Protocol error: invalid bulk length\r\n');
    const inline = await raw(port, 'PING\r\nSET "a b" c\r\nGET "a b"\r\n', 500);
    expect(inline.text).toBe('+PONG\r\n+OK\r\n$1\r\nc\r\n');
    // Random bytes never stop it answering others.
    for (let i = 0; i < 50; i++)
      await raw(
        port,
        Buffer.from(Array.from({ length: 64 }, () => Math.floor(Math.random() * 256))),
        50,
      );
    expect(await redis.ping()).toBe('PONG');
  });
});

describe('RESP with an auth token', () => {
  it('refuses everything but AUTH and HELLO before the token, and takes it from clients', async () => {
    const server = (await startServer({ respPort: 0, authToken: 's3cret' })).server;
    const port = server.respAddress().port;
    try {
      const before = await raw(port, 'GET k\r\nAUTH wrong\r\nAUTH s3cret\r\nSET k v\r\n', 500);
      expect(before.text).toBe(
        '-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+OK\r\n',
      );
      const good = new Redis({ port, host: '127.0.0.1', password: 's3cret', lazyConnect: true });
      await good.connect();
      expect(await good.get('k')).toBe('v');
      good.disconnect();
      const node = createClient({
        socket: { port, host: '127.0.0.1' },
        password: 's3cret',
        RESP: 3,
      });
      await node.connect();
      expect(await node.get('k')).toBe('v');
      await node.close();
      const hello = await raw(port, 'HELLO 3 AUTH default s3cret\r\nGET k\r\n', 500);
      expect(hello.text).toContain('%8\r\n$6\r\nserver\r\n$5\r\nredis\r\n');
      expect(hello.text.endsWith('$1\r\nv\r\n')).toBe(true);
      expect((await raw(port, 'HELLO 4\r\n', 300)).text).toBe(
        '-NOPROTO unsupported protocol version\r\n',
      );
    } finally {
      await server.close();
    }
  });
});

describe('RESP on a durable server', () => {
  it('acknowledges a write only once it is in the log: it survives kill -9, and a graceful stop answers what it received, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-resp-'));
    const first = await startServerProcess([
      '--resp-port',
      '0',
      '--data-dir',
      dir,
      '--fsync',
      'always',
    ]);
    const client = new Redis({
      port: first.respPort,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    await client.connect();
    const pipeline = client.pipeline();
    for (let i = 0; i < 500; i++) pipeline.set(`k${i}`, `v${i}`);
    pipeline.incrby('counter', 7);
    await pipeline.exec();
    first.kill('SIGKILL');
    await first.exited;
    client.disconnect();
    const second = await startServerProcess(['--resp-port', '0', '--data-dir', dir]);
    const again = new Redis({
      port: second.respPort,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    await again.connect();
    expect(await again.dbsize()).toBe(501);
    expect(await again.get('k499')).toBe('v499');
    expect(await again.get('counter')).toBe('7');
    // SIGTERM while a pipeline is in flight: every command sent gets its reply before the close.
    const late = again.pipeline();
    for (let i = 0; i < 2000; i++) late.incr('late');
    const replies = late.exec();
    second.kill('SIGTERM');
    const results = (await replies) ?? [];
    // What the server had received when the signal came is answered, in order; the rest fails whole
    // (the connection closed), never half-answered.
    const answered = results.findIndex(([error]) => error !== null);
    const ok = answered < 0 ? results : results.slice(0, answered);
    expect(ok.length).toBeGreaterThan(0);
    ok.forEach(([, value], i) => expect(value).toBe(i + 1));
    expect(results.slice(ok.length).every(([error]) => error !== null)).toBe(true);
    expect(await second.exited).toBe(0);
    again.disconnect();
  });
});

const haveRedisCli = spawnSync('redis-cli', ['--version']).error === undefined;

(haveRedisCli ? describe : describe.skip)('redis-cli against kv-server --resp-port', () => {
  if (!haveRedisCli)
    console.warn(
      'skipping the redis-cli tests: redis-cli is not on PATH (Debian package redis-tools)',
    );

  it('runs commands as arguments and from a pipe, and gets hints from COMMAND DOCS', async () => {
    const server = await startServerProcess(['--resp-port', '0']);
    try {
      const cli = (args: string[], input?: string): string =>
        spawnSync('redis-cli', ['-p', String(server.respPort), ...args], {
          input,
          encoding: 'utf8',
        }).stdout;
      expect(cli(['SET', 'greeting', 'hello world'])).toBe('OK\n');
      expect(cli(['GET', 'greeting'])).toBe('hello world\n');
      expect(cli([], 'INCR c\nINCR c\nGET c\n')).toBe('1\n2\n2\n');
      expect(cli(['--no-raw', 'MGET', 'greeting', 'none'])).toBe('1) "hello world"\n2) (nil)\n');
      expect(cli(['COMMAND', 'DOCS', 'SET'])).toContain('Sets the string value of a key');
      expect(cli(['--scan', '--pattern', 'gr*'])).toBe('greeting\n');
      // Keys longer than 7 bytes, over many pages: redis-cli holds the cursor as a 64-bit number.
      const keys = Array.from({ length: 500 }, (_, i) => `customer:${i}:profile`);
      expect(cli([], keys.map((k) => `SET ${k} x\n`).join(''))).toBe('OK\n'.repeat(500));
      const scanned = spawnSync(
        'redis-cli',
        ['-p', String(server.respPort), '--scan', '--pattern', 'customer:*'],
        { encoding: 'utf8' },
      );
      expect(scanned.stderr).toBe('');
      expect(scanned.status).toBe(0);
      expect(scanned.stdout.split('\n').filter(Boolean).sort()).toEqual([...keys].sort());
      expect(cli(['--scan']).split('\n').filter(Boolean)).toEqual(
        ['c', ...keys, 'greeting'].sort(),
      );
      server.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.kill('SIGKILL');
    }
  });
  it('shows hints from COMMAND DOCS as a command is typed, in a terminal', async () => {
    if (!existsSync(PYTHON)) {
      console.warn(
        `skipping the redis-cli hint test: ${PYTHON} is missing (it makes the terminal)`,
      );
      return;
    }
    // redis-cli in a pseudo-terminal of 120 columns: type each command, wait for its hint (grey text
    // after the cursor, from COMMAND DOCS), clear the line; print what was seen.
    const script = `
import fcntl, json, os, pty, select, struct, sys, termios, time
port, words = sys.argv[1], json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.environ['TERM'] = 'xterm'
    os.execvp('redis-cli', ['redis-cli', '-p', port])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
out = b''
def until(text, seconds=10):
    global out
    end = time.time() + seconds
    while time.time() < end:
        if text.encode() in out:
            return True
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 65536)
            out += chunk
            if b'\\x1b[6n' in chunk:
                os.write(fd, b'\\x1b[1;1R')
    return False
until('> ')
seen = {}
for typed, hint in words:
    os.write(fd, typed.encode())
    seen[typed] = until(hint)
    os.write(fd, b'\\x15')
os.write(fd, b'quit\\r')
print(json.dumps(seen))
`;
    const server = await startServerProcess(['--resp-port', '0']);
    try {
      const words = [
        ['SET k ', 'value [NX|XX] [GET]'],
        ['JSON.SET ', 'key path value [NX|XX]'],
        ['SCAN ', 'cursor [MATCH pattern] [COUNT count] [TYPE type]'],
        ['KV.QUERY ', 'path [JSON]'],
      ];
      const run = await runPython(script, [String(server.respPort), JSON.stringify(words)]);
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual(Object.fromEntries(words.map(([w]) => [w, true])));
    } finally {
      server.kill('SIGKILL');
    }
  });
});

const haveRedisPy = hasRedisPy();

(haveRedisPy ? describe : describe.skip)('redis-py against kv-server --resp-port', () => {
  if (!haveRedisPy)
    console.warn(
      'skipping the redis-py test: /usr/bin/python3 cannot import redis (Debian package python3-redis)',
    );

  it('runs strings, keys, SCAN, a pipeline and JSON through redis-py', async () => {
    const server = (await startServer({ respPort: 0 })).server;
    try {
      const script = `
import redis, sys
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
assert r.ping()
assert r.set('k', b'\\x00\\xffbytes')
assert r.get('k') == b'\\x00\\xffbytes'
assert r.incr('n') == 1 and r.incrby('n', 9) == 10
assert r.mset({'a': '1', 'b': '2'}) and r.mget('a', 'b', 'none') == [b'1', b'2', None]
for i in range(300): r.set('s:%d' % i, i)
assert len(set(r.scan_iter(match='s:*', count=50))) == 300
p = r.pipeline(transaction=False)
for i in range(1000): p.incr('pipe')
assert p.execute()[-1] == 1000
r.json().set('doc', '$', {'a': [1, 2], 'f': 1.5})
assert r.json().get('doc', '$.a') == [[1, 2]]
assert r.type('doc') == b'ReJSON-RL'
assert r.dbsize() == 306
print('ok')
`;
      const run = await runPython(script, [String(server.respAddress().port)]);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('ok\n');
    } finally {
      await server.close();
    }
  });
});
