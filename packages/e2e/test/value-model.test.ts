import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '@triekv/broker';
import { formatRecord, parseRecord, parseValue, valuesEqual, type Value } from '@triekv/record';
import type { KvServer } from '@triekv/server';
import { PROTOCOL_VERSION } from '@triekv/protocol';
import { RawClient, runBin, startServer } from '@triekv/test-utils';

const fixtures = join(__dirname, '..', '..', '..', 'test-fixtures', 'records');

/** Every shape of data file a peer writes, loaded through a broker onto real servers and read back. */
describe('the value model end to end', () => {
  let servers: KvServer[] = [];
  let broker: Broker;
  let serverFile: string;

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(async () => (await startServer()).server));
    const dir = mkdtempSync(join(tmpdir(), 'triekv-values-'));
    serverFile = join(dir, 'servers.txt');
    writeFileSync(
      serverFile,
      servers.map((s) => `127.0.0.1 ${(s.address() as { port: number }).port}`).join('\n'),
    );
    broker = new Broker({
      servers: servers.map((s) => ({
        host: '127.0.0.1',
        port: (s.address() as { port: number }).port,
      })),
      k: 2,
    });
    await broker.start();
  });

  afterAll(async () => {
    await broker.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it.each([
    ['bare-strings.txt', 'bare-strings.expected.txt'],
    ['duplicates.txt', 'duplicates.expected.txt'],
    ['lists.txt', 'lists.expected.txt'],
    ['scalars-and-bytes.txt', 'scalars-and-bytes.expected.txt'],
    ['records.jsonl', 'records.expected.txt'],
    ['records-array.json', 'records.expected.txt'],
    ['records-object.json', 'records.expected.txt'],
  ])('loads %s and reads every record back exactly', async (input, expected) => {
    const summary = await broker.load(createReadStream(join(fixtures, input)));
    const want = readFileSync(join(fixtures, expected), 'utf8').trimEnd().split('\n');
    expect(summary).toMatchObject({ records: want.length, rejected: [], underReplicated: 0 });
    for (const line of want) {
      const record = parseRecord(line);
      const got = await broker.get(record.key);
      expect(got.found).toBe(true);
      expect(formatRecord({ key: record.key, value: got.value ?? null })).toBe(line);
    }
  });

  it('reads into lists by index, and keeps the new types through QUERY', async () => {
    await broker.put(
      'doc',
      parseValue('{ "items" : [ { "n" : 1 } ; { "n" : 2 } ] ; "0" : "key zero" ; "ok" : true }'),
    );
    await expect(broker.query('doc.items[1].n')).resolves.toMatchObject({ value: 2 });
    await expect(broker.query('doc.items.0.n')).resolves.toMatchObject({ value: 1 });
    await expect(broker.query('doc.items[2]')).resolves.toMatchObject({ found: false });
    // A quoted segment stays a key: the list has no key "0"; the document has.
    await expect(broker.query('doc.items."0"')).resolves.toMatchObject({ found: false });
    await expect(broker.query('doc."0"')).resolves.toMatchObject({ value: 'key zero' });
    await expect(broker.query('doc.0')).resolves.toMatchObject({ value: 'key zero' });
    await expect(broker.query('doc.ok')).resolves.toMatchObject({ value: true });
    const bytes = Uint8Array.from([0, 255, 1]);
    await broker.put('raw', bytes);
    const raw = await broker.get('raw');
    expect(raw.found && valuesEqual(raw.value as Uint8Array, bytes)).toBe(true);
    await broker.put('nothing', null);
    await expect(broker.get('nothing')).resolves.toMatchObject({ found: true, value: null });
    // A deleted record is gone, not a null value.
    await broker.delete('nothing');
    await expect(broker.get('nothing')).resolves.toMatchObject({ found: false });
  });

  it('kv-broker: --json carries values as JSON, --style arrow prints the arrow style, --strict refuses repeated keys', async () => {
    const json = await runBin('kv-broker', [
      '-s',
      serverFile,
      '-k',
      '2',
      '-i',
      join(fixtures, 'records-array.json'),
      '--json',
      '-c',
      'GET person4',
      '-c',
      'QUERY person1.tags[1]',
      '-c',
      'COMPUTE x+1 WHERE x = QUERY person4.big',
    ]);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n');
    // The JSON text keeps the big int exact: compare the text, not what JSON.parse makes of it.
    expect(lines[0]).toBe(
      '{"ok":true,"command":"GET","found":true,"text":"person4 : { \\"blob\\" : b\\"\\\\x00\\\\xff\\\\xfe\\" ; \\"big\\" : 123456789012345678901234567890 }","value":{"blob":{"$bytes":"AP/+"},"big":123456789012345678901234567890}}',
    );
    expect(JSON.parse(lines[1] as string)).toMatchObject({
      value: 'b',
      text: 'person1.tags[1] : "b"',
    });
    expect(lines[2]).toBe('{"ok":true,"command":"COMPUTE","value":123456789012345678901234567891}');

    const arrow = await runBin('kv-broker', [
      '-s',
      serverFile,
      '-k',
      '2',
      '--style',
      'arrow',
      '-c',
      'GET person1',
    ]);
    expect(arrow.stdout).toBe(
      'person1 -> [ "name" -> "John" | "age" -> 22 | "tags" -> [ "a" | "b" ] | "active" -> true ]\n',
    );

    const strict = await runBin('kv-broker', [
      '-s',
      serverFile,
      '-k',
      '2',
      '--strict',
      '-i',
      join(fixtures, 'duplicates.txt'),
    ]);
    expect(strict.stderr).toMatch(/loaded 1 records .* 2 rejected lines/);
    expect(strict.stderr).toContain('line 1, col 19: duplicate key "a" in one document');
    const lenient = await runBin('kv-broker', [
      '-s',
      serverFile,
      '-k',
      '2',
      '-i',
      join(fixtures, 'duplicates.txt'),
    ]);
    expect(lenient.stderr).toContain(
      'WARNING: 2 repeated keys inside documents: the last of each was kept (lines 1, 2; --strict refuses them)',
    );
  });

  it('kv-broker: COMPUTE takes degrees unless --angles radians', async () => {
    await broker.put('angles', parseValue('{ "x" : 12 ; "y" : "22" }'));
    const args = [
      '-s',
      serverFile,
      '-k',
      '2',
      '-c',
      'COMPUTE cos(x)-tan(2*y+3) WHERE x = QUERY angles.x AND y = QUERY angles.y',
    ];
    const degrees = await runBin('kv-broker', args);
    expect(Number(degrees.stdout)).toBeCloseTo(-0.09422, 5);
    const radians = await runBin('kv-broker', [...args, '--angles', 'radians']);
    expect(Number(radians.stdout)).toBeCloseTo(0.968, 3);
  });

  it('repair copies every kind of value and tombstone to the replicas that miss it', async () => {
    const values = ['[ 1 ; { "a" : [ true ] } ]', 'b"\\x00\\xff"', 'null', '"plain"', '17.0'];
    const ports = servers.map((s) => (s.address() as { port: number }).port);
    // Written to one server only, as a broker that saw the others down would have left them.
    const one = await RawClient.connect(ports[0] as number);
    await one.request({ type: 'HELLO', protocol: PROTOCOL_VERSION });
    const version = broker.clock.tick();
    for (const [i, text] of values.entries())
      await one.request({ type: 'PUT', key: `lone${i}`, value: parseValue(text), version });
    await one.close();
    const summary = await broker.repair();
    expect(summary.copied).toBeGreaterThanOrEqual(values.length);
    for (const port of ports) {
      const c = await RawClient.connect(port);
      await c.request({ type: 'HELLO', protocol: PROTOCOL_VERSION });
      for (const [i, text] of values.entries()) {
        const order = broker.cluster
          .order(`lone${i}`)
          .slice(0, 2)
          .map((x) => x.address.port);
        const reply = await c.request({ type: 'GET', key: `lone${i}` });
        if (order.includes(port)) {
          expect(reply.type).toBe('OK');
          expect(valuesEqual((reply as { value: Value }).value, parseValue(text))).toBe(true);
        }
      }
      await c.close();
    }
  });
});
