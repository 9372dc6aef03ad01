import { Readable } from 'node:stream';
import { Broker, MembershipError, type BrokerOptions } from '@triekv/broker';
import { parseValue, valuesEqual, type Doc, type Value } from '@triekv/record';
import { startServerProcess, waitFor, type ServerProcess } from '@triekv/test-utils';

const KEYS = 1000;
const doc = (i: number, round = 0): Doc => parseValue(`{ "i" : ${i} ; "round" : ${round} }`) as Doc;
const lines = Array.from(
  { length: KEYS },
  (_, i) => `"key${i}" : { "i" : ${i} ; "round" : 0 }`,
).join('\n');

/** Fast timings for tests: servers are seen down and back, and memberships taken, quickly. */
const FAST: Partial<BrokerOptions> = {
  reconnectMinMs: 20,
  reconnectMaxMs: 200,
  requestTimeoutMs: 3000,
  membershipPollMs: 100,
};

describe('growing and shrinking a running cluster', () => {
  const servers: ServerProcess[] = [];
  const brokers: Broker[] = [];

  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.splice(0).map((s) => s.exited));
  });

  const start = async (n: number): Promise<ServerProcess[]> => {
    const started = await Promise.all(Array.from({ length: n }, () => startServerProcess()));
    servers.push(...started);
    return started;
  };
  const broker = async (
    seeds: ServerProcess[],
    extra: Partial<BrokerOptions> = {},
  ): Promise<Broker> => {
    const b = new Broker({
      servers: seeds.map((s) => ({ host: '127.0.0.1', port: s.port })),
      k: 2,
      ...FAST,
      ...extra,
    });
    brokers.push(b);
    await b.start();
    return b;
  };
  /** Keys on each server, by port. */
  const keysPerServer = async (b: Broker): Promise<Map<string, number>> =>
    new Map((await b.status()).map((s) => [s.server, s.keys ?? -1]));

  /**
   * A client on its own broker that, until stopped, writes new rounds of keys and reads every key,
   * recording any read that misses or goes back to an older round than the client last wrote.
   */
  function workload(b: Broker): { stop: () => Promise<{ reads: number; problems: string[] }> } {
    const latest = new Map<number, number>();
    const problems: string[] = [];
    let reads = 0;
    let running = true;
    const loop = (async () => {
      let round = 1;
      while (running) {
        for (let i = round % 7; i < KEYS && running; i += 7) {
          await b.put(`key${i}`, doc(i, round));
          latest.set(i, round);
          const j = (i * 31 + round) % KEYS;
          const r = await b.get(`key${j}`);
          reads++;
          if (!r.found) problems.push(`key${j} missing`);
          else {
            const got = (r.value as Doc).get('round') as number;
            if (got < (latest.get(j) ?? 0))
              problems.push(`key${j} round ${got} < ${latest.get(j)}`);
          }
        }
        round++;
      }
      return latest;
    })();
    return {
      stop: async () => {
        running = false;
        const written = await loop;
        // Every write made during the move reads back.
        for (const [i, round] of written) {
          const r = await b.get(`key${i}`);
          if (!r.found || !valuesEqual(r.value as Value, doc(i, round)))
            problems.push(`key${i} lost its round ${round} write`);
        }
        return { reads, problems };
      },
    };
  }

  it('grows from 3 to 5 servers and back to 3 under load: no misses, no lost writes; brokers with the old file follow', async () => {
    const three = await start(3);
    const admin = await broker(three);
    await admin.load(Readable.from([lines]));
    const client = await broker(three);
    const load = workload(client);
    const [fourth, fifth] = await start(2);
    const progress: number[] = [];
    const added = await admin.addServer(
      { host: '127.0.0.1', port: fourth!.port },
      { onProgress: (p) => progress.push(p.scanned) },
    );
    expect(added.copied).toBeGreaterThan(0);
    expect(added.removed).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(added.membership.members).toHaveLength(4);
    expect(added.membership.previous).toBeUndefined();
    // A broker started with the old server file learns the fourth server.
    const late = await broker(three);
    expect(late.membership().members.map((m) => m.port)).toContain(fourth!.port);
    expect(late.membership().change).toBe(`ADD 127.0.0.1:${fourth!.port}`);
    const five = await admin.addServer({ host: '127.0.0.1', port: fifth!.port, name: 'five' });
    expect(five.membership.members.map((m) => m.name)).toEqual([
      ...three.map((s) => `127.0.0.1:${s.port}`),
      `127.0.0.1:${fourth!.port}`,
      'five',
    ]);
    // About k x keys / members on each server, and exactly k copies of each key.
    const counts = await keysPerServer(admin);
    expect(counts.size).toBe(5);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(0.75 * ((2 * KEYS) / 5));
      expect(n).toBeLessThan(1.25 * ((2 * KEYS) / 5));
    }
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(2 * KEYS);
    // The client's broker took the new membership on its own.
    await waitFor(
      () => client.membership().members.length === 5 && !client.membership().rebalancing,
    );

    // Back to three: remove the named one and one of the original three. Each can then be stopped.
    await admin.removeServer('five');
    const leaving = three[0]!;
    const removed = await admin.removeServer(`127.0.0.1:${leaving.port}`);
    expect(removed.membership.members.map((m) => m.port)).not.toContain(leaving.port);
    const { reads, problems } = await load.stop();
    expect(problems).toEqual([]);
    expect(reads).toBeGreaterThan(100);
    for (const gone of [leaving, fifth!]) {
      gone.kill('SIGKILL');
      await gone.exited;
    }
    const after = await keysPerServer(admin);
    expect(after.size).toBe(3);
    expect([...after.values()].reduce((a, b) => a + b, 0)).toBe(2 * KEYS);
    await waitFor(() => late.membership().members.length === 3);
    for (let i = 0; i < KEYS; i++) {
      const r = await late.get(`key${i}`);
      expect(r.found).toBe(true);
      expect(r.warnings).toEqual([]);
    }
  }, 90_000);

  it('two changes at once from two brokers: one wins, the other is refused or superseded, all agree', async () => {
    const three = await start(3);
    const a = await broker(three);
    const b = await broker(three);
    await a.load(Readable.from([lines]));
    const [x, y] = await start(2);
    const results = await Promise.allSettled([
      a.addServer({ host: '127.0.0.1', port: x!.port }),
      b.addServer({ host: '127.0.0.1', port: y!.port }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(MembershipError);
    expect(['SUPERSEDED', 'IN_PROGRESS']).toContain((lost[0]!.reason as MembershipError).reason);
    const winner = (won[0] as PromiseFulfilledResult<{ membership: { version: unknown } }>).value;
    // Every broker ends on the winner's membership, with nothing moving, and every key there.
    await waitFor(() =>
      [a, b].every(
        (br) =>
          !br.membership().rebalancing &&
          JSON.stringify(br.membership().version) === JSON.stringify(winner.membership.version),
      ),
    );
    for (let i = 0; i < KEYS; i += 7) expect((await b.get(`key${i}`)).found).toBe(true);
  }, 60_000);

  it('refuses changes that are unsafe, and says why', async () => {
    const three = await start(3);
    const admin = await broker(three, { k: 3 });
    await expect(admin.removeServer(`127.0.0.1:${three[0]!.port}`)).rejects.toMatchObject({
      reason: 'TOO_FEW',
      message: expect.stringMatching(/would leave 2 servers, fewer than k=3/) as string,
    });
    await expect(admin.removeServer('nobody')).rejects.toMatchObject({ reason: 'UNKNOWN_MEMBER' });
    await expect(
      admin.addServer({ host: '127.0.0.1', port: three[1]!.port }),
    ).rejects.toMatchObject({ reason: 'ALREADY_MEMBER' });
    // A port with nothing on it.
    const [gone] = await start(1);
    gone!.kill('SIGKILL');
    await gone!.exited;
    await expect(admin.addServer({ host: '127.0.0.1', port: gone!.port })).rejects.toMatchObject({
      reason: 'UNREACHABLE',
    });
    // A server down: refused unless forced.
    const [extra] = await start(1);
    three[2]!.kill('SIGKILL');
    await three[2]!.exited;
    await waitFor(() => admin.cluster.connections.some((c) => !c.up));
    const refused = admin.addServer({ host: '127.0.0.1', port: extra!.port });
    await expect(refused).rejects.toBeInstanceOf(MembershipError);
    await expect(refused).rejects.toMatchObject({
      reason: 'SERVERS_DOWN',
      message: expect.stringMatching(
        /is down, and a change now would move data without it; bring it back, or change with FORCE/,
      ) as string,
    });
    // With force it goes ahead; the keys of the server that is down are on their other replicas.
    const forced = await admin.addServer({ host: '127.0.0.1', port: extra!.port }, { force: true });
    expect(forced.membership.members).toHaveLength(4);
    expect(forced.warnings.join('\n')).toMatch(/was skipped: it is down/);
  }, 30_000);

  it('hands copies made on a stand-in server back once the replica returns', async () => {
    const three = await start(3);
    const b = await broker(three);
    await b.load(Readable.from([lines]));
    // One server down while every key is written again: its keys go to stand-ins.
    const victim = three[1]!;
    victim.kill('SIGKILL');
    await victim.exited;
    await waitFor(() => b.cluster.connections.some((c) => !c.up));
    for (let i = 0; i < KEYS; i++) await b.put(`key${i}`, doc(i, 1));
    const during = await keysPerServer(b);
    expect([...during.values()].filter((n) => n > 0).reduce((a, n) => a + n, 0)).toBe(2 * KEYS);
    // Back, empty (no data directory): the automatic repair copies its keys back and removes the
    // stand-in copies.
    const back = await startServerProcess([], process.env, { port: victim.port });
    servers.push(back);
    await waitFor(
      async () => {
        const counts = await keysPerServer(b);
        return (
          [...counts.values()].every((n) => n > 0) &&
          [...counts.values()].reduce((a, n) => a + n, 0) === 2 * KEYS
        );
      },
      'the stand-in copies to be handed back (k copies of every key)',
      20_000,
    );
    for (let i = 0; i < KEYS; i++) {
      const r = await b.get(`key${i}`);
      expect(r.found && valuesEqual(r.value as Value, doc(i, 1))).toBe(true);
    }
  }, 40_000);
});
