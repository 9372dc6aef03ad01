import fc from 'fast-check';
import { Broker, HybridClock, hash32, parseServerFile, rendezvousOrder } from '@triekv/broker';
import { compareVersions } from '@triekv/protocol';

describe('rendezvous placement', () => {
  const seeds = Array.from({ length: 5 }, (_, i) => hash32(`127.0.0.1:${8000 + i}`));

  it('is deterministic and a permutation of the servers', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        const order = rendezvousOrder(key, seeds);
        expect(order).toEqual(rendezvousOrder(key, seeds));
        expect([...order].sort()).toEqual([0, 1, 2, 3, 4]);
      }),
    );
  });

  it('spreads keys evenly over the servers', () => {
    const first = [0, 0, 0, 0, 0];
    for (let i = 0; i < 50000; i++) first[rendezvousOrder(`key${i}`, seeds)[0] as number]!++;
    for (const n of first) expect(Math.abs(n - 10000)).toBeLessThan(600); // within 6% of even
  });

  it('moves only the keys a new server wins when one is added', () => {
    const more = [...seeds, hash32('127.0.0.1:8005')];
    let moved = 0;
    for (let i = 0; i < 20000; i++) {
      const before = rendezvousOrder(`key${i}`, seeds)[0];
      const after = rendezvousOrder(`key${i}`, more)[0];
      if (before !== after) {
        moved++;
        expect(after).toBe(5);
      }
    }
    expect(moved / 20000).toBeGreaterThan(0.12);
    expect(moved / 20000).toBeLessThan(0.22); // about 1/6
  });
  it('places keys by server name, so brokers that reach the servers by other addresses agree', () => {
    const named = (base: number): Broker =>
      new Broker({
        servers: Array.from({ length: 5 }, (_, i) => ({
          host: '127.0.0.1',
          port: base + i,
          name: `s${i}`,
        })),
        k: 3,
      });
    const a = named(7000);
    const b = named(9000);
    expect(a.cluster.connections.map((c) => c.name)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    for (let i = 0; i < 200; i++)
      expect(a.cluster.order(`key${i}`).map((c) => c.name)).toEqual(
        b.cluster.order(`key${i}`).map((c) => c.name),
      );
    // Without names, the addresses are the names: other ports, another placement.
    const plain = (base: number): string[] =>
      new Broker({
        servers: Array.from({ length: 5 }, (_, i) => ({ host: '127.0.0.1', port: base + i })),
        k: 3,
      }).cluster
        .order('key1')
        .map((c) => c.name);
    expect(plain(7000)[0]).toMatch(/^127\.0\.0\.1:70/);
  });

  it("writes go to the first k live servers of the key's order, whichever servers are up", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
        fc.array(fc.string(), { minLength: 1, maxLength: 20 }),
        (k, up, keys) => {
          const broker = new Broker({
            servers: Array.from({ length: 7 }, (_, i) => ({ host: '127.0.0.1', port: 9000 + i })),
            k,
          });
          // Health as the connections would report it, without connecting anywhere.
          broker.cluster.connections.forEach((c, i) => {
            (c as unknown as { stateValue: string }).stateValue = up[i] === true ? 'up' : 'down';
          });
          for (const key of keys)
            expect(broker.cluster.writeTargets(key)).toEqual(
              broker.cluster
                .order(key)
                .filter((c) => c.up)
                .slice(0, k),
            );
        },
      ),
    );
  });
});

describe('hybrid logical clock', () => {
  it('issues strictly increasing versions, even when the wall clock stands still or goes back', () => {
    let now = 1000;
    const clock = new HybridClock('a', () => now);
    const v1 = clock.tick();
    const v2 = clock.tick();
    now = 900;
    const v3 = clock.tick();
    now = 2000;
    const v4 = clock.tick();
    expect([v1, v2, v3, v4]).toEqual([
      [1000, 0, 'a'],
      [1000, 1, 'a'],
      [1000, 2, 'a'],
      [2000, 0, 'a'],
    ]);
  });

  it('moves past versions it observes from other brokers', () => {
    const clock = new HybridClock('a', () => 1000);
    clock.observe([5000, 7, 'b']);
    const next = clock.tick();
    expect(compareVersions(next, [5000, 7, 'b'])).toBeGreaterThan(0);
  });
});

describe('server files', () => {
  it('reads HOST PORT lines, skipping blanks and comments', () => {
    expect(parseServerFile('# cluster\n127.0.0.1 8000\n\n  localhost\t8001 \n')).toEqual([
      { host: '127.0.0.1', port: 8000 },
      { host: 'localhost', port: 8001 },
    ]);
  });

  it.each([
    ['127.0.0.1\n', 'f: line 1: expected "HOST PORT", found "127.0.0.1"'],
    ['a 1\nb 70000\n', 'f: line 2: port must be a whole number from 1 to 65535, found "70000"'],
    ['a 1\na 1\n', 'f: line 2: a:1 already listed on line 1'],
    ['# nothing\n', 'f: no servers listed'],
  ])('rejects %j', (text, message) => {
    expect(() => parseServerFile(text, 'f')).toThrow(message);
  });
});
