import type { Version } from '@triekv/protocol';
import type { Doc, Value } from '@triekv/record';
import { check, explain, type History, type Op } from '../src/index';

let nextId = 1;
const doc = (n: number, nested?: number): Doc =>
  new Map<string, Value>([
    ['n', n],
    ...(nested === undefined ? [] : [['a', new Map<string, Value>([['b', nested]])] as const]),
  ]);
const v = (wall: number, node = 'b0'): Version => [wall, 0, node];

function op(fields: Partial<Op> & Pick<Op, 'kind' | 'invokeAt' | 'completeAt'>): Op {
  return { id: nextId++, client: 'b0c0', key: 'k', outcome: 'ok', warnings: [], ...fields };
}
const put = (at: number, end: number, version: Version, value: Doc, extra: Partial<Op> = {}): Op =>
  op({ kind: 'put', invokeAt: at, completeAt: end, version, value, full: true, ...extra });
const del = (at: number, end: number, version: Version, extra: Partial<Op> = {}): Op =>
  op({ kind: 'delete', invokeAt: at, completeAt: end, version, full: true, ...extra });
const get = (
  at: number,
  end: number,
  version?: Version,
  result?: Value,
  extra: Partial<Op> = {},
): Op =>
  op({
    kind: 'get',
    invokeAt: at,
    completeAt: end,
    found: result !== undefined,
    ...(version === undefined ? {} : { version }),
    ...(result === undefined ? {} : { result }),
    ...extra,
  });
const history = (ops: Op[], unsafe: History['unsafe'] = []): History => ({
  k: 3,
  ops,
  events: [{ at: 5, what: 's1: kill' }],
  unsafe,
});
const DOWN = ['3 of 5 servers are down (k=3): the result may be wrong'];

