import {
  PathError,
  formatDisplay,
  formatPath,
  parsePath,
  parseValue,
  valueAt,
  float,
} from '@triekv/record';

describe('paths', () => {
  it('splits dotted paths and honours quoted segments', () => {
    expect(parsePath('person2.address.number')).toEqual(['person2', 'address', 'number']);
    expect(parsePath('person2."a.b".c')).toEqual(['person2', 'a.b', 'c']);
    expect(parsePath(" person2.'it\\'s'.“x y” ")).toEqual(['person2', "it's", 'x y']);
    expect(parsePath('"a\\"b"')).toEqual(['a"b']);
  });

  it('quotes only the segments that need it', () => {
    expect(formatPath(['person2', 'address', 'number'])).toBe('person2.address.number');
    expect(formatPath(['person2', 'a.b', 'x y', 'q"t', ''])).toBe('person2."a.b"."x y"."q\\"t".""');
    for (const path of [['a.b', 'c'], ['日本', 'é'], ['', 'x'], ["it's"]]) {
      expect(parsePath(formatPath(path))).toEqual(path);
    }
  });

  it.each([
    ['', 'col 1: expected a key'],
    ['a..b', 'col 3: expected a key (empty segment)'],
    ['a.', 'col 3: expected a key after the dot'],
    ['a."b', 'col 3: unterminated string'],
    ['a."b"c', "col 6: expected '.', '[' or end of path"],
    ['a.b c', 'col 3: a key with spaces must be quoted'],
  ])('rejects %j', (text, message) => {
    expect(() => parsePath(text)).toThrow(PathError);
    expect(() => parsePath(text)).toThrow(message);
  });

  it('formats the display form of GET and QUERY', () => {
    const doc = parseValue('{ "name" : "John" ; "age" : 22 ; "address" : { "number" : 12 } }');
    expect(formatDisplay(['person1'], doc)).toBe(
      'person1 : { "name" : "John" ; "age" : 22 ; "address" : { "number" : 12 } }',
    );
    expect(
      formatDisplay(['person2', 'address', 'number'], valueAt(doc, ['address', 'number'])!),
    ).toBe('person2.address.number : 12');
    expect(formatDisplay(['p', 'h'], float(17))).toBe('p.h : 17.0');
    expect(valueAt(doc, ['name', 'x'])).toBeUndefined();
    expect(valueAt(doc, ['missing'])).toBeUndefined();
  });
});
