import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { formatRecord, readRecordBatches, readRecords, type ReadResult } from '@triekv/record';

const fixtures = join(__dirname, '..', '..', '..', 'test-fixtures', 'records');
const fixture = (name: string): Buffer => readFileSync(join(fixtures, name));

async function collect(
  chunks: Iterable<Uint8Array | string>,
  maxLineLength?: number,
): Promise<ReadResult[]> {
  const out: ReadResult[] = [];
  const options = maxLineLength === undefined ? undefined : { maxLineLength };
  for await (const result of readRecords(Readable.from(chunks, { objectMode: true }), options))
    out.push(result);
  return out;
}

const bytewise = (buffer: Buffer): Buffer[] => [...buffer].map((b) => Buffer.from([b]));
const summary = (results: ReadResult[]): string[] =>
  results.map((r) =>
    'record' in r
      ? `${r.line} ${formatRecord(r.record)}`
      : `${r.line} ${r.error.code} ${r.error.message}`,
  );

describe('readRecords', () => {
  it('reads the canonical fixture back to the same text', async () => {
    const text = fixture('canonical.txt');
    const results = await collect([text]);
    expect(
      results.map((r) => ('record' in r ? formatRecord(r.record) : r.error.message)).join('\n') +
        '\n',
    ).toBe(text.toString('utf8'));
  });

  it.each([
    'canonical.txt',
    'python-style.txt',
    'arrow-style.txt',
    'mixed-style.txt',
    'malformed.txt',
  ])('gives the same results for %s whole and split byte by byte', async (name) => {
    const whole = summary(await collect([fixture(name)]));
    expect(summary(await collect(bytewise(fixture(name))))).toEqual(whole);
  });

  it('reads every accepted style into the same model', async () => {
    const python = summary(await collect([fixture('python-style.txt')]));
    expect(python).toEqual([
      '2 "key1" : { "age" : 3 ; "name" : "x" }',
      '3 "key2" : { "height" : 1.75 ; "address" : { "street" : "Main" ; "level" : 2 } }',
      '4 "key3" : {}',
      '6 "key4" : { "name" : "O\'Brien" ; "level" : -7 }',
    ]);
    const arrow = summary(await collect([fixture('arrow-style.txt')]));
    expect(arrow[1]).toBe(
      '2 "person2" : { "name" : "Mary" ; "address" : { "street" : "Panepistimiou" ; "number" : 12 } }',
    );
    expect(summary(await collect([fixture('mixed-style.txt')]))).toEqual([
      '1 "person1" : { "name" : "John" ; "age" : 22 }',
      '2 "person2" : { "tabs" : 1 ; "commas" : 2 }',
    ]);
  });

  it('reports each bad line with its number and reason, and keeps the good ones', async () => {
    expect(summary(await collect([fixture('malformed.txt')]))).toEqual([
      '1 "ok1" : { "a" : 1 }',
      "2 SYNTAX line 2, col 20: expected '}' or ';'",
      "3 SYNTAX line 3, col 26: expected ']' or ';'",
      '4 SYNTAX line 4, col 21: expected the end of the number',
      '5 "ok5" : { "b" : 2 }',
      '6 SYNTAX line 6, col 18: expected a value (a number, a string, a document or a list), found "}"',
      '7 SYNTAX line 7, col 18: unterminated string',
    ]);
  });

  it('decodes multi-byte UTF-8 split across chunks', async () => {
    const bytes = Buffer.from('"日本" : { "😀" : "é" }\n', 'utf8');
    expect(summary(await collect(bytewise(bytes)))).toEqual(['1 "日本" : { "😀" : "é" }']);
  });

  it('drops an over-long line without buffering it, reports it, and reads on', async () => {
    const long = `"big" : { "a" : "${'x'.repeat(500)}" }\n`;
    const chunks = ['"a" : {}\n', ...long.match(/.{1,7}/gs)!, '"b" : {}'];
    expect(summary(await collect(chunks, 100))).toEqual([
      '1 "a" : {}',
      '2 LINE_TOO_LONG line 2, col 101: line longer than 100 characters (the maxLineLength limit)',
      '3 "b" : {}',
    ]);
  });

  it('handles a last line without a newline, and an empty input', async () => {
    expect(summary(await collect(['"a" : {}']))).toEqual(['1 "a" : {}']);
    expect(await collect([])).toEqual([]);
  });
});

