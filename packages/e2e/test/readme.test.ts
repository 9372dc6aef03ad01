import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  runBin,
  startServerProcess,
  waitFor,
  type BinRun,
  type ServerProcess,
} from '@triekv/test-utils';

const ROOT = join(__dirname, '..', '..', '..');

const runApp = (
  app: 'kv-server' | 'kv-broker' | 'kv-gen',
  args: string[],
  stdin = '',
): Promise<BinRun> => runBin(app, args, { stdin, cwd: ROOT });

/** The words of a shell command line (double-quoted words may hold spaces). */
const words = (line: string): string[] =>
  [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? (m[2] as string));

/** The commands of the README's session block and the lines each one printed. */
function session(readme: string): { command: string; output: string[] }[] {
  const block = /<!-- readme-session -->\s*```text\n([\s\S]*?)```/.exec(readme);
  if (block === null) throw new Error('README.md has no readme-session block');
  const steps: { command: string; output: string[] }[] = [];
  for (const line of (block[1] as string).trimEnd().split('\n')) {
    if (line.startsWith('triekv> ')) steps.push({ command: line.slice(8), output: [] });
    else steps[steps.length - 1]?.output.push(line);
  }
  return steps;
}

describe('the READMEs, run as they are written', () => {
  let servers: ServerProcess[] = [];
  let dir: string;
  let serverFile: string;
  let dataFile: string;

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(() => startServerProcess()));
    dir = mkdtempSync(join(tmpdir(), 'kv-readme-'));
    serverFile = join(dir, 'servers.txt');
    writeFileSync(serverFile, servers.map((s) => `127.0.0.1 ${s.port}`).join('\n'));
    // The data set exactly as the README's kv-gen line makes it (only written elsewhere).
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const gen = readme.split('\n').find((l) => l.startsWith('npx kv-gen '));
    if (gen === undefined) throw new Error('README.md has no "npx kv-gen" line');
    const args = words(gen).slice(2);
    dataFile = join(dir, 'dataToIndex.txt');
    args[args.indexOf('-o') + 1] = dataFile;
    const made = await runApp('kv-gen', args);
    expect(made.code).toBe(0);
  });
  afterAll(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('README.md: the shell session prints what the README shows', async () => {
    const steps = session(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(steps.length).toBeGreaterThan(5);
    const run = await runApp(
      'kv-broker',
      ['-s', serverFile, '-i', dataFile, '-k', '2'],
      steps.map((s) => `${s.command}\n`).join(''),
    );
    expect(run.stderr).toContain('1000 records');
    expect(run.stdout.trimEnd().split('\n')).toEqual(steps.flatMap((s) => s.output));
    expect(run.code).toBe(0);
  });

  it("kv-broker's README: every -c example finds something on that data set", async () => {
    const readme = readFileSync(join(ROOT, 'packages', 'kv-broker', 'README.md'), 'utf8');
    const commands = readme
      .split('\n')
      .filter((l) => l.startsWith('kv-broker ') && l.includes(' -c '))
      .flatMap((l) => {
        const w = words(l);
        return w.flatMap((word, i) => (w[i - 1] === '-c' ? [word] : []));
      });
    expect(commands.length).toBeGreaterThan(0);
    const run = await runApp('kv-broker', [
      '-s',
      serverFile,
      '-k',
      '2',
      ...commands.flatMap((c) => ['-c', c]),
    ]);
    const out = run.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(commands.length);
    for (const line of out) expect(line).not.toMatch(/^(NOT FOUND|ERROR)/);
    expect(run.code).toBe(0);
  });

  it('the demo banner offers only commands that answer on the demo data', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'tools', 'demo', 'dist', 'demo.js')], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const banner = new Promise<string[]>((resolve) =>
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const line = /demo: try {2}(.*)\n/.exec(stderr);
        if (line !== null) resolve((line[1] as string).split(/ {2}\| {2}/));
      }),
    );
    const offered = await banner;
    const queries = offered.filter((c) => /^(GET|QUERY|SCAN|COMPUTE) /.test(c));
    expect(queries.map((c) => c.split(' ')[0])).toEqual(['GET', 'QUERY', 'SCAN', 'COMPUTE']);
    expect(offered).toContain('EXIT');
    child.stdin.end(`${queries.join('\n')}\n`);
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    const answers = stdout.trimEnd().split('\n');
    expect(answers).toHaveLength(queries.length);
    for (const a of answers) expect(a).not.toMatch(/^(NOT FOUND|ERROR|\(none\))/);
  });
});

describe('npm run cluster', () => {
  it('starts N servers with their own pids, notices one that dies, and stops the rest on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv-cluster-'));
    const file = join(dir, 'servers.txt');
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'tools', 'demo', 'dist', 'cluster.js'),
        '-n',
        '2',
        '-p',
        '0',
        '--server-file',
        file,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise((resolve) => child.on('close', resolve));
    try {
      await waitFor(() => stderr.includes('2 servers up'), 'the cluster');
      const members = [...stdout.matchAll(/^127\.0\.0\.1 (\d+) {2}pid (\d+)$/gm)].map((m) => ({
        port: Number(m[1]),
        pid: Number(m[2]),
      }));
      expect(members).toHaveLength(2);
      expect(readFileSync(file, 'utf8')).toBe(members.map((m) => `127.0.0.1 ${m.port}\n`).join(''));
      const [first, second] = members as [
        { port: number; pid: number },
        { port: number; pid: number },
      ];
      // The printed pid is the server's own: killing it stops that server.
      process.kill(first.pid, 'SIGTERM');
      await waitFor(
        () => stderr.includes(`the server on port ${first.port} has exited`),
        'the notice',
      );
      child.kill('SIGINT');
      expect(await closed).toBe(0);
      expect(() => process.kill(second.pid, 0)).toThrow();
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
