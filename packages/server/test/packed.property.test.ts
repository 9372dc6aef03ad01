import fc from 'fast-check';
import { compareVersions, type Version } from '@triekv/protocol';
import {
  Float,
  formatValue,
  valueAt as modelAt,
  type Doc,
  type Path,
  type Value,
} from '@triekv/record';
import { docArb, valueArb, versionArb } from '../../protocol/test/arbitraries.js';
import {
  compareToPacked,
  find,
  isLive,
  isPackedRecord,
  packRecord,
  packTombstone,
  packedVersion,
  unpackValue,
  valueAt,
} from '../src/packed.js';

/** A value as plain data that keeps what `toEqual` on maps would blur: key order and int vs float. */
function plain(value: Value): unknown {
  if (value instanceof Map) return [...value].map(([k, v]) => [k, plain(v)]);
  if (Array.isArray(value)) return { list: value.map(plain) };
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (value instanceof Float) return { float: value.value };
  if (typeof value === 'bigint') return { bigint: value.toString() };
  return value;
}

/** Paths through `value` (each prefix of each branch: keys and list indexes), and a few that miss. */
function paths(value: Value, prefix: Path = []): Path[] {
  const found: Path[] = [];
  if (value instanceof Map) {
    for (const [key, v] of value) {
      const path = [...prefix, key];
      found.push(path, [...path, 'missing'], [...prefix, `${key}?`], [...path, 0]);
      found.push(...paths(v, path));
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      const path = [...prefix, i];
      found.push(path, [...prefix, String(i)]);
      found.push(...paths(v, path));
    });
    found.push([...prefix, value.length]);
  }
  return found;
}

describe('packed records', () => {
  test('a document comes back exactly: key order, ints, floats, big ints, strings, nesting', () => {
    fc.assert(
      fc.property(docArb, versionArb, (doc, version) => {
        const packed = packRecord(doc, version);
        expect(isLive(packed)).toBe(true);
        expect(plain(unpackValue(packed))).toEqual(plain(doc));
        expect(packedVersion(packed)).toEqual(version);
      }),
      { numRuns: 500 },
    );
  });

  test('any value at the top level comes back exactly: lists, bytes, booleans, null, scalars', () => {
    fc.assert(
      fc.property(valueArb, versionArb, (value, version) => {
        const packed = packRecord(value, version);
        expect(isLive(packed)).toBe(true);
        expect(isPackedRecord(packed)).toBe(true);
        expect(plain(unpackValue(packed))).toEqual(plain(value));
        expect(packedVersion(packed)).toEqual(version);
      }),
      { numRuns: 500 },
    );
  });

  test('every path finds what walking the value finds (keys, list indexes), and only that', () => {
    fc.assert(
      fc.property(valueArb, versionArb, (doc, version) => {
        const packed = packRecord(doc, version);
        for (const path of paths(doc)) {
          if (path.length === 0) continue;
          const expected = modelAt(doc, path);
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
        const packed = tombstone ? packTombstone(a) : packRecord(new Map(), a);
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
    const back = unpackValue(packed) as Doc;
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
    expect(formatValue(unpackValue(packed))).toBe(formatValue(doc));
    expect(valueAt(packed, find(packed, ['wide', 'field-2999']))).toBe('v' + 'x'.repeat(2999 % 50));
    expect(valueAt(packed, find(packed, ['last', 'deep']))).toEqual(new Float(2));
    expect(find(packed, ['wide', 'field-3000'])).toBe(-1);
  });
});
