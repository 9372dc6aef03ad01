import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** What a finished run of an app printed, and how it exited. */
export interface BinRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the apps (`kv-server`, `kv-broker`, `kv-gen`) as a process, with `stdin` fed to it and
 * NO_COLOR set, and resolves when it has exited.
 */
export function runBin(
  app: 'kv-server' | 'kv-broker' | 'kv-gen',
  args: string[],
  options: { stdin?: string; cwd?: string } = {},
): Promise<BinRun> {
  const bin = join(__dirname, '..', '..', app, 'bin', `${app}.js`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr }));
    // An app that exits before reading all its input is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}
