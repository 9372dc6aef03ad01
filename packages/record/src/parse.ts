import { closingQuote, describeAt, isBareKeyChar, isSpace } from './chars.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_INT_BYTES, DEFAULT_MAX_LINE_LENGTH } from './defaults.js';
import {
  DuplicateKeyError,
  LineTooLongError,
  NotADocumentError,
  SyntaxParseError,
  TooDeepError,
  type ParseError,
} from './errors.js';
import { Float, normalizeInt, type Doc, type KvRecord, type Value } from './value.js';

/** Limits for parsing; every field is optional. */
export interface ParseOptions {
  /** Deepest document nesting accepted (the record's own document is depth 1). @default 64 */
  maxDepth?: number;
  /** Longest line accepted, in UTF-16 code units. @default 1048576 */
  maxLineLength?: number;
  /** Line number used in error messages. @default 1 */
  line?: number;
  /**
   * Largest integer accepted, in bytes of its magnitude (64 bytes: 154 decimal digits). A longer one is
   * an error, before it is converted (converting a number of millions of digits takes seconds).
   * @default 64
   */
  maxIntBytes?: number;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const PIPE = 0x7c;
const MINUS = 0x2d;
const GREATER = 0x3e;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/**
 * A recursive-descent parser over one line of text. It reads by char code and slices strings out of the
 * line, so well-formed input allocates little beyond the values themselves.
 */
class Parser {
  pos = 0;

  constructor(
    readonly text: string,
    readonly line: number,
    readonly maxDepth: number,
    readonly maxIntBytes: number = DEFAULT_MAX_INT_BYTES,
  ) {}

  fail(detail: string, at = this.pos): never {
    throw new SyntaxParseError(detail, this.position(at));
  }

  position(at: number): { line: number; column: number } {
    // Columns count code points, so a line with emoji still points at the right character.
    let column = 1;
    for (let i = 0; i < at && i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c < 0xd800 || c > 0xdbff || i + 1 >= at) column++;
    }
    return { line: this.line, column };
  }

  skipSpace(): void {
    const text = this.text;
    let pos = this.pos;
    while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
    this.pos = pos;
  }