describe('check', () => {
  test('a history where every read sees the newest acknowledged write passes', () => {
    const r = check(
      history([
        put(0, 10, v(1), doc(1)),
        get(11, 12, v(1), doc(1)),
        put(20, 30, v(2), doc(2)),
        // Concurrent with the second write: either answer is right.
        get(21, 25, v(1), doc(1)),
        get(22, 29, v(2), doc(2)),
        del(40, 50, v(3)),
        get(51, 52, v(3)),
        // A miss without a tombstone after a delete is still the right answer.
        get(53, 54),
      ]),
    );
    expect(r.violations).toEqual([]);
    expect(r).toMatchObject({ reads: 5, strict: 5, warned: 0, writes: 3 });
  });

  test('a read that misses an acknowledged write is a lost write', () => {
    const r = check(history([put(0, 10, v(1), doc(1)), get(11, 12)]));
    expect(r.violations.map((x) => x.kind)).toEqual(['lost-write']);
    expect(r.violations[0]?.message).toMatch(
      /GET k found nothing, but version 1\.0\.b0 was acknowledged/,
    );
  });

  test('an older version after a newer one was acknowledged is a stale read', () => {
    const r = check(
      history([put(0, 10, v(1), doc(1)), put(20, 30, v(2), doc(2)), get(31, 32, v(1), doc(1))]),
    );
    expect(r.violations.map((x) => x.kind)).toEqual(['stale-read']);
  });

  test('a deleted key found again is resurrected', () => {
    const r = check(
      history([put(0, 10, v(1), doc(1)), del(20, 30, v(2)), get(31, 32, v(1), doc(1))]),
    );
    expect(r.violations.map((x) => x.kind)).toEqual(['resurrected']);
  });

  test('versions order writes, not wall time: the higher version of two brokers wins', () => {
    // b1's write came later but carries the lower version; reading b0's is right, b1's is stale.
    const ops = [put(0, 10, v(5, 'b0'), doc(1)), put(11, 20, v(5, 'a1'), doc(2))];
    expect(check(history([...ops, get(21, 22, v(5, 'b0'), doc(1))])).violations).toEqual([]);
    expect(
      check(history([...ops, get(21, 22, v(5, 'a1'), doc(2))])).violations.map((x) => x.kind),
    ).toEqual(['stale-read']);
  });

  test('a value no write carried, or a different value at a known version, is caught', () => {
    const w = put(0, 10, v(1), doc(1, 7));
    expect(check(history([w, get(11, 12, v(9), doc(9))])).violations[0]?.kind).toBe(
      'unknown-version',
    );
    expect(check(history([w, get(11, 12, v(1), doc(2))])).violations[0]?.kind).toBe('wrong-value');
    expect(check(history([w, get(11, 12, undefined, doc(1))])).violations[0]?.kind).toBe(
      'unknown-version',
    );
  });

  test('a read of a version whose write began after the read ended is from the future', () => {
    const r = check(history([get(0, 5, v(1), doc(1)), put(6, 10, v(1), doc(1))]));
    expect(r.violations.map((x) => x.kind)).toEqual(['future-read']);
  });

  test('QUERY answers are the value at the path inside the version read, or a miss', () => {
    const w = put(0, 10, v(1), doc(1, 7));
    const q = (path: string[], result?: Value): Op =>
      op({
        kind: 'query',
        path,
        invokeAt: 11,
        completeAt: 12,
        version: v(1),
        found: result !== undefined,
        ...(result === undefined ? {} : { result }),
      });
    expect(check(history([w, q(['a', 'b'], 7), q(['zz'])])).violations).toEqual([]);
    expect(check(history([w, q(['a', 'b'], 8)])).violations[0]?.kind).toBe('wrong-value');
    expect(check(history([w, q(['a', 'b'])])).violations[0]?.kind).toBe('wrong-value');
  });

  test('writes that failed or were never acknowledged need not be seen, but may be', () => {
    const r = check(
      history([
        put(0, 10, v(1), doc(1)),
        put(20, 30, v(2), doc(2), { outcome: 'unknown' }),
        get(31, 32, v(1), doc(1)),
        get(33, 34, v(2), doc(2)),
        op({ kind: 'delete', invokeAt: 35, completeAt: 36, outcome: 'fail' }),
        get(37, 38, v(2), doc(2)),
      ]),
    );
    expect(r.violations).toEqual([]);
  });

  test('a read warned that k or more servers are down is checked only for invented values', () => {
    const w = put(0, 10, v(1), doc(1));
    expect(
      check(history([w, get(11, 12, undefined, undefined, { warnings: DOWN })])).violations,
    ).toEqual([]);
    const r = check(history([w, get(11, 12, v(4), doc(4), { warnings: DOWN })]));
    expect(r.violations.map((x) => x.kind)).toEqual(['unknown-version']);
    expect(r.warned).toBe(1);
  });

  test('an under-replicated write in an unsafe window is excused until the window ends', () => {
    const unsafe = [{ start: 5, end: 100 }];
    const weak = put(10, 20, v(2), doc(2), { full: false });
    const ops = [put(0, 4, v(1), doc(1)), weak];
    expect(check(history([...ops, get(50, 51, v(1), doc(1))], unsafe)).violations).toEqual([]);
    expect(
      check(history([...ops, get(150, 151, v(1), doc(1))], unsafe)).violations.map((x) => x.kind),
    ).toEqual(['stale-read']);
    // Outside any unsafe window an under-replicated write counts at once.
    expect(
      check(history([...ops, get(50, 51, v(1), doc(1))])).violations.map((x) => x.kind),
    ).toEqual(['stale-read']);
  });

  test('a SCAN may list only keys that were live at some point of it', () => {
    const scan = (at: number, end: number, keys: string[], extra: Partial<Op> = {}): Op =>
      op({ kind: 'scan', key: 'k', keys, invokeAt: at, completeAt: end, ...extra });
    const writes = [
      put(0, 10, v(1), doc(1)),
      put(0, 10, v(1), doc(1), { key: 'k2' }),
      del(20, 30, v(2), { key: 'k2' }),
    ];
    // k2 was deleted before the scan began: listing it is a resurrection; k is fine.
    const r = check(history([...writes, scan(40, 41, ['k', 'k2'])]));
    expect(r.scans).toBe(1);
    expect(r.violations.map((x) => [x.kind, x.key])).toEqual([['resurrected', 'k2']]);
    // Concurrent with the delete, or with a PUT after it, or warned: allowed.
    expect(check(history([...writes, scan(25, 41, ['k2'])])).violations).toEqual([]);
    expect(
      check(history([...writes, put(35, 45, v(3), doc(3), { key: 'k2' }), scan(40, 41, ['k2'])]))
        .violations,
    ).toEqual([]);
    expect(
      check(history([...writes, scan(40, 41, ['k2'], { warnings: DOWN })])).violations,
    ).toEqual([]);
    // A key never written, or outside the prefix, is invented.
    expect(check(history([...writes, scan(40, 41, ['k9'])])).violations[0]?.kind).toBe(
      'unknown-version',
    );
    expect(
      check(history([...writes, put(0, 1, v(1), doc(1), { key: 'x' }), scan(40, 41, ['x'])]))
        .violations[0]?.message,
    ).toMatch(/does not start with the prefix/);
  });

  test('explain prints the operations on the key and the faults around the bad read', () => {
    const h = history([
      put(0, 10, v(1), doc(1)),
      put(0, 3, v(1), doc(1), { key: 'other' }),
      get(11, 12),
    ]);
    const [violation] = check(h).violations;
    const lines = explain(h, violation!);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/PUT k \{ "n" : 1 \} -> ok v=1\.0\.b0/);
    expect(lines[1]).toMatch(/nemesis: s1: kill/);
    expect(lines[2]).toMatch(/^>> .*GET k -> ok NOT FOUND/);
  });
});
