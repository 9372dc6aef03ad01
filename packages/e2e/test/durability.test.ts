import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareVersions, encodeFrame, type Version } from '@triekv/protocol';
import { formatValue, parseValue, type Doc } from '@triekv/record';
import { RawClient, seededRandom, startServerProcess, waitFor } from '@triekv/test-utils';

interface Sent {
  key: string;
  text: string;
  version: Version;
}

/**
 * Sends 3000 pipelined PUTs (700 keys, so most are overwritten by newer versions), SIGKILLs the server
 * once a seeded number of them has been acknowledged, restarts it on the same data directory, and checks
 * that every acknowledged write is there (or a newer one), and that nothing half-written or never sent is.
 */
async function crashAndCheck(
  policy: string,
  seed: number,
  extra: string[] = [],
): Promise<{ acked: number; recovered: number; compacted: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'triekv-crash-'));
  const random = seededRandom(seed); // the kill point of each run comes from its seed
  const killAfter = 50 + Math.floor(random() * 1500);
  const server = await startServerProcess(['--data-dir', dir, '--fsync', policy, ...extra]);
  const client = await RawClient.connect(server.port);
  const sent: Sent[] = Array.from({ length: 3000 }, (_, i) => ({
    key: `k${i % 700}`,
    text: `{ "i" : ${i} ; "s" : "${'x'.repeat(i % 50)}" }`,
    version: [i + 1, 0, 'crash'],
  }));
  const acked = new Map<string, Sent>();
  let ackCount = 0;
  const frames = sent.map((s, i) => {
    void client.expect(i + 1).then(
      (reply) => {
        if (reply.type !== 'OK') return;
        ackCount++;
        const before = acked.get(s.key);
        if (before === undefined || compareVersions(before.version, s.version) < 0)
          acked.set(s.key, s);
      },
      () => undefined, // unanswered when the server dies: not acknowledged
    );
    const value = parseValue(s.text) as Doc;
    // Every third write goes as a one-record PUT_BATCH: bulk loads must be as durable as PUTs.
    return i % 3 === 0
      ? encodeFrame({
          type: 'PUT_BATCH',
          id: i + 1,
          records: [{ key: s.key, value, version: s.version }],
        })
      : encodeFrame({ type: 'PUT', id: i + 1, key: s.key, value, version: s.version });
  });
  for (let i = 0; i < frames.length; i += 100) client.raw(Buffer.concat(frames.slice(i, i + 100)));
  await waitFor(
    () => ackCount >= killAfter || ackCount === sent.length,
    `${killAfter} acknowledgements`,
  );
  server.kill('SIGKILL');
  await server.exited;
  await client.closed;
  // Whether a compaction had committed a snapshot, or left a rotated log behind, before the kill.
  const files = readdirSync(dir);
  const compacted = files.some((f) => f.startsWith('snapshot-') || f === 'log.prev.bin');

  const restarted = await startServerProcess(['--data-dir', dir, '--fsync', policy]);
  const reader = await RawClient.connect(restarted.port);
  const byVersion = new Map(sent.map((s) => [s.version[0], s]));
  let recovered = 0;
  try {
    for (let k = 0; k < 700; k++) {
      const key = `k${k}`;
      const reply = await reader.request({ type: 'GET', key });
      const want = acked.get(key);
      if (reply.type !== 'OK') {
        if (want !== undefined)
          throw new Error(`${key}: acknowledged at ${want.version[0]} but lost`);
        continue;
      }
      recovered++;
      const version = reply.version as Version;
      const written = byVersion.get(version[0]);
      // Whatever is there is exactly one of the writes sent for that key, whole.
      expect(written?.key).toBe(key);
      expect(formatValue(reply.value!)).toBe(written?.text);
      if (want !== undefined)
        expect(compareVersions(version, want.version)).toBeGreaterThanOrEqual(0);
    }
  } finally {
    reader.destroy();
    restarted.kill('SIGKILL');
    await restarted.exited;
  }
  return { acked: acked.size, recovered, compacted };
}

