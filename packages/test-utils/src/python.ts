import { spawn, spawnSync } from 'node:child_process';

/** The Python the tests use: Debian's, where `python3-redis` installs redis-py. */
export const PYTHON = '/usr/bin/python3';

/** Whether `PYTHON` can import redis-py (Debian package python3-redis). */
export function hasRedisPy(): boolean {
  return spawnSync(PYTHON, ['-c', 'import redis']).status === 0;
}

/**
 * Runs a Python script with `args` and resolves with what it printed. Asynchronous, so that a server
 * in the test's own process goes on answering while it runs.
 */
export function runPython(
  script: string,
  args: string[],
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, ['-c', script, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', () => resolve({ stdout, stderr }));
  });
}
