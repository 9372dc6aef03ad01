import { readFile } from 'node:fs/promises';
import { KeyFileError } from './errors.js';

/** The value types a key file can name. */
export type KeyType = 'string' | 'int' | 'float';

/** One key file line: a key name and the type of its values. */
export interface KeySpec {
  name: string;
  type: KeyType;
}

const TYPES: readonly string[] = ['string', 'int', 'float'];

/**
 * Parses a key file: one `name type` per line, whitespace-separated; blank lines and `#` comments are
 * ignored. An unknown type, a malformed line or a name given twice is a `KeyFileError` with its line.
 */
export function parseKeyFile(text: string, file?: string): KeySpec[] {
  const specs: KeySpec[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content.length === 0 || content.startsWith('#')) return;
    const fields = content.split(/\s+/);
    if (fields.length !== 2) {
      throw new KeyFileError(
        `expected "name type", found ${fields.length} field(s): ${JSON.stringify(content)}`,
        line,
        file,
      );
    }
    const [name, type] = fields as [string, string];
    if (!TYPES.includes(type)) {
      throw new KeyFileError(
        `unknown type ${JSON.stringify(type)} for key ${JSON.stringify(name)} (expected string, int or float)`,
        line,
        file,
      );
    }
    const first = seen.get(name);
    if (first !== undefined)
      throw new KeyFileError(
        `key ${JSON.stringify(name)} already given on line ${first}`,
        line,
        file,
      );
    seen.set(name, line);
    specs.push({ name, type: type as KeyType });
  });
  return specs;
}

/** Reads and parses a key file from disk; a file that cannot be read is a `KeyFileError` too. */
export async function readKeyFile(path: string): Promise<KeySpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason =
      (cause as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : String((cause as Error).message);
    const error = new KeyFileError(`cannot read the key file: ${reason}`, undefined, path);
    throw Object.assign(error, { cause });
  }
  return parseKeyFile(text, path);
}
