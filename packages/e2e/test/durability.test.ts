import { mkdtempSync } from 'node:fs';
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
): Promise<{ acked: number; recovered: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'triekv-crash-'));
  const random = seededRandom(seed); // the kill point of each run comes from its seed
  const killAfter = 50 + Math.floor(random() * 1500);
  const server = await startServerProcess(['--data-dir', dir, '--fsync', policy]);
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
  return { acked: acked.size, recovered };
}

describe('durable servers (--data-dir)', () => {
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
    expect(again.stderr()).toContain('cut a torn log tail: 6 bytes (1 incomplete entry)');
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
