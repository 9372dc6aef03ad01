import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, waitFor, type ServerProcess } from '@triekv/test-utils';

const BIN = join(__dirname, '..', '..', 'kv-broker', 'bin', 'kv-broker.js');
/** util-linux `script` runs the shell on a pseudo-terminal, as a person at a terminal would. */
const hasScript = spawnSync('script', ['--version']).status === 0;
const describeIfScript = hasScript ? describe : describe.skip;
if (!hasScript) console.warn('kv-broker shell tests skipped: `script` (util-linux) is not on PATH');

/** Text without terminal control sequences. */
const plain = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

describeIfScript('the kv-broker shell on a terminal', () => {
  let servers: ServerProcess[] = [];
  let dir: string;

  beforeEach(async () => {
    servers = await Promise.all([0, 1].map(() => startServerProcess()));
    dir = mkdtempSync(join(tmpdir(), 'kv-shell-'));
    writeFileSync(join(dir, 'servers.txt'), servers.map((s) => `127.0.0.1 ${s.port}`).join('\n'));
  });
  afterEach(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints notices above the prompt, keeps the typed line, and exits 0 on Ctrl-D after a failed command', async () => {
    const command = `"${process.execPath}" "${BIN}" -s "${join(dir, 'servers.txt')}" -k 1`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', TRIEKV_HISTORY: join(dir, 'history'), TERM: 'xterm' },
    });
    let screen = '';
    child.stdout.on('data', (c: Buffer) => (screen += c.toString()));
    child.stderr.on('data', (c: Buffer) => (screen += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor(() => plain(screen).includes('triekv> '), 'the prompt');
      child.stdin.write('BOGUS\r');
      await waitFor(() => plain(screen).includes('unknown command "BOGUS"'), 'the error');
      child.stdin.write('GET pers');
      await waitFor(() => plain(screen).endsWith('triekv> GET pers'), 'the typed text');
      const dead = servers[1] as ServerProcess;
      dead.kill('SIGKILL');
      const notice = `server 127.0.0.1:${dead.port} went down`;
      await waitFor(() => plain(screen).includes(notice), 'the notice');
      // The notice stands on a line of its own, and the prompt comes back with what was typed.
      await waitFor(
        () => plain(screen).split(notice)[1]?.includes('triekv> GET pers') === true,
        'the prompt redrawn after the notice',
      );
      // The line being typed was cleared (erase line, column 1) before the notice was printed.
      expect(screen).toContain(`\x1b[2K\x1b[1G${notice}`);
      child.stdin.write('\r');
      await waitFor(() => plain(screen).includes('NOT FOUND'), 'the answer');
      child.stdin.write('\x04');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
