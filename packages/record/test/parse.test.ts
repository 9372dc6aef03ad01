import {
  DuplicateKeyError,
  Float,
  LineTooLongError,
  ParseError,
  SyntaxParseError,
  TooDeepError,
  formatRecord,
  formatValue,
  kindOf,
  parseRecord,
  parseValue,
  valuesEqual,
  type Doc,
} from '@triekv/record';

const doc = (value: unknown): Doc => value as Doc;

const errorOf = (fn: () => unknown): ParseError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error('expected a ParseError');
};

describe('parseRecord', () => {
  it('reads the canonical form, keeping key order', () => {
    const rec = parseRecord(
      '"person2" : { "name" : "Mary" ; "address" : { "street" : "Panepistimiou" ; "number" : 12 } }',
    );
    expect(rec.key).toBe('person2');
    expect([...doc(rec.value).keys()]).toEqual(['name', 'address']);
    const address = doc(rec.value).get('address') as Doc;
    expect(address.get('number')).toBe(12);
    expect(address.get('street')).toBe('Panepistimiou');
  });

  it('keeps ints and floats apart, whole floats included', () => {
    const rec = parseRecord(
      '"p" : { "i" : 17 ; "f" : 17.0 ; "e" : 1e3 ; "n" : -0.5 ; "z" : -0.0 }',
    );
    expect(kindOf(doc(rec.value).get('i')!)).toBe('int');
    expect(doc(rec.value).get('f')).toEqual(new Float(17));
    expect(doc(rec.value).get('e')).toEqual(new Float(1000));
    expect(doc(rec.value).get('n')).toBe(-0.5);
    expect(formatRecord(rec)).toBe(
      '"p" : { "i" : 17 ; "f" : 17.0 ; "e" : 1000.0 ; "n" : -0.5 ; "z" : -0.0 }',
    );
  });

  it('keeps ints beyond 2^53 exact as bigints', () => {
    const rec = parseRecord(
      '"p" : { "big" : 123456789012345678901 ; "edge" : 9007199254740993 ; "safe" : 9007199254740991 }',
    );
    expect(doc(rec.value).get('big')).toBe(123456789012345678901n);
    expect(doc(rec.value).get('edge')).toBe(9007199254740993n);
    expect(doc(rec.value).get('safe')).toBe(9007199254740991);
    expect(formatRecord(rec)).toContain('"edge" : 9007199254740993');
  });

  it('refuses integers over the maxIntBytes limit (64 bytes) before converting them', () => {
    const max = (1n << 512n) - 1n;
    expect(parseValue(`{ "n" : ${max} }`)).toEqual(new Map([['n', max]]));
    expect(parseValue(`{ "n" : ${-max} }`)).toEqual(new Map([['n', -max]]));
    expect(() => parseValue(`{ "n" : ${max + 1n} }`)).toThrow(
      'line 1, col 9: an integer of 155 digits is larger than 64 bytes (the maxIntBytes limit)',
    );
    const huge = '9'.repeat(4_000_000);
    expect(() => parseRecord(`"k" : { "n" : ${huge} }`, { maxLineLength: 5e6 })).toThrow(
      'an integer of 4000000 digits is larger than 64 bytes',
    );
    expect(parseValue(`{ "n" : ${1n << 1000n} }`, { maxIntBytes: 200 })).toEqual(
      new Map([['n', 1n << 1000n]]),
    );
  });

  it('accepts the tolerant styles: Python dicts, arrows, typographic quotes, bare keys', () => {
    const canonical = '"k" : { "a" : 1 ; "b" : "x" ; "c" : {} }';
    for (const text of [
      "'k':{'a': 1, 'b': 'x', 'c': {}}",
      '"k" -> [ "a" -> 1 | "b" -> "x" | "c" -> [] ]',
      '“k” : { ‘a’ : 1 ; “b” : "x" ; "c" : {} }',
      'k : { a : 1 ; b : "x" ; c : {} }',
      '\t"k":{"a":1,"b":"x","c":{},}  ',
      '\u00a0"k"\u3000:\u2003{ "a" : 1 ; "b" : "x" ; "c" : {} }',
    ]) {
      expect(formatRecord(parseRecord(text))).toBe(canonical);
    }
  });

  it('decodes JSON escapes and any Unicode', () => {
    const rec = parseRecord(
      '"k" : { "s" : "a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00日本" ; "q" : \'it\\\'s\' }',
    );
    expect(doc(rec.value).get('s')).toBe('a"b\\c\né😀日本');
    expect(doc(rec.value).get('q')).toBe("it's");
  });

  it.each([
    [
      '"p" : { "a" : 1 "b" : 2 }',
      SyntaxParseError,
      'SYNTAX',
      "line 1, col 17: expected '}' or ';'",
    ],
    [
      '"p" -> [ "a" -> 1 "b" -> 2 ]',
      SyntaxParseError,
      'SYNTAX',
      "line 1, col 19: expected ']' or '|'",
    ],
    ['"p" : ', SyntaxParseError, 'SYNTAX', "line 1, col 7: expected the record's value"],
    ['"p" { }', SyntaxParseError, 'SYNTAX', "line 1, col 5: expected ':' (or '->')"],
    ['"p" : { "a" : }', SyntaxParseError, 'SYNTAX', 'line 1, col 15: expected a value'],
    ['"p" : { "a" : [ 1 ; 2 }', SyntaxParseError, 'SYNTAX', "line 1, col 23: expected ']' or ';'"],
    ['"p" : { "a" : 1.5.3 }', SyntaxParseError, 'SYNTAX', 'col 18: expected the end of the number'],
    ['"p" : { "a" : b"\\q" }', SyntaxParseError, 'SYNTAX', 'col 17: invalid escape in bytes'],
    ['"p" : { "a" : b"ab }', SyntaxParseError, 'SYNTAX', 'col 15: unterminated bytes'],
    [
      '"p" : { "a" : 1 ; "a" : 2 }',
      DuplicateKeyError,
      'DUPLICATE_KEY',
      'col 19: duplicate key "a"',
    ],
    ['"p" : { "a" : "x }', SyntaxParseError, 'SYNTAX', 'line 1, col 15: unterminated string'],
    [
      '"p" : { "a" : 1. }',
      SyntaxParseError,
      'SYNTAX',
      'line 1, col 17: expected a digit after the decimal point',
    ],
    [
      '"p" : { "a" : 1e }',
      SyntaxParseError,
      'SYNTAX',
      'line 1, col 17: expected a digit in the exponent',
    ],
    ['"p" : { "a" : - }', SyntaxParseError, 'SYNTAX', 'line 1, col 16: expected a digit'],
    ['"p" : { "a" : "\\q" }', SyntaxParseError, 'SYNTAX', 'line 1, col 16: invalid escape'],
    [
      '"p" : { "a" : "\\u12" }',
      SyntaxParseError,
      'SYNTAX',
      'line 1, col 18: expected 4 hex digits',
    ],
    [
      '"p" : { "a" : 1 } x',
      SyntaxParseError,
      'SYNTAX',
      "line 1, col 19: expected end of line after the record's value",
    ],
    ['"p" : { "a" : 1 }}', SyntaxParseError, 'SYNTAX', 'line 1, col 18: expected end of line'],
    [
      '"p" : { : 1 }',
      SyntaxParseError,
      'SYNTAX',
      "line 1, col 9: expected a key or '}' (a quoted string)",
    ],
    ['"😀" : { "a" : 1 ]', SyntaxParseError, 'SYNTAX', "line 1, col 17: expected '}' or ';'"],
    ['"p" : { "a" : 1e999 }', SyntaxParseError, 'SYNTAX', 'float out of range'],
  ])('rejects %s', (text, type, code, message) => {
    const error = errorOf(() => parseRecord(text, { duplicateKeys: 'error' }));
    expect(error).toBeInstanceOf(type);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  it('reads any value as a record: lists, bare strings, booleans, null, bytes, scalars', () => {
    const cases: [string, string][] = [
      [
        'person1: { key0: { profession : kshd } }',
        '"person1" : { "key0" : { "profession" : "kshd" } }',
      ],
      [
        '"p" : { city : 1QP ; x : hello-world ; t : 12:30 }',
        '"p" : { "city" : "1QP" ; "x" : "hello-world" ; "t" : "12:30" }',
      ],
      [
        '"p" : { "_contents" : [ { "_level" : 15 } ; { "_level" : 3 } ] }',
        '"p" : { "_contents" : [ { "_level" : 15 } ; { "_level" : 3 } ] }',
      ],
      [
        '"p" : { "l" : [1, 2.5, "a", [], [true, false, null]] }',
        '"p" : { "l" : [ 1 ; 2.5 ; "a" ; [] ; [ true ; false ; null ] ] }',
      ],
      [
        '"p" : { "l" : [ 1 | 2 ] ; "e" : [] ; "d" : [ a : 1 ] }',
        '"p" : { "l" : [ 1 ; 2 ] ; "e" : [] ; "d" : { "a" : 1 } }',
      ],
      ['"p" -> [ "l" -> [ 1 | 2 ] | "e" -> [] ]', '"p" : { "l" : [ 1 ; 2 ] ; "e" : {} }'],
      ['"s" : "hello"', '"s" : "hello"'],
      ['"n" : 12', '"n" : 12'],
      ['"t" : true', '"t" : true'],
      ['"z" : null', '"z" : null'],
      ['"l" : [ 1 ; "x" ]', '"l" : [ 1 ; "x" ]'],
      ['"b" : b"\\xff\\x00ok\\n"', '"b" : b"\\xff\\x00ok\\x0a"'],
      ['"u" : b"caf\\xc3\\xa9"', '"u" : "café"'],
    ];
    for (const [text, canonical] of cases) expect(formatRecord(parseRecord(text))).toBe(canonical);
    expect(parseValue('b"\\x00\\xffa"')).toEqual(Uint8Array.from([0, 255, 97]));
    expect(parseValue('[]')).toEqual([]);
    expect(kindOf(parseValue('true'))).toBe('boolean');
    expect(kindOf(parseValue('null'))).toBe('null');
    expect(kindOf(parseValue('b"\\xff"'))).toBe('bytes');
  });

  it("keeps the last of a repeated key (at the first one's place), and says so", () => {
    const seen: string[] = [];
    const rec = parseRecord('"p" : { "a" : 1 ; "b" : 2 ; "a" : 3 }', {
      onDuplicateKey: (key, at) => seen.push(`${key}@${at.column}`),
    });
    expect(formatRecord(rec)).toBe('"p" : { "a" : 3 ; "b" : 2 }');
    expect(seen).toEqual(['a@29']);
  });

  it('writes the arrow style when asked', () => {
    const rec = parseRecord('"p" : { "a" : 1 ; "l" : [ 1 ; { "x" : "y" } ] ; "d" : {} }');
    const arrow = formatRecord(rec, { style: 'arrow' });
    expect(arrow).toBe('"p" -> [ "a" -> 1 | "l" -> [ 1 | [ "x" -> "y" ] ] | "d" -> [] ]');
    expect(formatRecord(parseRecord(arrow))).toBe(formatRecord(rec));
  });

  it('reports the line number it is given', () => {
    const error = errorOf(() => parseRecord('"p" : { "a" }', { line: 12 }));
    expect(error.message).toBe("line 12, col 13: expected ':' (or '->')");
    expect([error.line, error.column]).toEqual([12, 13]);
  });

  it('enforces maxDepth and maxLineLength', () => {
    const deep = (n: number): string => '{ "a" : '.repeat(n - 1) + '{}' + ' }'.repeat(n - 1);
    expect(() => parseRecord(`"p" : ${deep(3)}`, { maxDepth: 3 })).not.toThrow();
    const tooDeep = errorOf(() => parseRecord(`"p" : ${deep(4)}`, { maxDepth: 3 }));
    expect(tooDeep).toBeInstanceOf(TooDeepError);
    expect(tooDeep.code).toBe('TOO_DEEP');
    const long = errorOf(() =>
      parseRecord(`"p" : { "a" : "${'x'.repeat(50)}" }`, { maxLineLength: 40 }),
    );
    expect(long).toBeInstanceOf(LineTooLongError);
    expect(long.code).toBe('LINE_TOO_LONG');
    // The default depth limit stops pathological nesting without a stack overflow.
    expect(errorOf(() => parseRecord(`"p" : ${'{ "a" : '.repeat(100000)}`)).code).toBe('TOO_DEEP');
  });

  it('rejects a non-string argument with a TypeError', () => {
    expect(() => parseRecord(5 as unknown as string)).toThrow(TypeError);
  });
});

describe('parseValue and formatValue', () => {
  it('round-trips single values', () => {
    for (const text of [
      '22',
      '-3',
      '17.0',
      '1.75',
      '"John"',
      '{}',
      '{ "a" : { "b" : 1 } }',
      '123456789012345678901234567890',
      '[ 1 ; [] ; { "a" : [ null ] } ]',
      'true',
      'false',
      'null',
      'b"\\xff"',
    ]) {
      expect(formatValue(parseValue(text))).toBe(text);
    }
  });

  it('compares values by kind and content', () => {
    expect(valuesEqual(parseValue('17'), parseValue('17.0'))).toBe(false);
    expect(
      valuesEqual(parseValue('{ "a" : 1 ; "b" : 2 }'), parseValue('{ "b" : 2 ; "a" : 1 }')),
    ).toBe(false);
    expect(valuesEqual(parseValue('{ "a" : 1 }'), parseValue("['a' -> 1]"))).toBe(true);
  });

  it('refuses values that cannot be written', () => {
    expect(() => formatValue(Number.NaN)).toThrow(/only finite numbers/);
    expect(() => formatValue(2 ** 60)).toThrow(/beyond 2\^53/);
    expect(() => formatValue(Symbol('x') as unknown as number)).toThrow(/not a record value/);
  });
});
