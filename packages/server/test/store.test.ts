import { Store } from '@triekv/server';
import { formatValue, parseValue, type Doc } from '@triekv/record';
import { HybridClock, type Version } from '@triekv/protocol';
import { trieEntries, readNum } from '@triekv/trie';
import { docStart, find, packRecord, unpackValue } from '../src/packed.js';

const doc = (text: string): Doc => parseValue(text) as Doc;
const v = (wall: number, counter = 0, node = 'n'): Version => [wall, counter, node];

describe('Store', () => {
  it('returns records whole, in their own key order, with types intact', () => {
    const store = new Store();
    const text =
      '{ "name" : "Mary" ; "h" : 17.0 ; "address" : { "street" : "Panepistimiou" ; "number" : 12 } ; "a" : {} }';
    expect(store.put('person2', doc(text), v(1)).applied).toBe(true);
    const result = store.get('person2');
    expect(result.found && formatValue(result.value)).toBe(text);
    expect(result.version).toEqual(v(1));
  });

  it('packs each record into one string, with a trie in every nested document', () => {
    const d = doc('{ "a" : { "b" : { "c" : 1 } } ; "d" : 2 }');
    const packed = packRecord(d, v(5, 1, 'node-7'));
    expect(typeof packed).toBe('string');
    expect(unpackValue(packed)).toEqual(d);
    // The document's first number is where its trie starts; the trie maps each key to its entry.
    const start = docStart(packed);
    const keys = [...trieEntries(packed, readNum(packed, start))].map(([key]) => key);
    expect(keys).toEqual(['a', 'd']);
    // Every level has its own trie: the path is found level by level, and misses stop where they miss.
    expect(find(packed, ['a', 'b', 'c'])).toBeGreaterThan(start);
    expect(find(packed, ['a', 'b', 'x'])).toBe(-1);
    expect(find(packed, ['d', 'x'])).toBe(-1);
    // Numbers take byte-sized units: a record of Latin-1 keys and strings is a one-byte string.
    for (let i = 0; i < packed.length; i++) expect(packed.charCodeAt(i)).toBeLessThan(256);
  });

  it('answers QUERY by walking the tries', () => {
    const store = new Store();
    store.put('p', doc('{ "address" : { "number" : 12 ; "street" : "x" } ; "n" : 1 }'), v(1));
    const q = (path: string[]): string => {
      const r = store.query('p', path);
      return r.found ? formatValue(r.value) : 'NOT FOUND';
    };
    expect(q(['address', 'number'])).toBe('12');
    expect(q(['address'])).toBe('{ "number" : 12 ; "street" : "x" }');
    expect(q([])).toBe('{ "address" : { "number" : 12 ; "street" : "x" } ; "n" : 1 }');
    expect(q(['address', 'missing'])).toBe('NOT FOUND');
    expect(q(['n', 'deeper'])).toBe('NOT FOUND');
    expect(store.query('p', ['missing'])).toEqual({ found: false, version: v(1) });
    expect(store.query('nobody', ['x']).found).toBe(false);
  });

  it('ignores writes older than (or as old as) the stored version, and says so', () => {
    const store = new Store();
    store.put('k', doc('{ "v" : 2 }'), v(2));
    expect(store.put('k', doc('{ "v" : 1 }'), v(1))).toEqual({
      applied: false,
      version: v(2),
      existed: true,
    });
    expect(store.put('k', doc('{ "v" : 9 }'), v(2))).toMatchObject({ applied: false });
    expect(store.put('k', doc('{ "v" : 3 }'), v(2, 1))).toMatchObject({
      applied: true,
      version: v(2, 1),
    });
    const r = store.get('k');
    expect(r.found && formatValue(r.value)).toBe('{ "v" : 3 }');
  });

  it('leaves tombstones that hide the record and block older writes', () => {
    const store = new Store();
    store.put('k', doc('{ "v" : 1 }'), v(1));
    expect(store.delete('k', v(2))).toMatchObject({ applied: true, version: v(2), existed: true });
    expect(store.get('k')).toEqual({ found: false, version: v(2) });
    expect(store.size).toBe(0);
    expect(store.tombstones).toBe(1);
    // A stale replica's write cannot resurrect it; a newer one can.
    expect(store.put('k', doc('{ "v" : 1 }'), v(1)).applied).toBe(false);
    expect(store.get('k').found).toBe(false);
    expect(store.put('k', doc('{ "v" : 3 }'), v(3)).applied).toBe(true);
    expect(store.size).toBe(1);
    expect(store.tombstones).toBe(0);
    // A delete older than the record is ignored.
    expect(store.delete('k', v(2))).toMatchObject({ applied: false, existed: true });
    // Deleting a key never seen still records the tombstone.
    expect(store.delete('never', v(5))).toMatchObject({
      applied: true,
      version: v(5),
      existed: false,
    });
    expect(store.put('never', doc('{}'), v(4)).applied).toBe(false);
  });

  it('scans live keys by prefix in order, page by page, skipping tombstones', () => {
    const store = new Store();
    for (let i = 0; i < 25; i++) store.put(`key${i}`, doc('{}'), v(1));
    store.put('other', doc('{}'), v(1));
    store.delete('key5', v(2));
    const all: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = store.scan('key', 7, after);
      all.push(...page.keys);
      if (page.cursor === undefined) break;
      expect(page.keys).toHaveLength(7);
      after = page.cursor;
    }
    const expected = Array.from({ length: 25 }, (_, i) => `key${i}`)
      .filter((k) => k !== 'key5')
      .sort();
    expect(all).toEqual(expected);
    expect(store.scan('zzz', 10).keys).toEqual([]);
    expect(store.scan('key', 0)).toEqual({ keys: [] });
    // Exactly `limit` keys left: no cursor, no empty extra page.
    expect(store.scan('other', 1)).toEqual({ keys: ['other'] });
  });

  it('exports records and tombstones with versions, for repair', () => {
    const store = new Store();
    store.put('a', doc('{ "x" : 1 }'), v(1));
    store.put('b', doc('{}'), v(1));
    store.delete('b', v(2));
    store.put('c', doc('{}'), v(3));
    const first = store.export(2);
    expect(
      first.entries.map((e) => [e.key, e.value === null ? null : formatValue(e.value), e.version]),
    ).toEqual([
      ['a', '{ "x" : 1 }', v(1)],
      ['b', null, v(2)],
    ]);
    expect(first.cursor).toBe('b');
    expect(store.export(2, first.cursor).entries.map((e) => e.key)).toEqual(['c']);
  });

  it('probes a path for version-only reads: found or not, with the version, as query would say', () => {
    const store = new Store();
    store.put('p', doc('{ "a" : { "b" : 1 } ; "s" : "x" }'), v(3));
    store.delete('gone', v(4));
    const cases: [string, string[]][] = [
      ['p', []],
      ['p', ['a']],
      ['p', ['a', 'b']],
      ['p', ['a', 'c']],
      ['p', ['s', 'deeper']],
      ['gone', []],
      ['gone', ['a']],
      ['never', []],
    ];
    for (const [key, path] of cases) {
      const { found, version } = store.query(key, path);
      expect(store.probe(key, path)).toEqual(
        version === undefined ? { found } : { found, version },
      );
    }
  });

  it('restores packed records as a log holds them, newest version winning', () => {
    const source = new Store();
    const record = (k: string): string =>
      source.exportRecords(10).entries.find(([key]) => key === k)?.[1] as string;
    source.put('a', doc('{ "v" : 1 }'), v(1));
    const a1 = record('a');
    source.put('a', doc('{ "v" : 2 }'), v(2));
    const a2 = record('a');
    source.delete('a', v(3));
    const gone = record('a');
    const store = new Store();
    expect(store.restore('a', a2)).toBe(true);
    expect(store.restore('a', a1)).toBe(false); // older
    expect(store.restore('a', a2)).toBe(false); // the same
    expect(store.get('a')).toEqual({ found: true, value: doc('{ "v" : 2 }'), version: v(2) });
    expect(store.size).toBe(1);
    expect(store.restore('a', gone)).toBe(true);
    expect(store.get('a')).toEqual({ found: false, version: v(3) });
    expect([store.size, store.tombstones]).toEqual([0, 1]);
  });

  describe('stamped writes', () => {
    it('stamp after the stored version, observing it only when it is ahead of the clock', () => {
      let now = 1000;
      const clock = new HybridClock('s', () => now);
      const store = new Store();
      const first = store.putStamped('k', 1, clock);
      expect(first.applied).toBe(true);
      // Another writer's version ahead of this clock (within its drift) is observed and passed.
      expect(store.put('k', 2, v(5000, 3, 'b')).applied).toBe(true);
      const next = store.putStamped('k', 3, clock);
      expect(next.applied).toBe(true);
      expect(next.version[0]).toBe(5000);
      expect(next.version[1]).toBe(4);
      const deleted = store.deleteStamped('k', clock);
      expect(deleted.applied && deleted.existed).toBe(true);
      expect(store.get('k')).toEqual({ found: false, version: deleted.version });
      now = 6000;
      expect(store.putStamped('k', 4, clock).version).toEqual([6000, 0, 's']);
    });

    it('refuse, and change nothing, when the stored version is too far ahead to observe', () => {
      const clock = new HybridClock('s', () => 1000, 60_000);
      const store = new Store();
      store.put('k', 'planted', v(10_000_000));
      const result = store.putStamped('k', 'mine', clock);
      expect(result).toEqual({ applied: false, version: v(10_000_000), existed: true });
      expect(store.deleteStamped('k', clock).applied).toBe(false);
      expect(store.value('k')).toBe('planted');
      expect(clock.latest()[0]).toBe(0);
    });
  });
});