describe('durable servers (--data-dir)', () => {
  let compactedRuns = 0;
  it.each([
    ['batch', 11],
    ['batch', 12],
    ['batch', 13],
    ['always', 14],
    ['always', 15],
  ])(
    'keeps every acknowledged write through kill -9 during background compactions (--fsync %s, seed %d)',
    async (policy, seed) => {
      // A tiny compaction threshold: the kill lands before, during or after one of many compactions.
      const { acked, recovered, compacted } = await crashAndCheck(policy, seed, [
        '--compact-min-bytes',
        '8192',
        '--compact-ratio',
        '1',
      ]);
      expect(acked).toBeGreaterThan(0);
      expect(recovered).toBeGreaterThanOrEqual(acked);
      compactedRuns += compacted ? 1 : 0;
    },
  );

  it('(most of those kills landed after a compaction had started)', () => {
    expect(compactedRuns).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['batch', 1],
    ['batch', 2],
    ['batch', 3],
    ['always', 4],
    ['off', 5],
  ])('keeps every acknowledged write through kill -9 (fsync %s, seed %d)', async (policy, seed) => {
    const { acked, recovered } = await crashAndCheck(policy, seed);
    expect(acked).toBeGreaterThan(0);
    expect(recovered).toBeGreaterThanOrEqual(acked);
  });

  it('starts after its log tail was torn, and warns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-torn-'));
    const server = await startServerProcess(['--data-dir', dir]);
    const client = await RawClient.connect(server.port);
    await client.request({
      type: 'PUT',
      key: 'a',
      value: parseValue('{ "x" : 1 }') as Doc,
      version: [1, 0, 't'],
    });
    server.kill('SIGKILL');
    await server.exited;
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(dir, 'log.bin'), Buffer.from([0, 0, 0, 200, 1, 2])); // half an entry
    const again = await startServerProcess(['--data-dir', dir, '--log-level', 'warn']);
    const reader = await RawClient.connect(again.port);
    expect((await reader.request({ type: 'GET', key: 'a' })).type).toBe('OK');
    // Its stderr is another pipe than the stdout that said it listens: the line may come a moment later.
    await waitFor(
      () => again.stderr().includes('cut a torn log tail: 6 bytes (1 incomplete entry)'),
      'the warning about the torn tail',
    );
    reader.destroy();
    again.kill('SIGKILL');
    await again.exited;
  });

  it('refuses a second server on the same directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-lock-'));
    const first = await startServerProcess(['--data-dir', dir]);
    await expect(startServerProcess(['--data-dir', dir])).rejects.toThrow(
      /is in use by another server \(pid \d+\)/,
    );
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});

describe('a damaged data directory', () => {
  const version = (i: number): Version => [i, 0, 'd'];
  /** A durable server holding 300 records, compacted at least once (a snapshot) and with a log. */
  async function filled(): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-damaged-'));
    const server = await startServerProcess(['--data-dir', dir, '--compact-min-bytes', '4096']);
    const client = await RawClient.connect(server.port);
    for (let i = 0; i < 300; i++)
      await client.request({
        type: 'PUT',
        key: `k${i}`,
        value: parseValue(`{ "i" : ${i} ; "s" : "${'x'.repeat(40)}" }`) as Doc,
        version: version(i + 1),
      });
    client.destroy();
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    return dir;
  }
  const manifest = (dir: string): { snapshot: { file: string } } =>
    JSON.parse(readFileSync(join(dir, 'MANIFEST'), 'utf8')) as { snapshot: { file: string } };
  const refused = async (dir: string, reason: string): Promise<void> => {
    const error = await startServerProcess(['--data-dir', dir]).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('refusing to start without part of the data');
    expect((error as Error).message).toContain(reason);
    expect((error as Error).message).toContain('start with --recover');
  };
  const keys = async (args: string[]): Promise<{ keys: number; stderr: string }> => {
    const server = await startServerProcess(args);
    const client = await RawClient.connect(server.port);
    const reply = await client.request({ type: 'STATS' });
    client.destroy();
    server.kill('SIGKILL');
    await server.exited;
    return {
      keys: (reply as unknown as { stats: { keys: number } }).stats.keys,
      stderr: server.stderr(),
    };
  };

  it('refuses to start without its snapshot, and --recover starts from the log, loudly', async () => {
    const dir = await filled();
    const { file } = manifest(dir).snapshot;
    rmSync(join(dir, file));
    await refused(dir, `the snapshot ${file} is missing`);
    const recovered = await keys(['--data-dir', dir, '--recover', '--log-level', 'warn']);
    expect(recovered.keys).toBeLessThan(300);
    expect(recovered.stderr).toMatch(/--recover: started from what is there \(\d+ keys/);
  });

  it('refuses to start when the log is gone or cut short next to a snapshot', async () => {
    const dir = await filled();
    rmSync(join(dir, 'log.bin'));
    await refused(dir, 'log.bin is missing');
    const other = await filled();
    truncateSync(join(other, 'log.bin'), 3);
    await refused(other, 'log.bin is cut to 3 bytes (shorter than its header)');
  });

  it('reports a flipped byte in the last complete entry as corruption, not a torn tail', async () => {
    const dir = await filled();
    const log = join(dir, 'log.bin');
    const bytes = readFileSync(log);
    expect(bytes.length).toBeGreaterThan(100);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x55;
    writeFileSync(log, bytes);
    await refused(dir, 'checksum mismatch in a complete entry');
    // Nothing was changed by the refused start: the same refusal, the same bytes.
    expect(readFileSync(log).equals(bytes)).toBe(true);
    const recovered = await keys(['--data-dir', dir, '--recover', '--log-level', 'warn']);
    expect(recovered.keys).toBe(299);
  });

  it('removes leftover temporary files, and opens a directory from before manifests', async () => {
    const dir = await filled();
    writeFileSync(join(dir, 'snapshot-99.bin.tmp'), 'half a snapshot');
    const { file } = manifest(dir).snapshot;
    // A directory as the previous release left it: snapshot.bin, log.bin, no manifest.
    renameSync(join(dir, file), join(dir, 'snapshot.bin'));
    rmSync(join(dir, 'MANIFEST'));
    const opened = await keys(['--data-dir', dir, '--log-level', 'warn']);
    expect(opened.keys).toBe(300);
    expect(opened.stderr).toContain('removed leftovers of an interrupted write');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(manifest(dir).snapshot.file).toBe('snapshot.bin');
  });
});
