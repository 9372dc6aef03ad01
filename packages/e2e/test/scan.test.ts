import { Broker, type ServerConnection } from '@triekv/broker';
import type { Version } from '@triekv/protocol';
import { parseValue, type Doc } from '@triekv/record';
import type { KvServer } from '@triekv/server';
import { RawClient, startServer } from '@triekv/test-utils';

const doc = (text: string): Doc => parseValue(text) as Doc;

/**
 * SCAN after servers came and went: a server outside a key's replicas may still hold an old copy that a
 * later DELETE never reached (it went to the replicas of the time). The torture test found SCAN listing
 * such deleted keys; these are the two cases, made by hand.
 */
describe("SCAN with stale copies outside a key's replicas", () => {
  const servers: KvServer[] = [];
  let broker: Broker;
  let clients: RawClient[] = [];

  beforeEach(async () => {
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { server, port } = await startServer();
      servers.push(server);
      ports.push(port);
    }
    broker = new Broker({ servers: ports.map((port) => ({ host: '127.0.0.1', port })), k: 2 });
    await broker.start();
    clients = await Promise.all(ports.map((port) => RawClient.connect(port)));
  });

  afterEach(async () => {
    await broker.close();
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** The raw client of a server that is not among the key's k replicas. */
  function outsider(key: string): RawClient {
    const replicas = broker.cluster.writeTargets(key);
    const index = broker.cluster.connections.findIndex(
      (c: ServerConnection) => !replicas.includes(c),
    );
    return clients[index] as RawClient;
  }

  it('does not list a key deleted on its replicas while another server keeps an old copy', async () => {
    const old: Version = [1, 0, 'earlier-broker'];
    const put = await outsider('gone').request({
      type: 'PUT',
      key: 'gone',
      value: doc('{ "v" : 1 }'),
      version: old,
    });
    expect(put.type).toBe('OK');
    await broker.put('gone', doc('{ "v" : 2 }'));
    await broker.put('kept', doc('{ "v" : 3 }'));
    const deleted = await broker.delete('gone');
    expect(deleted.found).toBe(true);
    // The outsider still lists it: without the check, SCAN would too.
    const raw = await outsider('gone').request({ type: 'SCAN', prefix: '', limit: 10 });
    expect(raw.type === 'OK' && raw.keys).toContain('gone');
    expect((await broker.scan('')).keys).toEqual(['kept']);
    expect((await broker.get('gone')).found).toBe(false);
  });

  it('lists a key that only a server outside its replicas holds, when that copy is the newest', async () => {
    const put = await outsider('moved').request({
      type: 'PUT',
      key: 'moved',
      value: doc('{ "v" : 1 }'),
      version: [Date.now(), 0, 'other-broker'],
    });
    expect(put.type).toBe('OK');
    expect((await broker.scan('m')).keys).toEqual(['moved']);
  });
});
