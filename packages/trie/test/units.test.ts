import fc from 'fast-check';
import {
  FLOAT64_UNITS,
  NUM_UNITS,
  UnitWriter,
  readFloat64,
  readNum,
  readVarint,
  trieGet,
  varintEnd,
  writeTrie,
} from '@triekv/trie';

describe('UnitWriter', () => {
  test('numbers, float64s and text come back from the string as written', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.double(),
        fc.string({ unit: 'binary', maxLength: 20 }),
        (n, x, text) => {
          const w = new UnitWriter();
          w.num(0);
          w.float64(x);
          w.text(text);
          w.setNum(0, n);
          const s = w.toString();
          expect(s.length).toBe(w.length);
          expect(readNum(s, 0)).toBe(n);
          expect(Object.is(readFloat64(s, NUM_UNITS), x)).toBe(true);
          expect(s.slice(NUM_UNITS + FLOAT64_UNITS)).toBe(text);
          // Numbers are byte-sized units: a string of them and Latin-1 text stays one byte per unit.
          for (let i = 0; i < NUM_UNITS + FLOAT64_UNITS; i++)
            expect(s.charCodeAt(i)).toBeLessThan(256);
        },
      ),
    );
  });

  test('varints: any whole number to 2^53, one unit below 128, two below 16,384, all units below 256', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat({ max: 200 }), fc.nat({ max: 20_000 }), fc.maxSafeNat()),
        fc.nat({ max: 3 }),
        (n, before) => {
          const w = new UnitWriter();
          for (let i = 0; i < before; i++) w.unit(0xff);
          w.varint(n);
          w.unit(7);
          const s = w.toString();
          expect(readVarint(s, before)).toBe(n);
          const end = varintEnd(s, before);
          expect(s.charCodeAt(end)).toBe(7);
          let groups = 1;
          for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) groups++;
          expect(end - before).toBe(groups);
          if (n < 128) expect(groups).toBe(1);
          else if (n < 16_384) expect(groups).toBe(2);
          for (let i = before; i < end; i++) expect(s.charCodeAt(i)).toBeLessThan(256);
        },
      ),
    );
    const w = new UnitWriter();
    w.varint(2 ** 53);
    expect(readVarint(w.toString(), 0)).toBe(2 ** 53);
  });

  test('grows as needed, and after a large build starts small again without losing anything', () => {
    const w = new UnitWriter();
    const big = 'x'.repeat(200_000);
    w.text(big);
    expect(w.toString()).toBe(big);
    w.reset();
    expect(w.length).toBe(0);
    w.text('ab');
    w.unit(0x263a);
    expect(w.toString()).toBe('ab\u263a');
  });

  test('a trie can sit anywhere in a larger string, its offsets counted from the start', () => {
    const w = new UnitWriter();
    w.text('some data before the trie');
    const root = w.length;
    const keys = ['name', 'age', 'address', 'a'];
    expect(writeTrie(w, keys, [10, 20, 30, 40])).toBe(4);
    w.text('and after');
    const s = w.toString();
    expect(keys.map((k) => trieGet(s, root, k))).toEqual([10, 20, 30, 40]);
    expect(trieGet(s, root, 'ad')).toBeUndefined();
    // Only keys[1..3) of the list.
    const at = w.length;
    writeTrie(w, keys, undefined, 1, 3);
    const t = w.toString();
    expect(trieGet(t, at, 'age')).toBe(1);
    expect(trieGet(t, at, 'address')).toBe(2);
    expect(trieGet(t, at, 'name')).toBeUndefined();
  });
});
