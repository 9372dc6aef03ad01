import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  OutputError,
  generateLines,
  writeDataset,
  writeDatasetFile,
  type KeySpec,
} from '@triekv/datagen';

const keys: KeySpec[] = [
  { name: 'name', type: 'string' },
  { name: 'age', type: 'int' },
];
const options = { keys, lines: 5000, maxDepth: 2, maxKeys: 2, maxLength: 6, seed: 'w' };

describe('writing data sets', () => {
  it('streams exactly the generated lines, honouring backpressure', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    const chunks: Buffer[] = [];
    let paused = 0;
    out.on('data', (c: Buffer) => {
      chunks.push(c);
      // A slow reader: pause now and then so the writer must wait for 'drain'.
      if (chunks.length % 3 === 0) {
        out.pause();
        paused++;
        setImmediate(() => out.resume());
      }
    });
    const lines = await writeDataset(options, out);
    out.end();
    await new Promise((resolve) => out.on('end', resolve));
    expect(lines).toBe(5000);
    expect(paused).toBeGreaterThan(0);
    expect(Buffer.concat(chunks).toString()).toBe([...generateLines(options)].join('\n') + '\n');
  });

  it('writes a file atomically and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-gen-'));
    const path = join(dir, 'data.txt');
    await expect(writeDatasetFile(options, path)).resolves.toBe(5000);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(5001);
    expect(readdirSync(dir)).toEqual(['data.txt']);
  });

  it('on abort removes its temporary file and leaves an existing file untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-gen-'));
    const path = join(dir, 'data.txt');
    writeFileSync(path, 'previous contents\n');
    const abort = new AbortController();
    abort.abort(new Error('stop'));
    await expect(
      writeDatasetFile({ ...options, lines: 200000 }, path, { signal: abort.signal }),
    ).rejects.toThrow('stop');
    expect(readdirSync(dir)).toEqual(['data.txt']);
    expect(readFileSync(path, 'utf8')).toBe('previous contents\n');
  });

  it('fails cleanly when the directory does not exist', async () => {
    const path = join(tmpdir(), 'no-such-dir-triekv', 'x.txt');
    // The message names the file asked for, not the temporary file beside it.
    const error = await writeDatasetFile(options, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).message).toBe(
      `cannot write ${path}: its directory does not exist`,
    );
  });
});
