import fc from 'fast-check';
import { generateLines, type GenerateOptions, type KeySpec } from '@triekv/datagen';
import { Float, formatValue, parseRecord, type Doc, type Value } from '@triekv/record';

/**
 * Checks one parsed record against the limits, written without looking at the generator: returns the
 * problems found (an empty list when the record is within every limit).
 */
function problems(doc: Doc, options: GenerateOptions): string[] {
  const types = new Map(options.keys.map((k) => [k.name, k.type]));
  const found: string[] = [];
  const visit = (d: Doc, depth: number): void => {
    if (depth > options.maxDepth) found.push(`document at depth ${depth} > ${options.maxDepth}`);
    if (d.size > options.maxKeys) found.push(`${d.size} keys > ${options.maxKeys}`);
    for (const [key, value] of d) {
      const type = types.get(key);
      if (type === undefined) found.push(`key ${key} not in the key file`);
      if (value instanceof Map) visit(value, depth + 1);
      else if (!matches(type, value, options.maxLength))
        found.push(`${key}=${formatValue(value)} is not a ${type}`);
    }
  };
  visit(doc, 0);
  return found;
}

function matches(type: KeySpec['type'] | undefined, value: Value, maxLength: number): boolean {
  switch (type) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
      return value instanceof Float || (typeof value === 'number' && !Number.isInteger(value));
    case 'string':
      return typeof value === 'string' && new RegExp(`^[A-Za-z0-9]{1,${maxLength}}$`).test(value);
    default:
      return false;
  }
}

const keysArb = fc.uniqueArray(
  fc.record({
    name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter((s) => !/\s/.test(s)),
    type: fc.constantFrom('string' as const, 'int' as const, 'float' as const),
  }),
  { selector: (k) => k.name, minLength: 1, maxLength: 8 },
);
const optionsArb: fc.Arbitrary<GenerateOptions> = keysArb.chain((keys) =>
  fc.record({
    keys: fc.constant(keys),
    lines: fc.integer({ min: 0, max: 40 }),
    maxDepth: fc.integer({ min: 0, max: 4 }),
    maxKeys: fc.integer({ min: 0, max: keys.length }),
    maxLength: fc.integer({ min: 1, max: 12 }),
    seed: fc.string(),
  }),
);

describe('generated data', () => {
  it('parses, numbers its keys key1..keyN, and stays within every limit', () => {
    fc.assert(
      fc.property(optionsArb, (options) => {
        const lines = [...generateLines(options)];
        expect(lines).toHaveLength(options.lines);
        lines.forEach((line, i) => {
          const record = parseRecord(line);
          expect(record.key).toBe(`key${i + 1}`);
          expect(problems(record.value as Doc, options)).toEqual([]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('uses the whole range of the limits (not a degenerate subset)', () => {
    const keys: KeySpec[] = ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'string' }));
    const options = { keys, lines: 3000, maxDepth: 2, maxKeys: 4, maxLength: 5, seed: 'range' };
    const sizes = new Set<number>();
    const lengths = new Set<number>();
    let deepest = 0;
    const visit = (d: Doc, depth: number): void => {
      sizes.add(d.size);
      deepest = Math.max(deepest, depth);
      for (const v of d.values()) {
        if (v instanceof Map) visit(v, depth + 1);
        else lengths.add((v as string).length);
      }
    };
    for (const line of generateLines(options)) visit(parseRecord(line).value as Doc, 0);
    expect([...sizes].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...lengths].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(deepest).toBe(2);
  });

  it('is reproducible byte for byte with a seed, and differs across seeds', () => {
    const keys: KeySpec[] = [
      { name: 'name', type: 'string' },
      { name: 'age', type: 'int' },
      { name: 'height', type: 'float' },
    ];
    const base = { keys, lines: 200, maxDepth: 3, maxKeys: 3, maxLength: 8 };
    const a = [...generateLines({ ...base, seed: '42' })].join('\n');
    expect([...generateLines({ ...base, seed: '42' })].join('\n')).toBe(a);
    expect([...generateLines({ ...base, seed: '43' })].join('\n')).not.toBe(a);
    expect([...generateLines(base)].join('\n')).not.toBe([...generateLines(base)].join('\n'));
  });

  it('is lazy: the first lines of a huge data set come at once', () => {
    const keys: KeySpec[] = [{ name: 'n', type: 'int' }];
    const it = generateLines({
      keys,
      lines: 1e15,
      maxDepth: 1,
      maxKeys: 1,
      maxLength: 1,
      seed: 's',
    });
    expect(it.next().value).toMatch(/^"key1" : /);
    expect(it.next().value).toMatch(/^"key2" : /);
  });

  it.each([
    [{ lines: -1 }, 'lines must be a whole number >= 0, got -1'],
    [{ lines: 1.5 }, 'lines must be a whole number >= 0'],
    [{ maxLength: 0 }, 'maxLength must be a whole number >= 1'],
    [{ maxKeys: 3 }, 'maxKeys (3) is larger than the number of keys in the key file (2)'],
    [{ nestProbability: 2 }, 'nestProbability must be in [0, 1]'],
  ])('rejects %j', (override, message) => {
    const keys: KeySpec[] = [
      { name: 'a', type: 'int' },
      { name: 'b', type: 'int' },
    ];
    const options = { keys, lines: 1, maxDepth: 0, maxKeys: 1, maxLength: 1, ...override };
    expect(() => generateLines(options).next()).toThrow(message);
  });
});
