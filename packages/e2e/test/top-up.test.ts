import { Broker, type ServerConnection } from '@triekv/broker';
import type { Version } from '@triekv/protocol';
import { parseValue, valuesEqual, type Doc } from '@triekv/record';
import type { KvServer } from '@triekv/server';
import { RawClient, startMuteServer, startServer, type MuteServer } from '@triekv/test-utils';

const doc = (text: string): Doc => parseValue(text) as Doc;

/**
 * When one of a key's replicas does not answer, reads and writes go on to the next servers of the key's
 * order until k have answered: a broker that saw some of a key's replicas down (after timeouts) wrote
 * further along the order, and a read that would otherwise hear from fewer than k replicas finds it.
 */
describe('reads and writes top up to k answers', () => {
  const servers: KvServer[] = [];
  let mute: MuteServer;
  let broker: Broker;
  const clients: RawClient[] = [];
  let ports: number[] = [];

  beforeEach(async () => {
    mute = await startMuteServer();
    ports = [mute.port];
    for (let i = 0; i < 3; i++) {
      const { server, port } = await startServer();
      servers.push(server);
      ports.push(port);
      clients.push(await RawClient.connect(port));
    }
    broker = new Broker({
      servers: ports.map((port) => ({ host: '127.0.0.1', port })),
      k: 2,
      requestTimeoutMs: 1000,
      reconnectMinMs: 10,
      reconnectMaxMs: 50,
    });
    await broker.start();
  });

  afterEach(async () => {
    await broker.close();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await mute.close();
  });

  /** A key whose first server in order is the mute one; its next two are real servers. */
  function keyBehindMute(): { key: string; next: [RawClient, RawClient] } {
    for (let i = 0; ; i++) {
      const key = `k${i}`;
      const order = broker.cluster.order(key);
      if (order[0] !== broker.cluster.connections[0]) continue;
      const client = (c: ServerConnection): RawClient =>
        clients[broker.cluster.connections.indexOf(c) - 1] as RawClient;
      return {
        key,
        next: [client(order[1] as ServerConnection), client(order[2] as ServerConnection)],
      };
    }
  }

  it('a read whose replica stays silent asks the next server, and finds the newest version there', async () => {
    const { key, next } = keyBehindMute();
    const put = (c: RawClient, v: Version, text: string): Promise<unknown> =>
      c.request({ type: 'PUT', key, value: doc(text), version: v });
    // The newest copy sits on the third server of the order (as a broker that saw the first two down
    // would have left it); the second holds an older one; the first never answers.
    await put(next[0], [1, 0, 'old'], '{ "v" : 1 }');
    await put(next[1], [2, 0, 'new'], '{ "v" : 2 }');
    const r = await broker.get(key);
    expect(r.found).toBe(true);
    expect(valuesEqual(r.value!, doc('{ "v" : 2 }'))).toBe(true);
    expect(r.version).toEqual([2, 0, 'new']);
  });

  it('a write whose replica stays silent goes on to the next server: k copies, no warning', async () => {
    const { key, next } = keyBehindMute();
    const w = await broker.put(key, doc('{ "v" : 3 }'));
    expect(w.replicas).toBe(2);
    expect(w.warnings).toEqual([]);
    for (const c of next) {
      const got = await c.request({ type: 'GET', key });
      expect(got.type === 'OK' && valuesEqual(got.value!, doc('{ "v" : 3 }'))).toBe(true);
    }
  });
});
