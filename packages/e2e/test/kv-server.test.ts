import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROTOCOL_VERSION, encodeFrame } from '@triekv/protocol';
import { parseValue, type Doc } from '@triekv/record';
import { RawClient, startServerProcess, waitFor, type ServerProcess } from '@triekv/test-utils';

const BIN = join(__dirname, '..', '..', 'kv-server', 'bin', 'kv-server.js');

function runOnce(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kv-server', () => {
  const started: ServerProcess[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) {
      s.kill('SIGKILL');
      await s.exited;
    }
  });

  it('prints one "listening on" line, serves, and exits 0 on SIGTERM after answering what it received', async () => {
    const server = await startServerProcess();
    started.push(server);
    expect(server.stdout()).toBe(`listening on 127.0.0.1:${server.port}\n`);
    const client = await RawClient.connect(server.port);
    const value = parseValue('{ "name" : "x" }') as Doc;
    const count = 5000;
    const frames = Buffer.concat(
      Array.from({ length: count }, (_, i) =>
        encodeFrame({ type: 'PUT', id: i + 1, key: `k${i}`, value, version: [1, 0, 't'] }),
      ),
    );
    client.raw(frames);
    // Signal as soon as the server has started answering, while requests are still in flight.
    await waitFor(() => client.replies.length > 0, 'the first reply');
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await client.closed;
    // What the server had received was answered in full before it closed the connection: the replies
    // are OKs for an unbroken run of ids from 1 (how far that run goes depends on what had arrived).
    const ids = client.replies.map((r) => (r instanceof Error ? -1 : r.type === 'OK' ? r.id : -2));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(ids.length).toBeLessThanOrEqual(count);
    started.pop();
  });

  it('stays up after a 48 KB reply followed by 20,000 small requests (the shared-buffer crash)', async () => {
    const server = await startServerProcess();
    started.push(server);
    const client = await RawClient.connect(server.port);
    const version: [number, number, string] = [1, 0, 't'];
    const small = new Map([['v', 1]]) as Doc;
    for (let n = 1; n <= 14; n++)
      await client.request({ type: 'PUT', key: 'k'.repeat(n), value: small, version });
    const big = new Map([['blob', 'x'.repeat(48 * 1024)]]) as Doc;
    await client.request({ type: 'PUT', key: 'big', value: big, version });
    expect(await client.request({ type: 'GET', key: 'big' })).toMatchObject({ value: big });
    // SCAN pages of one key (a reply that ends in a string, its cursor) of varying lengths: with the
    // old encoder one of them ended where the grown buffer did, and the next reply killed the server.
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + ((i * 7 + (i >> 3)) % 13);
      replies.push(
        client.request({ type: 'SCAN', prefix: 'k', limit: 1, after: 'k'.repeat(length - 1) }),
      );
    }
    for (const [i, reply] of (await Promise.all(replies)).entries()) {
      const key = 'k'.repeat(1 + ((i * 7 + (i >> 3)) % 13));
      expect(reply).toEqual({ type: 'OK', id: i + 17, keys: [key], cursor: key });
    }
    expect(await client.request({ type: 'GET', key: 'big' })).toMatchObject({ value: big });
    await client.close();
  });

  it('exits 1 with a clear message when the port is in use', async () => {
    const server = await startServerProcess();
    started.push(server);
    const second = await runOnce(['-p', String(server.port)]);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`kv-server: error: 127.0.0.1:${server.port} is already in use\n`);
    expect(second.stdout).toBe('');
  });

  it('takes the auth token from TRIEKV_AUTH_TOKEN', async () => {
    const server = await startServerProcess([], { ...process.env, TRIEKV_AUTH_TOKEN: 'tok' });
    started.push(server);
    const anon = await RawClient.connect(server.port);
    expect(await anon.request({ type: 'PING' })).toMatchObject({
      type: 'ERROR',
      code: 'AUTH_REQUIRED',
    });
    const authed = await RawClient.connect(server.port);
    expect(
      (await authed.request({ type: 'HELLO', protocol: PROTOCOL_VERSION, token: 'tok' })).type,
    ).toBe('OK');
    authed.destroy();
  });

  it('rejects bad flags with exit code 2, and has help and version', async () => {
    const bad = await runOnce(['-p', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "kv-server: error: option '-p, --port <port>' argument 'x' is invalid",
    );
    const level = await runOnce(['--log-level', 'loud']);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain(
      'Allowed choices are fatal, error, warn, info, debug, trace, silent',
    );
    const help = await runOnce(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--auth-token <token>');
    expect(help.stdout).toContain('Example:');
    expect((await runOnce(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const empty = await runOnce(['--auth-token', '']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe(
      "kv-server: error: option '--auth-token <token>' argument '' is invalid. auth-token must not be empty\n",
    );
  });

  it.each([
    ['/proc/nope', 'cannot create /proc/nope: no such file or directory'],
    ['/etc/hostname', '/etc/hostname is not a directory'],
    ['/etc/hostname/data', 'cannot use /etc/hostname/data: a part of the path is not a directory'],
  ])('exits 1 at once, saying why, for the unusable --data-dir %s', async (dir, reason) => {
    const run = await runOnce(['-p', '0', '--data-dir', dir, '--log-level', 'warn']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`kv-server: error: unusable data directory ${dir}: ${reason}\n`);
    expect(run.stdout).toBe('');
  });

  it.each(['kv-server', 'kv-broker', 'kv-gen'])(
    '%s --help | head -1 prints the usage line and exits 0, with no EPIPE stack',
    async (app) => {
      const bin = join(__dirname, '..', '..', app, 'bin', `${app}.js`);
      const child = spawn('sh', ['-c', `"${process.execPath}" "${bin}" --help | head -1`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      await new Promise((resolve) => child.on('close', resolve));
      expect(stdout).toBe(`Usage: ${app} [options]\n`);
      expect(stderr).toBe('');
    },
  );
});
