import { Broker } from '@triekv/broker';
import type { Reply, Version } from '@triekv/protocol';
import { parseValue, valuesEqual, type Doc } from '@triekv/record';
import type { KvServer } from '@triekv/server';
import { RawClient, startMuteServer, startServer, waitFor } from '@triekv/test-utils';

const doc = (text: string): Doc => parseValue(text) as Doc;

/**
 * Digest reads: the broker asks the first of a key's replicas for the value and the others for their
 * versions only, and fetches the value from another replica only when that one is newer.
 */
describe('digest reads', () => {
  const servers: KvServer[] = [];
  const clients = new Map<number, RawClient>();
  let broker: Broker;

  beforeEach(async () => {
    for (let i = 0; i < 3; i++) {
      const { server, port } = await startServer();
      servers.push(server);
      clients.set(port, await RawClient.connect(port));
    }
    broker = new Broker({
      servers: [...clients.keys()].map((port) => ({ host: '127.0.0.1', port })),
      k: 2,
      autoRepair: false,
    });
    await broker.start();
  });

  afterEach(async () => {
    await broker.close();
    for (const c of clients.values()) c.destroy();
    clients.clear();
    for (const s of servers.splice(0)) await s.close();
  });

  /** The raw clients of the key's two replicas: the one asked for the value first, then the other. */
  const replicas = (key: string): [RawClient, RawClient] =>
    broker.cluster.writeTargets(key).map((c) => clients.get(c.address.port) as RawClient) as [
      RawClient,
      RawClient,
    ];
  const put = (c: RawClient, key: string, v: Version, text: string): Promise<Reply> =>
    c.request({ type: 'PUT', key, value: doc(text), version: v });
  const bytesOut = async (c: RawClient): Promise<number> => {
    const r = await c.request({ type: 'STATS' });
    return r.type === 'OK' ? (r.stats?.bytesOut as number) : NaN;
  };

  it('a server answers a version-only read with the version and no value', async () => {
    const [a] = replicas('k');
    await put(a, 'k', [5, 0, 'n'], '{ "x" : { "y" : 1 } }');
    expect(await a.request({ type: 'GET', key: 'k', versionOnly: true })).toEqual({
      type: 'OK',
      id: expect.any(Number) as number,
      version: [5, 0, 'n'],
    });
    expect(
      await a.request({ type: 'QUERY', key: 'k', path: ['x', 'z'], versionOnly: true }),
    ).toMatchObject({ type: 'NOT_FOUND', version: [5, 0, 'n'] });
    await a.request({ type: 'DELETE', key: 'k', version: [6, 0, 'n'] });
    expect(await a.request({ type: 'GET', key: 'k', versionOnly: true })).toMatchObject({
      type: 'NOT_FOUND',
      version: [6, 0, 'n'],
    });
    expect(await a.request({ type: 'GET', key: 'never', versionOnly: true })).toEqual({
      type: 'NOT_FOUND',
      id: expect.any(Number) as number,
    });
  });

  it('only one replica sends the value when they agree', async () => {
    const big = 'x'.repeat(20_000);
    await broker.put('big', doc(`{ "text" : "${big}" }`));
    const [a, b] = replicas('big');
    const before = [await bytesOut(a), await bytesOut(b)];
    const r = await broker.get('big');
    expect(r.found).toBe(true);
    expect(r.servers).toHaveLength(2);
    const sent = [(await bytesOut(a)) - before[0]!, (await bytesOut(b)) - before[1]!];
    // The STATS replies themselves are small; the value went once, from the first replica.
    expect(sent[0]).toBeGreaterThan(20_000);
    expect(sent[1]).toBeLessThan(2_000);
  });

  it('when the replica that sent only its version is newer, its value is fetched, and the other repaired', async () => {
    const [a, b] = replicas('p');
    await put(a, 'p', [1, 0, 'w'], '{ "v" : 1 ; "only_old" : 1 }');
    await put(b, 'p', [2, 0, 'w'], '{ "v" : 2 ; "only_new" : 2 }');
    const r = await broker.get('p');
    expect(r.version).toEqual([2, 0, 'w']);
    expect(valuesEqual(r.value!, doc('{ "v" : 2 ; "only_new" : 2 }'))).toBe(true);
    const q = await broker.query(['p', 'only_new']);
    expect(q).toMatchObject({ found: true, value: 2 });
    // Read repair copies the newest record to the stale replica.
    await waitFor(async () => {
      const got = await a.request({ type: 'GET', key: 'p' });
      return got.type === 'OK' && got.version?.[0] === 2;
    });
  });

  it('a path only the newer replica has is found through its digest', async () => {
    const [a, b] = replicas('q');
    await put(a, 'q', [1, 0, 'w'], '{ "v" : 1 }');
    await put(b, 'q', [3, 0, 'w'], '{ "v" : 3 ; "added" : { "deep" : "yes" } }');
    expect(await broker.query(['q', 'added', 'deep'])).toMatchObject({
      found: true,
      value: 'yes',
      version: [3, 0, 'w'],
    });
  });

  it('when the newer replica deleted the record, the read is a miss at its version', async () => {
    const [a, b] = replicas('d');
    await put(a, 'd', [1, 0, 'w'], '{ "v" : 1 }');
    await put(b, 'd', [1, 0, 'w'], '{ "v" : 1 }');
    await b.request({ type: 'DELETE', key: 'd', version: [4, 0, 'w'] });
    expect(await broker.get('d')).toMatchObject({ found: false, version: [4, 0, 'w'] });
    await waitFor(async () => (await a.request({ type: 'GET', key: 'd' })).type === 'NOT_FOUND');
  });

  it('when the replica asked for the value is newer, nothing more is fetched, and the other is repaired', async () => {
    const [a, b] = replicas('f');
    await put(a, 'f', [9, 0, 'w'], '{ "v" : 9 }');
    await put(b, 'f', [8, 0, 'w'], '{ "v" : 8 }');
    expect(await broker.get('f')).toMatchObject({ found: true, version: [9, 0, 'w'] });
    await waitFor(async () => {
      const got = await b.request({ type: 'GET', key: 'f' });
      return got.type === 'OK' && got.version?.[0] === 9;
    });
  });

  it('when the newer replica answers its version but not its value, the read fails rather than answer stale', async () => {
    // A server that reports a newer version of every key and never sends a value.
    const liar = await startMuteServer((request) =>
      request.type === 'GET' && request.versionOnly === true
        ? { type: 'OK', id: request.id, version: [99, 0, 'liar'] }
        : undefined,
    );
    const a = [...clients.values()][0] as RawClient;
    const aPort = a.socket.remotePort as number;
    const other = new Broker({
      servers: [
        { host: '127.0.0.1', port: aPort },
        { host: '127.0.0.1', port: liar.port },
      ],
      k: 2,
      autoRepair: false,
      requestTimeoutMs: 200,
    });
    try {
      await other.start();
      // A key for which the real server is asked for the value and the liar for its version.
      let key = '';
      for (let i = 0; key === ''; i++)
        if (other.cluster.writeTargets(`z${i}`)[0]?.address.port === aPort) key = `z${i}`;
      await put(a, key, [1, 0, 'w'], '{ "v" : 1 }');
      await expect(other.get(key)).rejects.toThrow(
        new RegExp(`is on 127\\.0\\.0\\.1:${liar.port}, which did not answer for its value`),
      );
    } finally {
      await other.close();
      await liar.close();
    }
  });
});