  record(): KvRecord {
    this.skipSpace();
    const key = this.key('a record key');
    this.skipSpace();
    this.separator();
    this.skipSpace();
    const c = this.text.charCodeAt(this.pos);
    if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
      const at = this.pos;
      if (at >= this.text.length) this.fail("expected '{' (the record's document)");
      let found = describeAt(this.text, at);
      try {
        const value = this.value(0);
        found = typeof value === 'string' ? 'a string' : 'a number';
      } catch (_error) {
        // Not even a value: report what character was there.
      }
      throw new NotADocumentError(found, this.position(at));
    }
    const value = this.doc(1);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('expected end of line after the document');
    return { key, value };
  }

  /** `:` or `->` between a key and its value. */
  separator(): void {
    const c = this.text.charCodeAt(this.pos);
    if (c === COLON) {
      this.pos++;
      return;
    }
    if (c === MINUS && this.text.charCodeAt(this.pos + 1) === GREATER) {
      this.pos += 2;
      return;
    }
    this.fail("expected ':' (or '->')");
  }

  key(what: string): string {
    const c = this.text.charCodeAt(this.pos);
    const close = closingQuote(c);
    if (close >= 0) return this.string(close);
    const start = this.pos;
    let pos = start;
    while (pos < this.text.length && isBareKeyChar(this.text.charCodeAt(pos))) pos++;
    if (pos === start) this.fail(`expected ${what} (a quoted string)`);
    this.pos = pos;
    return this.text.slice(start, pos);
  }

  doc(depth: number): Doc {
    if (depth > this.maxDepth) throw new TooDeepError(this.maxDepth, this.position(this.pos));
    const open = this.text.charCodeAt(this.pos);
    const close = open === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
    const closeText = open === OPEN_BRACE ? "'}'" : "']'";
    const sepText = open === OPEN_BRACE ? "';'" : "'|'";
    this.pos++;
    const doc: Doc = new Map();
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === close) {
      this.pos++;
      return doc;
    }
    for (;;) {
      const keyAt = this.pos;
      const key = this.key(`a key or ${closeText}`);
      if (doc.has(key)) throw new DuplicateKeyError(key, this.position(keyAt));
      this.skipSpace();
      this.separator();
      this.skipSpace();
      doc.set(key, this.value(depth));
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === close) {
        this.pos++;
        return doc;
      }
      if (c !== SEMICOLON && c !== COMMA && c !== PIPE)
        this.fail(`expected ${closeText} or ${sepText}`);
      this.pos++;
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) === close) {
        // A trailing separator, as Python and hand-edited files have.
        this.pos++;
        return doc;
      }
    }
  }

  value(depth: number): Value {
    const c = this.text.charCodeAt(this.pos);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) return this.doc(depth + 1);
    const close = closingQuote(c);
    if (close >= 0) return this.string(close);
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail('expected a value (a number, a quoted string or a document)');
  }

  number(): Value {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === MINUS) pos++;
    const digitsStart = pos;
    while (pos < text.length && isDigit(text.charCodeAt(pos))) pos++;
    if (pos === digitsStart) this.fail('expected a digit', pos);
    let isFloat = false;
    if (text.charCodeAt(pos) === DOT) {
      isFloat = true;
      pos++;
      const fractionStart = pos;
      while (pos < text.length && isDigit(text.charCodeAt(pos))) pos++;
      if (pos === fractionStart) this.fail('expected a digit after the decimal point', pos);
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      isFloat = true;
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === 0x2b || sign === MINUS) pos++;
      const expStart = pos;
      while (pos < text.length && isDigit(text.charCodeAt(pos))) pos++;
      if (pos === expStart) this.fail('expected a digit in the exponent', pos);
    }
    this.pos = pos;
    const literal = text.slice(start, pos);
    if (isFloat) {
      const n = Number(literal);
      if (!Number.isFinite(n)) this.fail('float out of range', start);
      return Number.isInteger(n) ? new Float(n) : n;
    }
    // Up to 15 digits always fits a double exactly; beyond that, go through BigInt and keep it exact.
    const digits = pos - digitsStart;
    if (digits <= 15) return Number(literal);
    // 8 * log10(2) decimal digits per byte: checked on the digits first, then exactly on the bits.
    const limit = this.maxIntBytes;
    const big = digits <= Math.ceil(limit * 2.41) + 1 ? BigInt(literal) : undefined;
    if (big === undefined || (big < 0n ? -big : big) >= 1n << BigInt(limit * 8))
      this.fail(
        `an integer of ${digits} digits is larger than ${limit} bytes (the maxIntBytes limit)`,
        start,
      );
    return normalizeInt(big);
  }

  string(close: number): string {
    const text = this.text;
    const start = this.pos + 1;
    let pos = start;
    // Fast path: no escapes, slice the contents out.
    for (;;) {
      if (pos >= text.length) this.fail('unterminated string', this.pos);
      const c = text.charCodeAt(pos);
      if (c === close) {
        this.pos = pos + 1;
        return text.slice(start, pos);
      }
      if (c === BACKSLASH) break;
      pos++;
    }
    let out = text.slice(start, pos);
    for (;;) {
      if (pos >= text.length) this.fail('unterminated string', this.pos);
      const c = text.charCodeAt(pos);
      if (c === close) {
        this.pos = pos + 1;
        return out;
      }
      if (c !== BACKSLASH) {
        const runStart = pos;
        while (
          pos < text.length &&
          text.charCodeAt(pos) !== BACKSLASH &&
          text.charCodeAt(pos) !== close
        ) {
          pos++;
        }
        out += text.slice(runStart, pos);
        continue;
      }
      out += this.escape(pos);
      pos += text.charCodeAt(pos + 1) === 0x75 ? 6 : 2;
    }
  }

  /** The character a backslash escape at `at` stands for (JSON escapes, plus \' and the quote itself). */
  escape(at: number): string {
    const c = this.text.charCodeAt(at + 1);
    switch (c) {
      case 0x22:
      case 0x27:
      case 0x5c:
      case 0x2f:
      case 0x201d:
      case 0x2019:
        return String.fromCharCode(c);
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75: {
        const hex = this.text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('expected 4 hex digits after \\u', at + 2);
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        return this.fail(
          'invalid escape (expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
          at,
        );
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function parserFor(text: string, options: ParseOptions | undefined): Parser {
  return new Parser(
    text,
    options?.line ?? 1,
    options?.maxDepth ?? DEFAULT_MAX_DEPTH,
    options?.maxIntBytes ?? DEFAULT_MAX_INT_BYTES,
  );
}

function checkLength(text: string, options: ParseOptions | undefined): void {
  const limit = options?.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  if (text.length > limit) throw new LineTooLongError(limit, options?.line ?? 1);
}

/**
 * Parses one record line, `KEY : DOC`, in any accepted style (`:`/`->`, `;`/`,`/`|`, `{}`/`[]`, double,
 * single or typographic quotes). Throws a `ParseError` saying where and what was expected.
 */
export function parseRecord(text: string, options?: ParseOptions): KvRecord {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  checkLength(text, options);
  return parserFor(text, options).record();
}

/** Parses a single value (a number, a string or a document), with the same rules as `parseRecord`. */
export function parseValue(text: string, options?: ParseOptions): Value {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  checkLength(text, options);
  const parser = parserFor(text, options);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos < text.length) parser.fail('expected end of input after the value');
  return value;
}

/**
 * Reads the quoted string that starts at `at` (any accepted quote style, with escapes); returns it and
 * the index just past the closing quote. Throws a `ParseError` (line 1) when it is not terminated.
 */
export function readQuoted(text: string, at: number): { value: string; end: number } {
  const parser = new Parser(text, 1, DEFAULT_MAX_DEPTH);
  parser.pos = at;
  const close = closingQuote(text.charCodeAt(at));
  if (close < 0) parser.fail('expected a quote');
  const value = parser.string(close);
  return { value, end: parser.pos };
}

export type { ParseError };
