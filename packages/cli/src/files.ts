import { readFileSync } from 'node:fs';

/**
 * The bytes of the file a flag names (a certificate, a key), or an error that names the flag and the
 * file: `cannot read --tls-cert ./server.crt: no such file`.
 */
export function readFlagFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (error as Error).message;
    throw new Error(`cannot read ${flag} ${file}: ${why}`, { cause: error });
  }
}
