import { closingQuote, isSpace } from './chars.js';
import { ParseError, RecordError } from './errors.js';
import { readQuoted } from './parse.js';
import type { Path, PathSegment } from './value.js';

/** Decimal digits without a leading zero (or `0` itself), within 2^53: an unquoted segment that is an index. */
const INDEX = /^(0|[1-9][0-9]{0,15})$/;

/** The index an unquoted segment stands for, or undefined when it is a key. */
function indexOf(segment: string): number | undefined {
  if (!INDEX.test(segment)) return undefined;
  const n = Number(segment);
  return Number.isSafeInteger(n) ? n : undefined;
}

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

/**
 * Whether a key must be quoted in a path: empty, holding a dot, a bracket, whitespace, a quote or a
 * backslash, or looking like an index (`"0"` is the key; `0` would be the list index).
 */
function needsQuotes(segment: string): boolean {
  if (segment.length === 0 || indexOf(segment) !== undefined) return true;
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c === 0x2e || c === 0x5c || c === 0x5b || c < 0x20 || isSpace(c) || closingQuote(c) >= 0)
      return true;
    if (c === 0x201d || c === 0x2019) return true;
  }
  return false;
}

/**
 * A path as text: keys joined by dots, each quoted (JSON style) only where it has to be, list indexes
 * in brackets: `person2.items[0].name`. The record's key (the first segment) is always a key.
 */
export function formatPath(path: Path): string {
  if (path.length === 0) throw new TypeError('path must have at least one segment');
  let out = '';
  path.forEach((s, i) => {
    if (typeof s === 'number' && i > 0) out += `[${s}]`;
    else {
      const key = String(s);
      if (i > 0) out += '.';
      out +=
        needsQuotes(key) && !(i === 0 && indexOf(key) !== undefined) ? JSON.stringify(key) : key;
    }
  });
  return out;
}

/** Whether a step is a list index. */
export function isIndex(segment: PathSegment): segment is number {
  return typeof segment === 'number';
}

/**
 * Parses `person2.address.number`, `person2."a.b".c` or `person2.items[0].name` (also
 * `person2.items.0.name`) into its segments: keys as strings, list indexes as numbers. An unquoted
 * segment of decimal digits is an index (on a document it finds the key of those digits); a quoted
 * segment is always a key. The first segment, the record's key, is always a string. Quoted segments
 * take double, single or typographic quotes and JSON escapes. Surrounding whitespace is ignored.
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
      while (i < end && text.charCodeAt(i) !== 0x2e && text.charCodeAt(i) !== 0x5b) i++;
      if (i === start) throw new PathError('expected a key (empty segment)', start + 1);
      const segment = text.slice(start, i);
      if (/\s/.test(segment)) throw new PathError('a key with spaces must be quoted', start + 1);
      const index = path.length === 0 ? undefined : indexOf(segment);
      path.push(index ?? segment);
    }
    // Any number of [N] after a segment.
    while (i < end && text.charCodeAt(i) === 0x5b) {
      const close = text.indexOf(']', i);
      const digits = close < 0 ? '' : text.slice(i + 1, close);
      const index = indexOf(digits);
      if (index === undefined)
        throw new PathError("expected a list index (digits) and ']' after '['", i + 2);
      path.push(index);
      i = close + 1;
    }
    if (i >= end) return path;
    if (text.charCodeAt(i) !== 0x2e) throw new PathError("expected '.', '[' or end of path", i + 1);
    i++;
    if (i >= end) throw new PathError('expected a key after the dot', i + 1);
  }
}
