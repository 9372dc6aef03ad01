import { CommandError, parseCommand } from '@triekv/broker';

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
    ['GET', 'GET needs a key'],
    ['GET a.b', 'GET takes one top-level key; use QUERY for a path inside a record'],
    ['STATUS now', 'STATUS takes no arguments'],
    ['COMPUTE x WHERE x = GET a', 'expected "name = QUERY path" in WHERE, found "x = GET a"'],
    ['COMPUTE x WHERE x = QUERY a AND x = QUERY b', 'variable x is bound twice'],
  ])('rejects %j', (line, message) => {
    expect(() => parseCommand(line)).toThrow(message);
  });

  it('reports record and path errors with their positions', () => {
    expect(() => parseCommand('PUT "k" : { "a" : }')).toThrow('col 19: expected a value');
    expect(() => parseCommand('QUERY a..b')).toThrow('col 9: expected a key (empty segment)');
    expect(() => parseCommand('COMPUTE 2 +')).toThrow('col 12: expected a number');
    expect(() => parseCommand('FETCH')).toThrow(CommandError);
  });
});
