import { CommandError, HELP, parseCommand } from '@triekv/broker';

describe('command parsing', () => {
  it('parses every command, keywords in any case, keys with or without quotes', () => {
    expect(parseCommand('GET person1')).toEqual({ name: 'GET', key: 'person1' });
    expect(parseCommand('get "a b"')).toEqual({ name: 'GET', key: 'a b' });
    expect(parseCommand("Delete 'x.y'")).toEqual({ name: 'DELETE', key: 'x.y' });
    expect(parseCommand('QUERY person2.address."a.b"')).toEqual({
      name: 'QUERY',
      path: ['person2', 'address', 'a.b'],
    });
    expect(parseCommand('SCAN key1 10')).toEqual({ name: 'SCAN', prefix: 'key1', limit: 10 });
    expect(parseCommand('SCAN')).toEqual({ name: 'SCAN', prefix: '', limit: 1000 });
    expect(parseCommand('PUT "k" : { "a" : 1 }')).toMatchObject({
      name: 'PUT',
      record: { key: 'k' },
    });
    expect(parseCommand('status')).toEqual({ name: 'STATUS' });
    expect(parseCommand('QUIT')).toEqual({ name: 'EXIT' });
    const compute = parseCommand('COMPUTE 2*(x+y) where x = QUERY a.b and y = query c.d');
    expect(compute).toMatchObject({
      name: 'COMPUTE',
      bindings: [
        { name: 'x', path: ['a', 'b'] },
        { name: 'y', path: ['c', 'd'] },
      ],
    });
  });

  it.each([
    ['', 'empty command'],
    ['FETCH x', 'unknown command "FETCH" (try HELP)'],
    ['GET', 'col 4: expected a key, found the end of the command'],
    ['GET key1 extra', 'col 10: GET takes one key: expected the end of the command, found "extra"'],
    ['DELETE a.b', 'col 8: DELETE takes a top-level key, not a path inside a record'],
    ['QUERY a.b c', 'col 11: QUERY takes one path: expected the end of the command, found "c"'],
    ['STATUS now', 'col 8: STATUS takes no arguments, found "now"'],
    ['SCAN key -1', 'col 10: SCAN\'s limit must be a whole number >= 1, found "-1"'],
    ['SCAN key abc', 'col 10: SCAN\'s limit must be a whole number >= 1, found "abc"'],
    ['SCAN key 0', 'col 10: SCAN\'s limit must be a whole number >= 1, found "0"'],
    ['SCAN key 1e3', 'col 10: SCAN\'s limit must be a whole number >= 1, found "1e3"'],
    [
      'SCAN a 5 6',
      'col 10: SCAN takes a prefix and a limit: expected the end of the command, found "6"',
    ],
    ['SCAN a.b', 'col 6: SCAN takes a prefix of top-level keys, not a path'],
    ['GET "open', 'col 5: unterminated quoted key'],
    ['COMPUTE x WHERE x = GET a', 'col 21: expected QUERY after "x =", found "GET"'],
    [
      'COMPUTE x WHERE 3 = QUERY a',
      'col 17: expected "name = QUERY path" after WHERE or AND, found "3"',
    ],
    ['COMPUTE x WHERE x = QUERY a AND x = QUERY b', 'col 33: variable x is bound twice'],
    [
      'COMPUTE x/y WHERE x = QUERY a.b, y = QUERY c.d',
      "col 32: expected AND between bindings, found ','",
    ],
    [
      'COMPUTE x WHERE x = QUERY a OR y',
      'col 29: expected AND or the end of the command, found "OR"',
    ],
    ['COMPUTE x WHERE x = QUERY a..b', 'col 29: expected a key (empty segment)'],
    ['COMPUTE x WHERE x = QUERY', 'col 26: expected a path for x, found the end of the command'],
    ['COMPUTE   WHERE x = QUERY a', 'col 11: COMPUTE needs an expression'],
    [
      'COMPUTE 1 + WHERE x = QUERY a',
      "col 12: expected a number, a variable, a function or '(', found end of expression",
    ],
  ])('rejects %j, saying where and what', (line, message) => {
    expect(() => parseCommand(line)).toThrow(message);
  });

  it('HELP says what SCAN takes and how COMPUTE measures angles and logarithms', () => {
    const help = HELP.join('\n');
    expect(help).toContain('SCAN [prefix [limit]]');
    expect(help).toContain('sin cos tan (degrees; kv-broker --angles radians), log (base 10)');
  });

  it('parses GET of a path as a lookup that finds nothing (GET reads only top-level keys)', () => {
    expect(parseCommand('GET person2.name')).toEqual({
      name: 'GET',
      key: 'person2',
      nested: ['person2', 'name'],
    });
    expect(parseCommand('SCAN "" 5')).toEqual({ name: 'SCAN', prefix: '', limit: 5 });
    expect(parseCommand('QUERY person2."a b".c')).toEqual({
      name: 'QUERY',
      path: ['person2', 'a b', 'c'],
    });
  });

  it('reports record and path errors with their positions', () => {
    expect(() => parseCommand('PUT "k" : { "a" : }')).toThrow('col 19: expected a value');
    expect(() => parseCommand('QUERY a..b')).toThrow('col 9: expected a key (empty segment)');
    expect(() => parseCommand('COMPUTE 2 +')).toThrow('col 12: expected a number');
    expect(() => parseCommand('FETCH')).toThrow(CommandError);
  });
});
