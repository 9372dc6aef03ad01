import { Readable } from 'node:stream';
import { Broker, runScript, type CommandResult } from '@triekv/broker';
import type { KvServer } from '@triekv/server';
import { startServer } from '@triekv/test-utils';

/** Lines as a stream gives them: asynchronously. */
const linesOf = (lines: string[]): AsyncIterable<string> => Readable.from(lines);

/** Scripts run many commands at once: results in input order, and one key's commands in order. */
describe('runScript', () => {
  const servers: KvServer[] = [];
  let broker: Broker;

  beforeEach(async () => {
    for (let i = 0; i < 3; i++) servers.push((await startServer()).server);
    broker = new Broker({
      servers: servers.map((s) => ({ host: '127.0.0.1', port: s.address().port })),
      k: 2,
    });
    await broker.start();
  });

  afterEach(async () => {
    await broker.close();
    for (const s of servers.splice(0)) await s.close();
  });

  const run = async (lines: string[], window?: number): Promise<CommandResult[]> => {
    const results: CommandResult[] = [];
    await runScript(
      broker,
      linesOf(lines),
      (r) => {
        results.push(r);
      },
      window === undefined ? {} : { window },
    );
    return results;
  };

  it('hands results on in input order, one per command, whatever order they finish in', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`PUT "k${i}" : { "n" : ${i} }`);
    for (let i = 299; i >= 0; i--) lines.push(`QUERY k${i}.n`);
    const results = await run(lines, 32);
    expect(results).toHaveLength(600);
    expect(results.slice(300).map((r) => r.lines[0])).toEqual(
      Array.from({ length: 300 }, (_, j) => `k${299 - j}.n : ${299 - j}`),
    );
  });

  it("runs one key's commands in order: a read after a write sees it, a read after a delete misses", async () => {
    const lines: string[] = [];
    for (let round = 0; round < 50; round++) {
      lines.push(`PUT "a" : { "v" : ${round} }`, 'QUERY a.v', 'DELETE a', 'GET a');
      lines.push(`PUT "b${round}" : { "v" : 1 }`);
    }
    const results = await run(lines, 64);
    for (let round = 0; round < 50; round++) {
      const [put, query, del, get] = results.slice(round * 5, round * 5 + 4);
      expect(put?.ok).toBe(true);
      expect(query?.lines).toEqual([`a.v : ${round}`]);
      expect(del?.lines).toEqual(['OK']);
      expect(get?.lines).toEqual(['NOT FOUND']);
    }
  });

  it('SCAN waits for every command before it; COMPUTE for the keys it reads; EXIT ends the script', async () => {
    const results = await run([
      ...Array.from(
        { length: 40 },
        (_, i) => `PUT "s${String(i).padStart(2, '0')}" : { "x" : ${i} }`,
      ),
      'SCAN s 100',
      'COMPUTE x + y WHERE x = QUERY s01.x AND y = QUERY s39.x',
      'nonsense here',
      'EXIT',
      'GET s01',
    ]);
    expect(results).toHaveLength(43);
    expect(results[40]?.lines[0]?.split(' ')).toHaveLength(40);
    expect(results[41]?.lines).toEqual(['40']);
    expect(results[42]?.ok).toBe(false);
  });

  it('refuses a window that is not a whole number >= 1', async () => {
    await expect(run(['GET a'], 0)).rejects.toThrow(/window must be a whole number >= 1/);
  });
});
