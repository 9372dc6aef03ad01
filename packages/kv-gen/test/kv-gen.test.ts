import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRecord } from '@triekv/record';

const bin = join(__dirname, '..', 'bin', 'kv-gen.js');
const keyFile = join(__dirname, '..', '..', '..', 'test-fixtures', 'keyFile.txt');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kvGen(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const base = ['-k', keyFile, '-d', '3', '-m', '5', '-l', '4'];

describe('kv-gen', () => {
  it('writes N parseable records to stdout and nothing to stderr', async () => {
    const run = await kvGen([...base, '-n', '50', '--seed', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(50);
    lines.forEach((line, i) => expect(parseRecord(line).key).toBe(`key${i + 1}`));
  });

  it('is reproducible with --seed, long flag names included', async () => {
    const a = await kvGen([...base, '-n', '30', '--seed', 'abc']);
    const b = await kvGen([
      '--key-file',
      keyFile,
      '--lines',
      '30',
      '--max-depth',
      '3',
      '--max-keys',
      '5',
      '--max-length',
      '4',
      '--seed',
      'abc',
    ]);
    expect(b.stdout).toBe(a.stdout);
  });

  it('writes -o atomically and reports the seed on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv-gen-'));
    const out = join(dir, 'data.txt');
    const run = await kvGen([...base, '-n', '1000', '-o', out, '--seed', '9']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`kv-gen: wrote 1000 records to ${out} (seed 9)\n`);
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(1000);
    expect(readdirSync(dir)).toEqual(['data.txt']);
  });

  it.each([
    [
      ['-n', '-3'],
      "kv-gen: error: option '-n, --lines <n>' argument '-3' is invalid. lines must be a whole number >= 0, got \"-3\"",
    ],
    [['-n', '2.5'], 'argument \'2.5\' is invalid. lines must be a whole number >= 0, got "2.5"'],
    [['-n', '1e20'], 'argument \'1e20\' is invalid. lines must be a whole number >= 0, got "1e20"'],
    [
      ['-n', '5', '-o', '/no/such/dir/x.txt'],
      'kv-gen: error: cannot write /no/such/dir/x.txt: its directory does not exist',
    ],
    [
      ['-n', '5', '-l', '0'],
      "option '-l, --max-length <l>' argument '0' is invalid. max-length must be a whole number >= 1, got \"0\"",
    ],
    [
      ['-n', '5', '-m', '6'],
      'kv-gen: error: -m/--max-keys: maxKeys (6) is larger than the number of keys in the key file (5)',
    ],
    [
      ['-n', '5', '-k', '/no/such/keys.txt'],
      'kv-gen: error: /no/such/keys.txt: cannot read the key file: no such file',
    ],
    [['-n', '5', '--bogus'], "kv-gen: error: unknown option '--bogus'"],
  ])('rejects %j with one clear line on stderr and exit code 2', async (extra, message) => {
    const args = [...base];
    for (let i = 0; i < extra.length; i += 2) {
      const at = args.indexOf(extra[i] as string);
      if (at >= 0 && extra[i + 1] !== undefined) args.splice(at, 2);
    }
    const run = await kvGen([...args, ...extra]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('names the key file line that is malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kv-gen-'));
    const keys = join(dir, 'keys.txt');
    writeFileSync(keys, 'name string\n# ok\nage integer\n');
    const run = await kvGen(['-k', keys, '-n', '1', '-d', '0', '-m', '1', '-l', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `kv-gen: error: ${keys}: line 3: unknown type "integer" for key "age" (expected string, int or float)\n`,
    );
  });

  it('requires its flags, and shows help with an example and the version', async () => {
    const missing = await kvGen(['-k', keyFile, '-n', '3']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '-d, --max-depth <d>' not specified");
    const help = await kvGen(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Example:');
    expect(help.stdout).toContain('--seed <seed>');
    expect((await kvGen(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('stops quietly when the reader closes the pipe', async () => {
    const result = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [bin, ...base, '-n', '10000000'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });
});
