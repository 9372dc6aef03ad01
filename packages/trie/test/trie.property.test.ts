import fc from 'fast-check';
import { Trie } from '@triekv/trie';
import {
  CAP,
  COUNT,
  HEADER,
  INDEX,
  LINEAR_SCAN,
  NO_VALUE,
  TAIL,
  VALUE,
  regionSize,
  tailWords,
} from '../src/layout.js';
import type { TrieStore } from '../src/store.js';

/**
 * Checks the radix invariants on the pooled layout: child codes strictly ascending and within capacity,
 * no value-less node with fewer than two children (except the root), live regions disjoint, and the
 * number of valued nodes equal to `size`.
 */
function checkInvariants<V>(trie: Trie<V>): void {
  const store = (trie as unknown as { store: TrieStore<V> }).store;
  const words = store.pool.words;
  const regions: [number, number][] = [];
  const visit = (node: number, isRoot: boolean): number => {
    const count = words[node + COUNT] as number;
    const cap = words[node + CAP] as number;
    const tail = words[node + TAIL] as number;
    if (isRoot) expect(tail).toBe(0);
    expect(count).toBeLessThanOrEqual(cap);
    regions.push([node, regionSize(tail, cap)]);
    const table = words[node + INDEX] as number;
    if (table !== 0) {
      regions.push([table, 2 + (words[table + 1] as number)]);
      expect(count).toBeGreaterThan(LINEAR_SCAN);
    }
    const codes = node + HEADER + tailWords(tail);
    for (let j = 1; j < count; j++) {
      expect(words[codes + j] as number).toBeGreaterThan(words[codes + j - 1] as number);
    }
    if (table !== 0) {
      // Every child is reachable through the table, and the table names no other child.
      const base = words[table] as number;
      const range = words[table + 1] as number;
      let entries = 0;
      for (let d = 0; d < range; d++) {
        const entry = words[table + 2 + d] as number;
        if (entry !== 0) {
          entries++;
          expect(words[codes + entry - 1]).toBe(base + d);
        }
      }
      expect(entries).toBe(count);
    }
    const valued = words[node + VALUE] !== NO_VALUE;
    if (!isRoot && !valued) expect(count).toBeGreaterThanOrEqual(2);
    let total = valued ? 1 : 0;
    for (let j = 0; j < count; j++) total += visit(words[codes + cap + j] as number, false);
    return total;
  };
  expect(visit(store.root, true)).toBe(trie.size);
  regions.sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < regions.length; k++) {
    const [start, size] = regions[k - 1] as [number, number];
    expect(start + size).toBeLessThanOrEqual((regions[k] as [number, number])[0]);
  }
}

// Small alphabets make shared prefixes, splits and merges common; the extra characters cover
// non-ASCII, astral (surrogate pair) and NUL code units.
const keyArb = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 6 }),
  fc.string({ unit: fc.constantFrom('a', 'é', '日', '😀', '\u0000'), maxLength: 5 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
);

type Op =
  | { op: 'set'; key: string; value: number }
  | { op: 'delete'; key: string }
  | { op: 'get'; key: string }
  | { op: 'scan'; prefix: string; after?: string }
  | { op: 'clear' };

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
);

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

describe('Trie against a Map model', () => {
  it('agrees on every operation, size and ordered iteration', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const trie = new Trie<number>();
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
              model.clear();
              break;
          }
          expect(trie.size).toBe(model.size);
          expect([...trie.entries()]).toEqual(
            [...model.entries()].sort((a, b) => byCodeUnit(a[0], b[0])),
          );
          checkInvariants(trie);
        }
      }),
      { numRuns: 400 },
    );
  });
});
