import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyFileError, parseKeyFile, readKeyFile } from '@triekv/datagen';

describe('key files', () => {
  it('reads name/type lines, skipping blanks and comments', () => {
    expect(parseKeyFile('# keys\nname string\n\n  age\tint  \r\nheight   float\n')).toEqual([
      { name: 'name', type: 'string' },
      { name: 'age', type: 'int' },
      { name: 'height', type: 'float' },
    ]);
  });

  it.each([
    [
      'name string\nage integer\n',
      'line 2: unknown type "integer" for key "age" (expected string, int or float)',
    ],
    ['name string\nage\n', 'line 2: expected "name type", found 1 field(s): "age"'],
    ['a int extra\n', 'line 1: expected "name type", found 3 field(s)'],
    ['a int\n\na float\n', 'line 3: key "a" already given on line 1'],
  ])('rejects %j', (text, message) => {
    expect(() => parseKeyFile(text, 'keys.txt')).toThrow(KeyFileError);
    expect(() => parseKeyFile(text, 'keys.txt')).toThrow(`keys.txt: ${message}`);
  });

  it('reads from disk and names a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-keys-'));
    writeFileSync(join(dir, 'k.txt'), 'name string\n');
    await expect(readKeyFile(join(dir, 'k.txt'))).resolves.toEqual([
      { name: 'name', type: 'string' },
    ]);
    await expect(readKeyFile(join(dir, 'missing.txt'))).rejects.toThrow(
      /missing\.txt: cannot read the key file: no such file/,
    );
  });
});
