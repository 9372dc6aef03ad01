import fc from 'fast-check';
import {
  Float,
  formatRecord,
  formatValue,
  parseRecord,
  parseValue,
  valuesEqual,
  type Doc,
  type KvRecord,
  type Value,
} from '@triekv/record';

const keyArb = fc.string({ unit: 'binary', maxLength: 8 });
const { value: valueArb } = fc.letrec<{ value: Value; doc: Doc }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer(),
    fc
      .bigInt({ min: -(2n ** 80n), max: 2n ** 80n })
      .map((n) =>
        n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(n)
          : n,
      ),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((d) => (Number.isInteger(d) ? new Float(d) : d)),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.boolean(),
    fc.constant(null),
    // Bytes that are not UTF-8 (a leading 0xff), so that text gives them back as bytes: valid UTF-8
    // bytes read back as a string (tested on their own).
    fc.uint8Array({ maxLength: 8 }).map((b) => Uint8Array.from([0xff, ...b])),
    // Never empty: the arrow style reads `[]` as an empty document (tested on its own).
    fc.array(tie('value'), { minLength: 1, maxLength: 3 }),
    tie('doc'),
  ),
  doc: fc
    .uniqueArray(fc.tuple(keyArb, tie('value')), { selector: ([k]) => k, maxLength: 4 })
    .map((entries) => new Map(entries)),
}));
const recordArb: fc.Arbitrary<KvRecord> = fc.record({ key: keyArb, value: valueArb });

/** An independent writer for the Python-dict style: single quotes, `,` and `:`. */
function python(value: Value): string {
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${pyString(k)}: ${python(v)}`).join(', ')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(python).join(', ')}]`;
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return typeof value === 'string' ? pyString(value) : formatValue(value);
}
const pyString = (s: string): string =>
  `'${JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;

/** An independent writer for the arrow style: `->`, `|` and `[]`. */
function arrow(value: Value): string {
  if (value instanceof Map)
    return `[ ${[...value].map(([k, v]) => `${JSON.stringify(k)} -> ${arrow(v)}`).join(' | ')} ]`;
  if (Array.isArray(value)) return `[ ${value.map(arrow).join(' | ')} ]`;
  return formatValue(value);
}

describe('record text format properties', () => {
  it('format then parse gives back the same typed record, and the text is a fixed point', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const text = formatRecord(record);
        const parsed = parseRecord(text);
        expect(parsed.key).toBe(record.key);
        expect(valuesEqual(parsed.value, record.value)).toBe(true);
        expect(formatRecord(parsed)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('reads the Python-dict and arrow styles into the same model', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        const viaPython = parseRecord(`${pyString(record.key)}: ${python(record.value)}`);
        const viaArrow = parseRecord(`${JSON.stringify(record.key)} -> ${arrow(record.value)}`);
        expect(valuesEqual(viaPython.value, record.value)).toBe(true);
        expect(valuesEqual(viaArrow.value, record.value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('JSON text reads as the same values JSON.parse sees', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), (json) => {
        const parsed = parseValue(json);
        const plain = (v: Value): unknown =>
          v instanceof Map
            ? Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]))
            : Array.isArray(v)
              ? v.map(plain)
              : v instanceof Float
                ? v.value
                : typeof v === 'bigint'
                  ? Number(v)
                  : v;
        expect(plain(parsed)).toEqual(JSON.parse(json));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a ParseError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        try {
          parseValue(text);
          parseRecord(text);
        } catch (error) {
          expect((error as Error).name).toMatch(/ParseError|DuplicateKeyError|TooDeepError/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
