import fc from 'fast-check';
import { Trie } from '@triekv/trie';
import {
  C_BASE,
  C_COUNT,
  C_HEADER,
  C_LOG,
  CAP,
  COUNT,
  HEADER,
  LONG,
  LONG_UNITS,
  NO_VALUE,
  TBASE,
  TRANGE,
  VALUE,
  nodeSize,
  readUnits4,
} from '../src/layout.js';
import { GONE, type TrieStore } from '../src/store.js';

const storeOf = <V>(trie: Trie<V>): TrieStore<V> =>
  (trie as unknown as { store: TrieStore<V> }).store;

/**
 * Checks the burst-trie invariants: child codes strictly ascending and within capacity, a direct table
 * (where there is one) covering every child's code and naming exactly the children, no node but the root
 * without a value and children, every container non-empty, within the burst limit, with strictly
 * ascending tails whose lengths account for the whole string, at least a quarter of them live (not GONE), node regions and value ranges disjoint,
 * and the number of stored keys equal to `size`.
 */
function checkInvariants<V>(trie: Trie<V>): void {
  const store = storeOf(trie);
  const words = store.pool.words;
  const regions: [number, number][] = [];
  const ranges: [number, number][] = [];
  const visit = (node: number, isRoot: boolean): number => {
    const count = words[node + COUNT] as number;
    const cap = words[node + CAP] as number;
    const range = words[node + TRANGE] as number;
    expect(count).toBeLessThanOrEqual(cap);
    regions.push([node, nodeSize(cap, range)]);
    const codes = node + HEADER;
    for (let j = 1; j < count; j++) {
      expect(words[codes + j] as number).toBeGreaterThan(words[codes + j - 1] as number);
    }
    if (range !== 0) {
      const base = words[node + TBASE] as number;
      if (count > 0) {
        expect(words[codes] as number).toBeGreaterThanOrEqual(base);
        expect(words[codes + count - 1] as number).toBeLessThan(base + range);
      }
      let named = 0;
      for (let d = 0; d < range; d++) {
        const kid = words[node + HEADER + 2 * cap + d] as number;
        if (kid === 0) continue;
        named++;
        const j = [...words.subarray(codes, codes + count)].indexOf(base + d);
        expect(j).toBeGreaterThanOrEqual(0);
        expect(words[codes + cap + j]).toBe(kid);
      }
      expect(named).toBe(count);
    }
    const slot = words[node + VALUE] as number;
    if (slot !== NO_VALUE) ranges.push([slot, 1]);
    if (!isRoot) expect(slot !== NO_VALUE || count > 0).toBe(true);
    let total = slot !== NO_VALUE ? 1 : 0;
    for (let j = 0; j < count; j++) {
      const kid = words[codes + cap + j] as number;
      total += kid > 0 ? visit(kid, false) : container(~kid);
    }
    return total;
  };
  const container = (id: number): number => {
    const s = store.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(store.burstAt);
    const log = s.charCodeAt(C_LOG);
    expect(n).toBeLessThanOrEqual(1 << log);
    ranges.push([readUnits4(s, C_BASE), 1 << log]);
    let off = C_HEADER + n;
    let previous: string | undefined;
    let live = 0;
    for (let k = 0; k < n; k++) {
      if (store.values[readUnits4(s, C_BASE) + k] !== GONE) live++;
      let length = s.charCodeAt(C_HEADER + k);
      if (length === LONG) {
        length = readUnits4(s, off);
        off += LONG_UNITS;
        expect(length).toBeGreaterThanOrEqual(LONG);
      }
      const tail = s.slice(off, off + length);
      if (previous !== undefined) expect(tail > previous).toBe(true);
      previous = tail;
      off += length;
    }
    expect(off).toBe(s.length);
    expect(store.gone[id]).toBe(n - live);
    // Deleted entries (GONE) wait for a rebuild, but at least a quarter of the entries are live.
    expect(live).toBeGreaterThan(0);
    expect(live * 4).toBeGreaterThanOrEqual(n);
    return live;
  };
  expect(visit(store.root, true)).toBe(trie.size);
  for (const list of [regions, ranges]) {
    list.sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < list.length; k++) {
      const [start, size] = list[k - 1] as [number, number];
      expect(start + size).toBeLessThanOrEqual((list[k] as [number, number])[0]);
    }
  }
}

