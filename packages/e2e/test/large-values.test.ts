import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '@triekv/broker';
import { DEFAULT_MAX_FRAME_SIZE } from '@triekv/protocol';
import {
  runBin,
  startServerProcess,
  waitFor,
  type BinRun,
  type ServerProcess,
} from '@triekv/test-utils';

const kvBroker = (args: string[], stdin: string): Promise<BinRun> =>
  runBin('kv-broker', args, { stdin });

/** A record line whose document holds `size` characters of text, under `inner.text`. */
const line = (key: string, size: number, fill: string): string =>
  `"${key}" : { "n" : ${size} ; "inner" : { "text" : "${fill.repeat(size)}" } }`;

describe('records up to the frame limit, end to end', () => {
  let servers: ServerProcess[] = [];
  let dir: string;

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(() => startServerProcess()));
    dir = mkdtempSync(join(tmpdir(), 'kv-large-'));
    writeFileSync(join(dir, 'servers.txt'), servers.map((s) => `127.0.0.1 ${s.port}`).join('\n'));
  });
  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads, GETs, QUERYs, SCANs, PUTs and REPAIRs records of 1 MB to 15 MB', async () => {
    const MB = 1024 * 1024;
    const sizes: [string, number][] = [
      ['big01', MB],
      ['big04', 4 * MB],
      ['big15', 15 * MB],
    ];
    const data = [
      '"small" : { "a" : 1 }',
      ...sizes.map(([k, n]) => line(k, n, 'x')),
      // Longer than the line limit (the frame limit by default): reported with a hint, not loaded.
      line('huge', DEFAULT_MAX_FRAME_SIZE + 10, 'z'),
    ];
    writeFileSync(join(dir, 'data.txt'), `${data.join('\n')}\n`);
    const commands = [
      'GET small',
      'QUERY big15.n',
      'QUERY big04.inner.text',
      'SCAN big',
      line('put08', 8 * MB, 'p').replace(/^/, 'PUT '),
      'QUERY put08.n',
      'GET huge',
    ];
    const run = await kvBroker(
      ['-s', join(dir, 'servers.txt'), '-i', join(dir, 'data.txt'), '-k', '2'],
      `${commands.join('\n')}\n`,
    );
    expect(run.stderr).toMatch(/loaded 4 records .* 0 under-replicated; 1 rejected lines/);
    expect(run.stderr).toContain(
      `line 5: line longer than ${DEFAULT_MAX_FRAME_SIZE} characters (the maxLineLength limit) (raise --max-line to load it)`,
    );
    const out = run.stdout.split('\n').slice(0, -1);
    expect(out).toHaveLength(7);
    expect(out[0]).toBe('small : { "a" : 1 }');
    expect(out[1]).toBe(`big15.n : ${15 * MB}`);
    expect(out[2]).toBe(`big04.inner.text : "${'x'.repeat(4 * MB)}"`);
    expect(out[3]).toBe('big01 big04 big15');
    expect(out.slice(4)).toEqual(['OK', `put08.n : ${8 * MB}`, 'NOT FOUND']);
    expect(run.code).toBe(0);

    // A server restarted empty gets its share back from REPAIR, large records included.
    const broker = new Broker({
      servers: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
      k: 2,
      autoRepair: false,
    });
    try {
      await broker.start();
      const victim = servers[0] as ServerProcess;
      victim.kill('SIGKILL');
      await victim.exited;
      await waitFor(() => broker.cluster.down().length === 1, 'the server seen down');
      servers[0] = await startServerProcess(['-p', String(victim.port)]);
      const summary = await broker.repair();
      expect(summary.skipped).toEqual([]);
      const should = ['small', 'put08', ...sizes.map(([k]) => k)].filter((k) =>
        broker.cluster.writeTargets(k).some((c) => c.address.port === victim.port),
      );
      expect(summary.copied).toBe(should.length);
      const direct = new Broker({ servers: [{ host: '127.0.0.1', port: victim.port }], k: 1 });
      await direct.start();
      for (const key of should) {
        const got = await direct.get(key);
        expect(got.found).toBe(true);
      }
      await direct.close();
    } finally {
      await broker.close();
    }
  }, 120_000);
});
