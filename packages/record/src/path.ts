import { closingQuote, isSpace } from './chars.js';
import { ParseError, RecordError } from './errors.js';
import { readQuoted } from './parse.js';
import type { Path } from './value.js';

/** A path that cannot be parsed. Code `BAD_PATH`; `column` is 1-based. */
export class PathError extends RecordError {
  constructor(
    detail: string,
    readonly column: number,
  ) {
    super(`col ${column}: ${detail}`, 'BAD_PATH');
    this.name = 'PathError';
  }
}

/** Whether a path segment must be quoted: empty, or holding a dot, whitespace, a quote or a backslash. */
function needsQuotes(segment: string): boolean {
  if (segment.length === 0) return true;
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x2e || c === 0x5c || c < 0x20 || isSpace(c) || closingQuote(c) >= 0) return true;
    if (c === 0x201d || c === 0x2019) return true;
  }
  return false;
}

/** A path as text: segments joined by dots, each quoted (JSON style) only where it has to be. */
export function formatPath(path: Path): string {
  if (path.length === 0) throw new TypeError('path must have at least one segment');
  return path.map((s) => (needsQuotes(s) ? JSON.stringify(s) : s)).join('.');
}

/**
 * Parses `person2.address.number` or `person2."a.b".c` into its segments. Quoted segments take double,
 * single or typographic quotes and JSON escapes. Surrounding whitespace is ignored.
 */
export function parsePath(text: string): Path {
  if (typeof text !== 'string') throw new TypeError('path must be a string');
  const path: Path = [];
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  let end = text.length;
  while (end > i && isSpace(text.charCodeAt(end - 1))) end--;
  if (i === end) throw new PathError('expected a key', i + 1);
  for (;;) {
    if (closingQuote(text.charCodeAt(i)) >= 0) {
      try {
        const quoted = readQuoted(text.slice(0, end), i);
        path.push(quoted.value);
        i = quoted.end;
      } catch (cause) {
        if (cause instanceof ParseError) throw new PathError(cause.detail, cause.column);
        throw cause;
      }
    } else {
      const start = i;
      while (i < end && text.charCodeAt(i) !== 0x2e) i++;
      if (i === start) throw new PathError('expected a key (empty segment)', start + 1);
      const segment = text.slice(start, i);
      if (/\s/.test(segment)) throw new PathError('a key with spaces must be quoted', start + 1);
      path.push(segment);
    }
    if (i >= end) return path;
    if (text.charCodeAt(i) !== 0x2e) throw new PathError("expected '.' or end of path", i + 1);
    i++;
    if (i >= end) throw new PathError('expected a key after the dot', i + 1);
  }
}
