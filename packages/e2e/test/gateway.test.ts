import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '@triekv/broker';
import { parseValue } from '@triekv/record';
import {
  hasRedisPy,
  rawExchange,
  runBin,
  runPython,
  startServerProcess,
  waitFor,
  type ServerProcess,
} from '@triekv/test-utils';
import { Redis } from 'ioredis';
import { createClient } from 'redis';

const haveRedisCli = spawnSync('redis-cli', ['--version']).error === undefined;

const BIN = join(__dirname, '..', '..', 'kv-broker', 'bin', 'kv-broker.js');

interface GatewayProcess {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | string>;
}

/** Starts `kv-broker -s file -k K --resp-port 0 ...` and waits for its `listening for RESP` line. */
function startGateway(serverFile: string, k: number, args: string[] = []): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    [BIN, '-s', serverFile, '-k', String(k), '--resp-port', '0', '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /listening for RESP on [^\s]+:(\d+)\n/.exec(out);
      if (match !== null) resolve({ child, port: Number(match[1]), stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`kv-broker exited (${code}): ${err}`)));
  });
}

async function client(port: number): Promise<Redis> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect();
  return redis;
}

describe('kv-broker --resp-port: the cluster behind a Redis front door', () => {
  let dir: string;
  let serverFile: string;
  let servers: ServerProcess[] = [];
  const gateways: GatewayProcess[] = [];
  const clients: Redis[] = [];

  async function gateway(args: string[] = []): Promise<{ g: GatewayProcess; redis: Redis }> {
    const g = await startGateway(serverFile, 2, args);
    gateways.push(g);
    const redis = await client(g.port);
    clients.push(redis);
    await redis.ping();
    return { g, redis };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triekv-gateway-'));
    servers = await Promise.all([0, 1, 2].map(() => startServerProcess()));
    serverFile = join(dir, 'servers.txt');
    writeFileSync(serverFile, servers.map((s) => `127.0.0.1 ${s.port}\n`).join(''));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    for (const g of gateways.splice(0)) {
      g.child.kill('SIGKILL');
      await g.exited;
    }
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers strings, keys, JSON and KV commands with Redis replies, over k=2 of 3 servers', async () => {
    const { redis } = await gateway();
    expect(await redis.set('k', 'v')).toBe('OK');
    expect(await redis.get('k')).toBe('v');
    expect(await redis.set('k', 'w', 'NX')).toBeNull();
    expect(await redis.getset('k', 'x')).toBe('v');
    expect(await redis.mset('a', '1', 'b', '2')).toBe('OK');
    expect(await redis.mget('a', 'b', 'nope')).toEqual(['1', '2', null]);
    expect(await redis.incr('a')).toBe(2);
    expect(await redis.incrby('a', 40)).toBe(42);
    expect(await redis.decr('a')).toBe(41);
    expect(await redis.incrbyfloat('f', '1.5')).toBe('1.5');
    expect(await redis.append('k', 'yz')).toBe(3);
    expect(await redis.strlen('k')).toBe(3);
    expect(await redis.exists('a', 'b', 'nope')).toBe(2);
    expect(await redis.type('a')).toBe('string');
    expect(await redis.del('a', 'nope')).toBe(1);
    expect(await redis.get('a')).toBeNull();
    expect(await redis.dbsize()).toBe(3);
    expect((await redis.keys('*')).sort()).toEqual(['b', 'f', 'k']);

    // A binary value with every byte, and a 1 MiB one.
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await redis.set('bin', bytes);
    expect(await redis.getBuffer('bin')).toEqual(bytes);
    const big = Buffer.alloc(1024 * 1024, 'q');
    await redis.set('big', big);
    expect((await redis.getBuffer('big'))?.equals(big)).toBe(true);

    // Documents: RedisJSON's replies; ints and floats keep their kind.
    expect(await redis.call('JSON.SET', 'p', '$', '{"name":"Mary","age":22,"h":1.0}')).toBe('OK');
    expect(await redis.call('JSON.GET', 'p', '$.h')).toBe('[1.0]');
    expect(await redis.call('JSON.GET', 'p', '.name')).toBe('"Mary"');
    expect(await redis.call('JSON.NUMINCRBY', 'p', '$.age', '1')).toBe('[23]');
    expect(await redis.type('p')).toBe('ReJSON-RL');
    expect(await redis.call('KV.GET', 'p')).toBe(
      '"p" : { "name" : "Mary" ; "age" : 23 ; "h" : 1.0 }',
    );
    expect(await redis.call('KV.QUERY', 'p.name')).toBe('p.name : "Mary"');
    expect(await redis.call('KV.COMPUTE', '2*(x+3)', 'WHERE', 'x', '=', 'QUERY', 'p.age')).toBe(
      '52',
    );
    expect(await redis.call('KV.PUT', '"q" : { "a" : 1 }')).toBe('OK');
    await expect(redis.call('KV.PUT', '"r" : { "a" 1 }')).rejects.toThrow(/^ERR .*expected ':'/);
    expect(await redis.exists('r')).toBe(0);
    expect(await redis.call('KV.SCAN', '', '100')).toEqual(['b', 'big', 'bin', 'f', 'k', 'p', 'q']);

    // What the service does not answer says so, and the connection goes on.
    await expect(redis.call('FLUSHALL')).rejects.toThrow(/unknown command 'FLUSHALL'/);
    await expect(redis.call('JSON.GET', 'p', '$..x')).rejects.toThrow(/not supported/);
    expect(await redis.ping()).toBe('PONG');
    const info = await redis.info('cluster');
    expect(info).toContain('k:2');
    expect(info).toContain('servers_total:3');
    expect(info).toContain('servers_up:3');
    expect(info).toContain('cluster_state:ok');
    expect(Number(await redis.call('COMMAND', 'COUNT'))).toBeGreaterThan(40);
  });

  it('SCAN walks the whole cluster once, with a resumable cursor, and MATCH walks its prefix', async () => {
    const { g, redis } = await gateway();
    const keys = Array.from({ length: 300 }, (_, i) => `user:${String(i).padStart(3, '0')}`);
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.set(key, key);
    for (let i = 0; i < 20; i++) pipeline.set(`other${i}`, 'x');
    await pipeline.exec();
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await redis.scan(cursor, 'MATCH', 'user:*', 'COUNT', '37');
      seen.push(...page);
      cursor = next;
    } while (cursor !== '0');
    expect(seen).toEqual(keys);
    await expect(redis.scan('abc')).rejects.toThrow(/^ERR invalid cursor$/);
    expect(await redis.dbsize()).toBe(320);
    if (haveRedisCli) {
      // redis-cli holds the cursor as a 64-bit number (these keys are longer than 7 bytes).
      const cli = spawnSync('redis-cli', ['-p', String(g.port), '--scan', '--pattern', 'user:*'], {
        encoding: 'utf8',
      });
      expect(cli.stderr).toBe('');
      expect(cli.status).toBe(0);
      expect(cli.stdout.split('\n').filter(Boolean)).toEqual(keys);
    } else
      console.warn(
        'skipping redis-cli --scan: redis-cli is not on PATH (Debian package redis-tools)',
      );
  });

  it('reads what the library wrote and the library reads what it wrote: one cluster, two doors', async () => {
    const { redis } = await gateway();
    const broker = new Broker({
      servers: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
      k: 2,
    });
    await broker.start();
    try {
      await broker.put('person1', parseValue('{ "name" : "John" ; "age" : 22 }'));
      expect(await redis.call('JSON.GET', 'person1')).toBe('{"name":"John","age":22}');
      await redis.set('s', 'from resp');
      const r = await broker.get('s');
      expect(Buffer.from(r.value as Uint8Array).toString()).toBe('from resp');
    } finally {
      await broker.close();
    }
  });

  it('runs a pipeline side by side yet in order: one key in sequence, replies in place, nothing after QUIT', async () => {
    const { g, redis } = await gateway();
    const pipeline = redis.pipeline();
    for (let i = 0; i < 100; i++) {
      pipeline.set(`x${i}`, String(i));
      pipeline.incr(`x${i}`);
      pipeline.get(`x${i}`);
      pipeline.del(`x${i}`);
      pipeline.get(`x${i}`);
    }
    pipeline.dbsize();
    const replies = ((await pipeline.exec()) ?? []).map(([error, reply]) => error ?? reply);
    for (let i = 0; i < 100; i++)
      expect(replies.slice(i * 5, i * 5 + 5)).toEqual(['OK', i + 1, String(i + 1), 1, null]);
    expect(replies[500]).toBe(0);
    const quit = await rawExchange(g.port, 'SET q 1\r\nQUIT\r\nSET q 2\r\n', 2000);
    expect(quit).toEqual({ text: '+OK\r\n+OK\r\n', closed: true });
    expect(await redis.get('q')).toBe('1');
  });

  it('node-redis over RESP3, pipelines of 10,000 commands in order', async () => {
    const { g } = await gateway();
    const nr = createClient({ socket: { port: g.port, host: '127.0.0.1' }, RESP: 3 });
    await nr.connect();
    try {
      expect(await nr.set('x', '1')).toBe('OK');
      const multi = nr.multi();
      for (let i = 0; i < 10_000; i++) multi.incr('x');
      // A pipeline, not a transaction: the replies come back in order, the last one 10,001.
      const replies = (await multi.execAsPipeline()) as unknown as number[];
      expect(replies).toHaveLength(10_000);
      expect(replies[9_999]).toBe(10_001);
      expect(await nr.get('x')).toBe('10001');
    } finally {
      nr.destroy();
    }
  });

  it('rides out k-1 dead servers, refuses deletes a dead server may hold, and flags degraded reads', async () => {
    const { redis } = await gateway();
    const strict = await gateway(['--strict-reads']);
    const keys = Array.from({ length: 60 }, (_, i) => `key${i}`);
    for (const key of keys) await redis.set(key, `value of ${key}`);

    (servers[0] as ServerProcess).kill('SIGKILL');
    await waitFor(
      async () => (await redis.info('cluster')).includes('servers_down:1'),
      'the gateway to see one server down',
    );
    // k-1 down: every answer is right, and nothing is flagged.
    for (const key of keys) expect(await redis.get(key)).toBe(`value of ${key}`);
    expect(await redis.info('cluster')).toContain('degraded_reads:0');

    // A DEL naming any key the dead server may hold is refused whole: nothing is deleted.
    await expect(redis.del(...keys)).rejects.toThrow(
      new RegExp(
        `^UNAVAILABLE delete refused: 127\\.0\\.0\\.1:${servers[0]?.port} may hold the key`,
      ),
    );
    for (const key of keys) expect(await redis.get(key)).toBe(`value of ${key}`);
    expect(await redis.info('cluster')).toContain('refused_deletes:1');

    (servers[1] as ServerProcess).kill('SIGKILL');
    await waitFor(
      async () => (await redis.info('cluster')).includes('cluster_state:degraded'),
      'the gateway to see the cluster degraded',
    );
    // k down: reads still answer, and are counted as degraded; --strict-reads refuses them.
    for (const key of keys.slice(0, 10)) {
      const value = await redis.get(key);
      // A key whose two replicas are both dead reads as missing: the very case the flag is for.
      expect(value === null || value === `value of ${key}`).toBe(true);
    }
    expect(await redis.info('cluster')).toMatch(/degraded_reads:[1-9]/);
    await expect(strict.redis.get('key1')).rejects.toThrow(/^DEGRADED 2 of 3 servers are down/);
  });

  it('two gateways writing the same keys both read the newest, and a server that comes back is repaired', async () => {
    const a = await gateway();
    const b = await gateway();
    for (let round = 0; round < 5; round++) {
      await a.redis.set('shared', `a${round}`);
      expect(await b.redis.get('shared')).toBe(`a${round}`);
      await b.redis.set('shared', `b${round}`);
      expect(await a.redis.get('shared')).toBe(`b${round}`);
    }
    // A server killed while writes go on, started again on its port: repaired on its own.
    const port = (servers[2] as ServerProcess).port;
    (servers[2] as ServerProcess).kill('SIGKILL');
    await waitFor(
      async () => (await a.redis.info('cluster')).includes('servers_down:1'),
      'the gateway to see the server down',
    );
    for (let i = 0; i < 50; i++) await a.redis.set(`late${i}`, `v${i}`);
    servers[2] = await startServerProcess([], process.env, { port });
    await waitFor(
      async () => /servers_up:3[\s\S]*repair_in_progress:0/.test(await a.redis.info('cluster')),
      'the gateway to see the server back and repaired',
      20_000,
    );
    for (let i = 0; i < 50; i++) expect(await b.redis.get(`late${i}`)).toBe(`v${i}`);
  });

  it('asks for AUTH when --resp-auth-token is set, apart from the servers token', async () => {
    const g = await startGateway(serverFile, 2, ['--resp-auth-token', 's3cret']);
    gateways.push(g);
    const before = await rawExchange(
      g.port,
      'GET k\r\nAUTH wrong\r\nAUTH s3cret\r\nSET k v\r\n',
      1000,
    );
    expect(before.text).toBe(
      '-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+OK\r\n',
    );
    const good = new Redis({
      port: g.port,
      host: '127.0.0.1',
      password: 's3cret',
      lazyConnect: true,
    });
    clients.push(good);
    await good.connect();
    expect(await good.get('k')).toBe('v');
  });

  it('serves a Python program with redis-py, when /usr/bin/python3 has it', async () => {
    if (!hasRedisPy()) {
      console.warn(
        'skipping the redis-py gateway test: /usr/bin/python3 cannot import redis (Debian package python3-redis)',
      );
      return;
    }
    const { g } = await gateway();
    const script = `
import redis, sys
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
assert r.ping()
assert r.set('k', b'\\x00\\xffbytes') and r.get('k') == b'\\x00\\xffbytes'
assert r.incr('n') == 1 and r.incrby('n', 9) == 10
p = r.pipeline(transaction=False)
for i in range(200): p.set('s:%d' % i, i)
p.execute()
assert len(set(r.scan_iter(match='s:*', count=50))) == 200
r.json().set('doc', '$', {'a': [1, 2], 'f': 1.5})
assert r.json().get('doc', '$.a') == [[1, 2]]
assert 'cluster_state' in r.info('cluster')
print('ok')
`;
    const run = await runPython(script, [String(g.port)]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('ok\n');
  });

  it('refuses -c with --resp-port before connecting, and a port it cannot have', async () => {
    const both = await runBin('kv-broker', [
      '-s',
      serverFile,
      '-k',
      '2',
      '--resp-port',
      '0',
      '-c',
      'GET a',
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('kv-broker: error: -c cannot be used with --resp-port\n');
    const taken = await runBin('kv-broker', [
      '-s',
      serverFile,
      '-k',
      '2',
      '--resp-port',
      String((servers[0] as ServerProcess).port),
      '--log-level',
      'silent',
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/kv-broker: error: 127\.0\.0\.1:\d+ is already in use/);
  });

  it('SIGTERM answers the commands it has read, in order, then exits 0', async () => {
    const { g, redis } = await gateway();
    const watcher = await client(g.port);
    clients.push(watcher);
    const pipeline = redis.pipeline();
    for (let i = 0; i < 2000; i++) pipeline.set(`p${i}`, 'x');
    const replies = pipeline.exec();
    await waitFor(async () => (await watcher.dbsize()) > 0, 'writes to start');
    g.child.kill('SIGTERM');
    const results = (await replies) ?? [];
    expect(await g.exited).toBe(0);
    // Those read before the signal were answered; the rest were never read: no reply is lost midway.
    const answered = results.findIndex(([error]) => error !== null);
    const done = answered < 0 ? results : results.slice(0, answered);
    expect(done.every(([, reply]) => reply === 'OK')).toBe(true);
    expect(results.slice(done.length).every(([error]) => error !== null)).toBe(true);
    expect(done.length).toBeGreaterThan(0);
  });
});