// Small alphabets make shared prefixes, splits and merges common; the extra characters cover
// non-ASCII, astral (surrogate pair) and NUL code units.
const keyArb = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 6 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', '\u0000'), maxLength: 5 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  // Tails of 255 units or more take the LONG length encoding.
  fc
    .tuple(
      fc.constantFrom('a', 'b'),
      fc.integer({ min: 250, max: 260 }),
      fc.constantFrom('', 'a', 'b'),
    )
    .map(([c, n, end]) => c.repeat(n) + end),
);

type Op =
  | { op: 'set'; key: string; value: number }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  | { op: 'scan'; prefix: string; after?: string }
  | { op: 'clear' }
  | { op: 'compact' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, value: fc.integer() }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('get' as const), key: keyArb }) },
  {
    weight: 2,
    arbitrary: fc.record(
      { op: fc.constant('scan' as const), prefix: keyArb, after: keyArb },
      { requiredKeys: ['op', 'prefix'] },
    ),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'compact' as const }) },
);

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Runs `ops` on a trie with this burst limit and on a Map, checking they agree after every step. */
function agree(ops: Op[], burstAt: number): void {
  const trie = new Trie<number>();
  storeOf(trie).burstAt = burstAt;
  const model = new Map<string, number>();
  for (const step of ops) {
    switch (step.op) {
      case 'set':
        trie.set(step.key, step.value);
        model.set(step.key, step.value);
        break;
      case 'delete':
        expect(trie.delete(step.key)).toBe(model.delete(step.key));
        break;
      case 'get':
        expect(trie.get(step.key)).toBe(model.get(step.key));
        expect(trie.has(step.key)).toBe(model.has(step.key));
        break;
      case 'scan': {
        const { prefix, after } = step;
        const expected = [...model.keys()]
          .filter((k) => k.startsWith(prefix) && (after === undefined || k > after))
          .sort(byCodeUnit);
        expect([...trie.keys(prefix, after === undefined ? undefined : { after })]).toEqual(
          expected,
        );
        break;
      }
      case 'clear':
        trie.clear();
        storeOf(trie).burstAt = burstAt;
        model.clear();
        break;
      case 'compact':
        trie.compact();
        break;
    }
    expect(trie.size).toBe(model.size);
    expect([...trie.entries()]).toEqual(
      [...model.entries()].sort((a, b) => byCodeUnit(a[0], b[0])),
    );
    checkInvariants(trie);
  }
}

const poolKeyArb = fc.constantFrom(
  '',
  'a',
  'ab',
  'aba',
  'abb',
  'abc',
  'ac',
  'b',
  'ba',
  'bab',
  'bb',
  'c',
  'cab',
);
const churnArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('set' as const), key: poolKeyArb, value: fc.integer() }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('delete' as const), key: poolKeyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('get' as const), key: poolKeyArb }) },
  {
    weight: 1,
    arbitrary: fc.record(
      { op: fc.constant('scan' as const), prefix: poolKeyArb, after: poolKeyArb },
      { requiredKeys: ['op', 'prefix'] },
    ),
  },
);

describe('Trie against a Map model', () => {
  // A burst limit of 1 or 2 makes nearly every insert burst a container; 32 is the real one.
  it.each([1, 2, 32])(
    'agrees on every operation, size and ordered iteration (burst at %i)',
    (burstAt) => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => agree(ops, burstAt)),
        { numRuns: 300 },
      );
    },
  );

  // Long runs of sets and deletes over a few keys: deleted entries stay behind as GONE, sets revive
  // them, and containers are rebuilt once most of their entries are gone or when they fill up.
  it.each([2, 4, 32])(
    'agrees through set and delete churn on a few keys (burst at %i)',
    (burstAt) => {
      fc.assert(
        fc.property(fc.array(churnArb, { minLength: 20, maxLength: 100, size: 'max' }), (ops) =>
          agree(ops, burstAt),
        ),
        { numRuns: 50 },
      );
    },
  );
});
