import { Readable } from 'node:stream';
import { Broker, DeleteRefusedError, run } from '@triekv/broker';
import { generateLines, type KeySpec } from '@triekv/datagen';
import { formatDisplay, parseRecord, valuesEqual, type Doc, type KvRecord } from '@triekv/record';
import { startServerProcess, waitFor, type ServerProcess } from '@triekv/test-utils';

const keys: KeySpec[] = [
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int' },
  { name: 'height', type: 'float' },
  { name: 'street', type: 'string' },
  { name: 'level', type: 'int' },
];
const lines = [
  ...generateLines({ keys, lines: 300, maxDepth: 3, maxKeys: 4, maxLength: 6, seed: 'cluster' }),
];
const records: KvRecord[] = lines.map((l) => parseRecord(l));

/** Every record reads back exactly (GET, and QUERY of its first key), collecting any warnings. */
async function checkAll(broker: Broker): Promise<string[]> {
  const warnings: string[] = [];
  for (const record of records) {
    const got = await broker.get(record.key);
    warnings.push(...got.warnings);
    expect(got.found).toBe(true);
    if (!valuesEqual(got.value!, record.value)) {
      throw new Error(`${record.key}: got ${formatDisplay([record.key], got.value!)}`);
    }
    const first = [...(record.value as Doc).entries()][0];
    if (first !== undefined) {
      const q = await broker.query([record.key, first[0]]);
      expect(q.found).toBe(true);
      expect(valuesEqual(q.value!, first[1])).toBe(true);
    }
  }
  return warnings;
}

