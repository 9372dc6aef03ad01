import { readFile } from 'node:fs/promises';
import { ServerFileError } from './errors.js';

/** Where a server listens. */
export interface ServerAddress {
  host: string;
  port: number;
  /**
   * The server's name: what placement hashes, and what messages and results call it. Brokers that
   * reach the same servers by different addresses (through proxies or NAT) must give each server the
   * same name, or they place keys differently. @default `host:port`
   */
  name?: string;
}

/**
 * Parses a server file: one `HOST PORT` per line; blank lines and `#` comments are ignored. Every bad
 * line is reported, not only the first: the error's message has one `line N: ...` per problem.
 */
export function parseServerFile(text: string, file?: string): ServerAddress[] {
  const servers: ServerAddress[] = [];
  const problems: { line: number; detail: string }[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.trim();
    if (content.length === 0 || content.startsWith('#')) return;
    const fields = content.split(/\s+/);
    if (fields.length !== 2) {
      problems.push({ line, detail: `expected "HOST PORT", found ${JSON.stringify(content)}` });
      return;
    }
    const [host, portText] = fields as [string, string];
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      problems.push({
        line,
        detail: `port must be a whole number from 1 to 65535, found ${JSON.stringify(portText)}`,
      });
      return;
    }
    const name = `${host}:${port}`;
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({ line, detail: `${name} already listed on line ${first}` });
      return;
    }
    seen.set(name, line);
    servers.push({ host, port });
  });
  if (problems.length === 1) {
    const { line, detail } = problems[0] as { line: number; detail: string };
    throw new ServerFileError(detail, line, file);
  }
  if (problems.length > 1)
    throw new ServerFileError(
      `${problems.length} bad lines:\n${problems.map((p) => `  line ${p.line}: ${p.detail}`).join('\n')}`,
      undefined,
      file,
      problems,
    );
  if (servers.length === 0) throw new ServerFileError('no servers listed', undefined, file);
  return servers;
}

/** Reads and parses a server file from disk. */
export async function readServerFile(path: string): Promise<ServerAddress[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason =
      (cause as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : (cause as Error).message;
    throw Object.assign(
      new ServerFileError(`cannot read the server file: ${reason}`, undefined, path),
      { cause },
    );
  }
  return parseServerFile(text, path);
}
