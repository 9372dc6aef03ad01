import fc from 'fast-check';
import { FrozenTrie } from '@triekv/trie';

/** What the frozen trie should answer: the last index of each key. */
function model(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  keys.forEach((k, i) => m.set(k, i));
  return m;
}

const sorted = (entries: [string, number][]): [string, number][] =>
  [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('FrozenTrie', () => {
  test('maps each key to its index; misses are undefined', () => {
    const keys = ['name', 'age', 'address', 'addresses', 'a', ''];
    const t = FrozenTrie.from(keys);
    keys.forEach((k, i) => expect(t.get(k)).toBe(i));
    for (const miss of ['nam', 'names', 'ad', 'addr', 'b', 'agee', 'address ', 'A'])
      expect(t.get(miss)).toBeUndefined();
    expect(t.size).toBe(6);
    expect(t.has('age')).toBe(true);
    expect(t.has('ag')).toBe(false);
  });

  test('an empty trie has nothing, not even the empty key', () => {
    const t = FrozenTrie.from([]);
    expect(t.size).toBe(0);
    expect(t.get('')).toBeUndefined();
    expect(t.get('x')).toBeUndefined();
    expect([...t]).toEqual([]);
  });

  test('a key listed twice maps to its last index', () => {
    const t = FrozenTrie.from(['x', 'y', 'x']);
    expect(t.get('x')).toBe(2);
    expect(t.size).toBe(2);
    expect([...t]).toEqual([
      ['x', 2],
      ['y', 1],
    ]);
  });

  test('iterates in UTF-16 code unit order, like Array.prototype.sort()', () => {
    const keys = ['b', 'a\u{1F600}', 'a\uFFFF', 'ab', 'a', '\u00e9', 'Z'];
    expect([...FrozenTrie.from(keys).keys()]).toEqual([...keys].sort());
  });

  test('deep chains of prefixes and wide nodes (binary-searched children)', () => {
    const chain = Array.from({ length: 3000 }, (_, i) => 'a'.repeat(i + 1));
    const deep = FrozenTrie.from(chain);
    expect(deep.get('a'.repeat(3000))).toBe(2999);
    expect(deep.get('a'.repeat(3001))).toBeUndefined();
    const wide = Array.from({ length: 500 }, (_, i) => String.fromCharCode(0x20 + i) + 'k');
    const t = FrozenTrie.from(wide);
    wide.forEach((k, i) => expect(t.get(k)).toBe(i));
    expect(t.get(String.fromCharCode(0x20 + 500) + 'k')).toBeUndefined();
    expect(t.get(String.fromCharCode(0x1f) + 'k')).toBeUndefined();
  });

  test('offsets beyond 16 bits (a trie over 65,535 code units)', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `key-${i}-${'x'.repeat(i % 7)}`);
    const t = FrozenTrie.from(keys);
    expect(t.units).toBeGreaterThan(0x10000);
    keys.forEach((k, i) => expect(t.get(k)).toBe(i));
  });

  test('model: the same answers as a Map, for any keys (non-ASCII, astral, lone surrogates, NUL)', () => {
    const unit = fc.constantFrom(
      'a',
      'b',
      'ab',
      '\0',
      '\u00e9',
      '\uD83D',
      '\uDE00',
      '\u{1F600}',
      'zz',
    );
    const key = fc.array(unit, { maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        fc.array(key, { maxLength: 40 }),
        fc.array(key, { maxLength: 20 }),
        (keys, probes) => {
          const t = FrozenTrie.from(keys);
          const m = model(keys);
          for (const k of [...keys, ...probes]) expect(t.get(k)).toBe(m.get(k));
          expect(t.size).toBe(m.size);
          expect([...t]).toEqual(sorted([...m]));
        },
      ),
      { numRuns: 500 },
    );
  });
});
