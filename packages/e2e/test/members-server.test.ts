import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Membership, OkReply, Reply, Version } from '@triekv/protocol';
import { parseValue, type Doc } from '@triekv/record';
import { RawClient, startServer } from '@triekv/test-utils';

const v = (wall: number, node = 'b1'): Version => [wall, 0, node];
const ok = (reply: Reply): OkReply => {
  if (reply.type !== 'OK') throw new Error(`expected OK, got ${JSON.stringify(reply)}`);
  return reply;
};
const record = (wall: number, names: string[], previous?: string[]): Membership => ({
  version: v(wall),
  members: names.map((name, i) => ({ name, host: '127.0.0.1', port: 7000 + i })),
  ...(previous === undefined
    ? {}
    : { previous: previous.map((name, i) => ({ name, host: '127.0.0.1', port: 7000 + i })) }),
  change: `test ${wall}`,
});

describe('the membership record and EVICT on a server', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest membership record, answers MEMBERS with it only when it is newer than known', async () => {
    const { server, port } = await startServer();
    const c = await RawClient.connect(port);
    try {
      expect(ok(await c.request({ type: 'MEMBERS' })).members).toBeUndefined();
      const first = record(1000, ['a', 'b', 'c']);
      expect(ok(await c.request({ type: 'MEMBERS_SET', members: first }))).toMatchObject({
        applied: true,
        version: first.version,
      });
      expect(ok(await c.request({ type: 'MEMBERS' })).members).toEqual(first);
      // Known already: only the version comes back.
      const known = ok(await c.request({ type: 'MEMBERS', known: first.version }));
      expect(known.members).toBeUndefined();
      expect(known.version).toEqual(first.version);
      // An older record is refused, answered with the one kept (the newer wins).
      const older = record(999, ['a']);
      const refused = ok(await c.request({ type: 'MEMBERS_SET', members: older }));
      expect(refused.applied).toBe(false);
      expect(refused.members).toEqual(first);
      const moving = record(2000, ['a', 'b', 'c', 'd'], ['a', 'b', 'c']);
      ok(await c.request({ type: 'MEMBERS_SET', members: moving }));
      expect(ok(await c.request({ type: 'MEMBERS', known: first.version })).members).toEqual(
        moving,
      );
      // A record that names a server twice is refused with the reason.
      const twice = record(3000, ['a', 'a']);
      const bad = await c.request({ type: 'MEMBERS_SET', members: twice });
      expect(bad).toMatchObject({ type: 'ERROR', code: 'BAD_MESSAGE' });
      expect(bad.type === 'ERROR' && bad.message).toMatch(/the name "a" is there twice/);
    } finally {
      c.destroy();
      await server.close();
    }
  });

  it('EVICT removes a record or tombstone at or below a version and leaves no tombstone', async () => {
    const { server, port } = await startServer();
    const c = await RawClient.connect(port);
    try {
      const value = parseValue('{ "a" : 1 }') as Doc;
      ok(await c.request({ type: 'PUT', key: 'k', value, version: v(10) }));
      // A newer record stays.
      expect(ok(await c.request({ type: 'EVICT', key: 'k', version: v(9) })).applied).toBe(false);
      expect((await c.request({ type: 'GET', key: 'k' })).type).toBe('OK');
      expect(ok(await c.request({ type: 'EVICT', key: 'k', version: v(10) })).applied).toBe(true);
      // Gone with no version: nothing here says the key ever existed.
      const miss = await c.request({ type: 'GET', key: 'k' });
      expect(miss.type).toBe('NOT_FOUND');
      expect(miss).not.toHaveProperty('version');
      // A delete of a key that is not there answers NOT_FOUND, and leaves a tombstone.
      expect((await c.request({ type: 'DELETE', key: 't', version: v(5) })).type).toBe('NOT_FOUND');
      expect(ok(await c.request({ type: 'EVICT', key: 't', version: v(6) })).applied).toBe(true);
      expect(ok(await c.request({ type: 'EXPORT', limit: 10 })).entries).toEqual([]);
      expect(ok(await c.request({ type: 'EVICT', key: 'never', version: v(6) })).applied).toBe(
        false,
      );
    } finally {
      c.destroy();
      await server.close();
    }
  });

  it('keeps the membership record and evictions in its data directory across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-members-'));
    dirs.push(dir);
    const moving = record(2000, ['a', 'b', 'c', 'd'], ['a', 'b', 'c']);
    {
      const { server, port } = await startServer({ dataDir: dir });
      const c = await RawClient.connect(port);
      const value = parseValue('{ "a" : 1 }') as Doc;
      ok(await c.request({ type: 'PUT', key: 'gone', value, version: v(10) }));
      ok(await c.request({ type: 'PUT', key: 'kept', value, version: v(10) }));
      ok(await c.request({ type: 'EVICT', key: 'gone', version: v(10) }));
      ok(await c.request({ type: 'MEMBERS_SET', members: moving }));
      c.destroy();
      await server.close();
    }
    const { server, port } = await startServer({ dataDir: dir });
    const c = await RawClient.connect(port);
    try {
      expect(ok(await c.request({ type: 'MEMBERS' })).members).toEqual(moving);
      expect((await c.request({ type: 'GET', key: 'gone' })).type).toBe('NOT_FOUND');
      expect((await c.request({ type: 'GET', key: 'kept' })).type).toBe('OK');
    } finally {
      c.destroy();
      await server.close();
    }
  });

  it('ignores a damaged membership file with a warning and starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-members-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'members.bin'), 'not a frame');
    const { server, port } = await startServer({ dataDir: dir });
    const c = await RawClient.connect(port);
    try {
      expect(ok(await c.request({ type: 'MEMBERS' })).members).toBeUndefined();
    } finally {
      c.destroy();
      await server.close();
    }
  });
});