describe('a cluster of kv-server processes behind a broker', () => {
  let servers: ServerProcess[] = [];
  let broker: Broker | undefined;

  afterEach(async () => {
    await broker?.close();
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    servers = [];
  });

  async function cluster(n: number, k: number): Promise<Broker> {
    servers = await Promise.all(Array.from({ length: n }, () => startServerProcess()));
    broker = new Broker({
      servers: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
      k,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
      requestTimeoutMs: 3000,
    });
    const status = await broker.start();
    expect(status.every((s) => s.up)).toBe(true);
    return broker;
  }

  it('loads a generated file, then answers GET, QUERY, SCAN, COMPUTE, PUT and DELETE correctly', async () => {
    const b = await cluster(3, 2);
    const summary = await b.load(Readable.from([`${lines.join('\n')}\nnot a record\n`]));
    expect(summary).toMatchObject({ records: 300, replicaWrites: 600, underReplicated: 0 });
    expect(summary.rejected).toEqual([
      { line: 301, column: 5, code: 'SYNTAX', reason: "expected ':' (or '->')" },
    ]);
    expect(await checkAll(b)).toEqual([]);
    // Each record is on exactly k servers.
    const stats = await b.status();
    expect(stats.reduce((n, s) => n + (s.keys ?? 0), 0)).toBe(600);

    const scan = await run(b, 'SCAN key10');
    expect(scan.lines).toEqual([
      'key10 key100 key101 key102 key103 key104 key105 key106 key107 key108 key109',
    ]);
    expect(
      (await run(b, 'PUT "person2" : { "address" : { "number" : 12 } ; "h" : 1.5 }')).lines,
    ).toEqual(['OK']);
    expect((await run(b, 'COMPUTE 2*(x+3) WHERE x = QUERY person2.address.number')).lines).toEqual([
      '30',
    ]);
    expect(
      (
        await run(
          b,
          'COMPUTE x ^ 2 - -y / 3 WHERE x = QUERY person2.address.number AND y = QUERY person2.h',
        )
      ).lines,
    ).toEqual(['144.5']);
    expect((await run(b, 'COMPUTE log(x) WHERE x = QUERY person2.address.nope')).lines[0]).toMatch(
      /^ERROR: x: QUERY person2.address.nope found nothing/,
    );
    expect((await run(b, 'GET person2')).lines).toEqual([
      'person2 : { "address" : { "number" : 12 } ; "h" : 1.5 }',
    ]);
    expect((await run(b, 'DELETE person2')).lines).toEqual(['OK']);
    expect((await run(b, 'GET person2')).lines).toEqual(['NOT FOUND']);
    expect((await run(b, 'DELETE person2')).lines).toEqual(['NOT FOUND']);
  });

  it('survives faults: N=5, k=3', async () => {
    const b = await cluster(5, 3);
    await b.load(Readable.from([lines.join('\n')]));

    // Two servers killed: every read is still right, and says nothing is wrong.
    const [s0, s1, s2, s3, s4] = servers as [
      ServerProcess,
      ServerProcess,
      ServerProcess,
      ServerProcess,
      ServerProcess,
    ];
    s0.kill('SIGKILL');
    s1.kill('SIGKILL');
    await waitFor(() => b.cluster.down().length === 2, 'the broker to see two servers down');
    expect(await checkAll(b)).toEqual([]);

    // A DELETE that a down server may hold is refused, naming the down servers, and nothing is deleted
    // anywhere. (Which keys those are depends on the servers' ports, so they are found, not fixed.)
    const downNames = b.cluster.down().map((c) => c.name);
    const mayHoldDown = (record: KvRecord): boolean =>
      b.cluster
        .order(record.key)
        .some((c, i, all) => !c.up && all.slice(0, i).filter((x) => x.up).length < 3);
    const refusedKeys = records.filter(mayHoldDown).slice(0, 5);
    expect(refusedKeys).toHaveLength(5);
    for (const record of refusedKeys) {
      const refusal = await b.delete(record.key).catch((e: Error) => e);
      expect(refusal).toBeInstanceOf(DeleteRefusedError);
      const named = (refusal as DeleteRefusedError).downServers;
      expect(named.length).toBeGreaterThan(0);
      expect(named.every((s) => downNames.includes(s))).toBe(true);
    }
    expect(await checkAll(b)).toEqual([]); // everything, including the refused keys, still there

    // A third server down: k are down, and every read carries the warning.
    s2.kill('SIGKILL');
    await waitFor(() => b.cluster.down().length === 3, 'three servers down');
    const r = await b.get((records[0] as KvRecord).key);
    expect(r.warnings).toEqual(['3 of 5 servers are down (k=3): the result may be wrong']);
    for (const record of records.slice(0, 50)) {
      expect((await b.get(record.key)).warnings).toHaveLength(1);
    }

    // Restart the three killed servers empty, on their ports; REPAIR; then kill two others.
    const restarted = await Promise.all(
      [s0, s1, s2].map((s) => startServerProcess(['-p', String(s.port)])),
    );
    servers = [...restarted, s3, s4];
    await waitFor(() => b.cluster.down().length === 0, 'every server back up', 15000);
    const summary = await b.repair();
    expect(summary.copied).toBeGreaterThan(0);
    s3.kill('SIGKILL');
    s4.kill('SIGKILL');
    await waitFor(() => b.cluster.down().length === 2, 'two others down');
    expect(await checkAll(b)).toEqual([]);
  });

  it('REPAIR right after a restart includes the server, and names the ones it had to skip', async () => {
    servers = await Promise.all([0, 1, 2].map(() => startServerProcess()));
    // The default reconnect schedule, and no automatic repair: only the REPAIR below can copy.
    broker = new Broker({
      servers: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
      k: 2,
      autoRepair: false,
    });
    await broker.start();
    const b = broker;
    const summary = await b.load(Readable.from([lines.slice(0, 100).join('\n')]));
    expect(summary.underReplicated).toBe(0);
    const [s0, s1] = servers as [ServerProcess, ServerProcess];
    s0.kill('SIGKILL');
    s1.kill('SIGKILL');
    await waitFor(() => b.cluster.down().length === 2, 'two servers down');
    // Long enough down that the broker's next attempt is a backoff away.
    await waitFor(
      () => (b.cluster.connections[0]?.state ?? 'up') === 'down',
      'reconnects backing off',
    );
    const back = await startServerProcess(['-p', String(s0.port)]);
    servers[0] = back;
    const r = await run(b, 'REPAIR');
    expect(r.ok).toBe(true);
    // Every key a live server still held was copied to the restarted one (with one server still
    // down, each key's first two live servers are these two); the dead one is named, with why.
    const s2 = servers[2] as ServerProcess;
    const held = lines.slice(0, 100).filter((l) =>
      b.cluster
        .order(parseRecord(l).key)
        .slice(0, 2)
        .some((c) => c.address.port === s2.port),
    );
    expect(held.length).toBeGreaterThan(0);
    expect(r.json.servers).toContainEqual({
      server: `127.0.0.1:${back.port}`,
      copied: held.length,
    });
    expect(r.json.skipped).toEqual([
      {
        server: `127.0.0.1:${s1.port}`,
        reason: 'it is down (no connection when the repair started)',
      },
    ]);
    expect(r.lines).toContain(
      `127.0.0.1:${s1.port} skipped: it is down (no connection when the repair started)`,
    );
  });

  it('counts records a load could not place on k servers', async () => {
    const b = await cluster(3, 3);
    const [s0] = servers as [ServerProcess];
    s0.kill('SIGKILL');
    await waitFor(() => b.cluster.down().length === 1, 'one down');
    const summary = await b.load(Readable.from([lines.slice(0, 40).join('\n')]));
    expect(summary).toMatchObject({ records: 40, replicaWrites: 80, underReplicated: 40 });
    expect(summary.warnings).toEqual(['40 records reached fewer than 3 replicas']);
    for (const record of records.slice(0, 40)) expect((await b.get(record.key)).found).toBe(true);
  });

  it('reads the newest version and repairs stale replicas', async () => {
    const b = await cluster(3, 3);
    expect((await run(b, 'PUT "k" : { "v" : 1 }')).lines).toEqual(['OK']);
    const [s0] = servers as [ServerProcess];
    s0.kill('SIGKILL');
    await waitFor(() => b.cluster.down().length === 1, 'one down');
    const put = await run(b, 'PUT "k" : { "v" : 2 }');
    expect(put.warnings).toContain('written to 2 of 3 replicas');
    const back = await startServerProcess(['-p', String(s0.port)]);
    servers[0] = back;
    await waitFor(() => b.cluster.down().length === 0, 'back up', 15000);
    // The returning server is empty until repaired; reads still take the newest version.
    expect((await run(b, 'GET k')).lines).toEqual(['k : { "v" : 2 }']);
    // Read repair (or the automatic repair) brings it up to date.
    const direct = new Broker({
      servers: [{ host: '127.0.0.1', port: back.port }],
      k: 1,
      autoRepair: false,
    });
    await direct.start();
    await waitFor(async () => (await direct.get('k')).found, 'the returned server to hold k');
    expect((await run(direct, 'GET k')).lines).toEqual(['k : { "v" : 2 }']);
    await direct.close();
  });
});