describe('readRecordBatches', () => {
  it('yields what readRecords does, a chunk at a time, however the input is split', async () => {
    const text = Buffer.concat([
      fixture('canonical.txt'),
      Buffer.from('bad line\n\n# comment\n"last" : { "x" : 1 }'),
    ]);
    const expected = summary(await collect([text]));
    for (const chunks of [[text], bytewise(text), [text.subarray(0, 100), text.subarray(100)]]) {
      const batches: ReadResult[][] = [];
      for await (const batch of readRecordBatches(Readable.from(chunks, { objectMode: true })))
        batches.push(batch);
      expect(batches.every((b) => b.length > 0)).toBe(true);
      expect(summary(batches.flat())).toEqual(expected);
      // One chunk: its complete lines in one batch, the unterminated last line in another.
      if (chunks.length === 1) expect(batches).toHaveLength(2);
    }
  });

  it.each([
    ['bare-strings.txt', 'bare-strings.expected.txt'],
    ['duplicates.txt', 'duplicates.expected.txt'],
    ['lists.txt', 'lists.expected.txt'],
    ['scalars-and-bytes.txt', 'scalars-and-bytes.expected.txt'],
    ['records.jsonl', 'records.expected.txt'],
    ['records-array.json', 'records.expected.txt'],
    ['records-object.json', 'records.expected.txt'],
  ])('reads %s, byte by byte too, as %s', async (input, expected) => {
    const want = fixture(expected).toString('utf8').trimEnd().split('\n');
    for (const chunks of [[fixture(input)], bytewise(fixture(input))]) {
      const results = await collect(chunks);
      expect(
        results.map((r) => ('record' in r ? formatRecord(r.record) : r.error.message)),
      ).toEqual(want);
    }
  });

  it('counts repeated keys where they are, and refuses them when asked', async () => {
    const seen: string[] = [];
    const options = {
      onDuplicateKey: (key: string, at: { line: number; column: number }) =>
        seen.push(`${key} ${at.line}:${at.column}`),
    };
    for await (const _ of readRecords(Readable.from([fixture('duplicates.txt')]), options));
    expect(seen).toEqual(['a 1:19', 'y 2:37']);
    const strict = [];
    for await (const r of readRecords(Readable.from([fixture('duplicates.txt')]), {
      duplicateKeys: 'error',
    }))
      strict.push('record' in r ? 'ok' : r.error.message);
    expect(strict).toEqual([
      'line 1, col 19: duplicate key "a" in one document',
      'line 2, col 37: duplicate key "y" in one document',
      'ok',
    ]);
    // In JSON, positions are the input's own, across lines.
    const json = '[\n  {"p": {"a": 1,\n         "a": 2}}\n]\n';
    const jsonSeen: string[] = [];
    for await (const _ of readRecords(Readable.from([json]), {
      onDuplicateKey: (key, at) => jsonSeen.push(`${key} ${at.line}:${at.column}`),
    }));
    expect(jsonSeen).toEqual(['a 3:10']);
  });

  it('says where a JSON input is wrong, and reads on', async () => {
    const json = [
      '{"ok1": {"a": 1}}',
      '{"bad": {"a": [1, 2}}',
      'not json',
      '{"ok2": {"b": 2},',
      ' "bad2": {"c": tru e}}',
      '[{"ok3": 3}, 7]',
      '{"open": {',
    ].join('\n');
    expect(summary(await collect([json]))).toEqual([
      '1 "ok1" : { "a" : 1 }',
      "2 SYNTAX line 2, col 20: expected ']' or ';'",
      '3 SYNTAX line 3, col 1: expected a JSON object or array of records, found "n"',
      '4 "ok2" : { "b" : 2 }',
      "5 SYNTAX line 5, col 20: expected '}' or ';'",
      '6 "ok3" : 3',
      '6 SYNTAX line 6, col 14: an element of the array must be an object of records ({"key": value, ...})',
      '7 SYNTAX line 7, col 11: the input ends inside the JSON object opened at line 7',
    ]);
  });

  it('bounds a JSON record by maxLineLength, and takes format: text to read text only', async () => {
    const json = `{"small": 1, "big": "${'x'.repeat(200)}", "after": 2}`;
    expect(summary(await collect([json], 100))).toEqual([
      '1 "small" : 1',
      '1 LINE_TOO_LONG line 1, col 101: line longer than 100 characters (the maxLineLength limit)',
      '1 "after" : 2',
    ]);
    const asText: string[] = [];
    for await (const r of readRecords(Readable.from(['# a comment\n{"a": 1}\n']), {
      format: 'text',
    }))
      asText.push('record' in r ? 'record' : r.error.code);
    expect(asText).toEqual(['SYNTAX']);
    const detected: string[] = [];
    for await (const r of readRecords(Readable.from(['# a comment\n\n  {"a": 1}\n'])))
      detected.push('record' in r ? formatRecord(r.record) : r.error.message);
    expect(detected).toEqual(['"a" : 1']);
  });
});
