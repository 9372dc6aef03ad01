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
