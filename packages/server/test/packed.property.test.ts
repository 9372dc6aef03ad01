import fc from 'fast-check';
import { compareVersions, type Version } from '@triekv/protocol';
import { Float, formatValue, type Doc, type Value } from '@triekv/record';
import { docArb, versionArb } from '../../protocol/test/arbitraries.js';
import {
  compareToPacked,
  find,
  isLive,
  packRecord,
  packedVersion,
  unpackDoc,
  valueAt,
} from '../src/packed.js';

/** A value as plain data that keeps what `toEqual` on maps would blur: key order and int vs float. */
function plain(value: Value): unknown {
  if (value instanceof Map) return [...value].map(([k, v]) => [k, plain(v)]);
  if (value instanceof Float) return { float: value.value };
  if (typeof value === 'bigint') return { bigint: value.toString() };
  return value;
}

/** The model of `find`: the value at `path`, walking the maps. */
function walk(doc: Doc, path: string[]): Value | undefined {
  let current: Value = doc;
  for (const key of path) {
    if (!(current instanceof Map)) return undefined;
    const next: Value | undefined = current.get(key);
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

/** Paths through `doc` (each prefix of each branch), and a few that miss. */
function paths(doc: Doc, prefix: string[] = []): string[][] {
  const found: string[][] = [];
  for (const [key, value] of doc) {
    const path = [...prefix, key];
    found.push(path, [...path, 'missing'], [...prefix, `${key}?`]);
    if (value instanceof Map) found.push(...paths(value, path));
  }
  return found;
}

describe('packed records', () => {
  test('a document comes back exactly: key order, ints, floats, big ints, strings, nesting', () => {
    fc.assert(
      fc.property(docArb, versionArb, (doc, version) => {
        const packed = packRecord(doc, version);
        expect(isLive(packed)).toBe(true);
        expect(plain(unpackDoc(packed))).toEqual(plain(doc));
        expect(packedVersion(packed)).toEqual(version);
      }),
      { numRuns: 500 },
    );
  });

  test('every path finds what walking the maps finds, and only that', () => {
    fc.assert(
      fc.property(docArb, versionArb, (doc, version) => {
        const packed = packRecord(doc, version);
        for (const path of paths(doc)) {
          const expected = walk(doc, path);
          const at = find(packed, path);
          if (expected === undefined) expect(at).toBe(-1);
          else expect(plain(valueAt(packed, at))).toEqual(plain(expected));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('versions compare as compareVersions does, without unpacking', () => {
    // Few distinct walls, counters and node ids (some prefixes of others), so that ties are common.
    const close: fc.Arbitrary<Version> = fc.tuple(
      fc.nat(2),
      fc.nat(2),
      fc.constantFrom('', 'a', 'ab', 'b', 'n\u00e9'),
    );
    const version = fc.oneof(versionArb, close);
    fc.assert(
      fc.property(version, version, fc.boolean(), (a, b, tombstone) => {
        const packed = packRecord(tombstone ? null : new Map(), a);
        expect(isLive(packed)).toBe(!tombstone);
        expect(Math.sign(compareToPacked(packed, b))).toBe(Math.sign(compareVersions(a, b)));
        expect(compareToPacked(packed, a)).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  test('numbers keep their kind and sign: small ints as varints, the rest bit for bit', () => {
    const values: Value[] = [
      0,
      1,
      127,
      128,
      16_383,
      16_384,
      2 ** 31,
      2 ** 53 - 1,
      -0,
      -1,
      -(2 ** 53 - 1),
      0.5,
      -2.25,
      1e300,
      2n ** 80n,
      -(2n ** 80n),
      new Float(3),
      new Float(-0),
    ];
    const doc: Doc = new Map(values.map((v, i) => [`k${i}`, v]));
    const packed = packRecord(doc, [2 ** 53 - 1, 2 ** 40, 'n']);
    expect(packedVersion(packed)).toEqual([2 ** 53 - 1, 2 ** 40, 'n']);
    const back = unpackDoc(packed);
    values.forEach((v, i) => {
      const got = back.get(`k${i}`);
      if (typeof v === 'number') expect(Object.is(got, v)).toBe(true);
      else expect(plain(got as Value)).toEqual(plain(v));
    });
    // A small int takes its tag and one varint unit.
    const one = packRecord(new Map([['a', 5]]), [1, 0, '']);
    const two = packRecord(new Map([['a', 0.5]]), [1, 0, '']);
    expect(two.length - one.length).toBe(7);
  });

  test('large records: strings and documents past 65,535 code units, documents of many keys', () => {
    const wide: Doc = new Map();
    for (let i = 0; i < 3000; i++)
      wide.set(`field-${i}`, i % 2 === 0 ? i : `v${'x'.repeat(i % 50)}`);
    const doc: Doc = new Map<string, Value>([
      ['long', 'y'.repeat(70_000)],
      ['wide', wide],
      ['last', new Map<string, Value>([['deep', new Float(2)]])],
    ]);
    const packed = packRecord(doc, [1, 2, 'n']);
    expect(packed.length).toBeGreaterThan(0x20000);
    expect(formatValue(unpackDoc(packed))).toBe(formatValue(doc));
    expect(valueAt(packed, find(packed, ['wide', 'field-2999']))).toBe('v' + 'x'.repeat(2999 % 50));
    expect(valueAt(packed, find(packed, ['last', 'deep']))).toEqual(new Float(2));
    expect(find(packed, ['wide', 'field-3000'])).toBe(-1);
  });
});
