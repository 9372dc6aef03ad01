import { closingQuote, describeAt, isBareKeyChar, isSpace } from './chars.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_INT_BYTES, DEFAULT_MAX_LINE_LENGTH } from './defaults.js';
import {
  DuplicateKeyError,
  LineTooLongError,
  SyntaxParseError,
  TooDeepError,
  type ParseError,
  type Position,
} from './errors.js';
import { Float, normalizeInt, type Doc, type KvRecord, type List, type Value } from './value.js';

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
  /**
   * A key repeated inside one document: `last` keeps the last value (at the first one's place, as
   * `JSON.parse` does), `error` refuses the line (`DUPLICATE_KEY`). @default 'last'
   */
  duplicateKeys?: 'last' | 'error';
  /** Called for each repeated key that `duplicateKeys: 'last'` let through. */
  onDuplicateKey?: (key: string, position: Position) => void;
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
const QUOTE = 0x22;
const LOWER_B = 0x62;

/** Characters that end a bare value (besides whitespace): the format's own punctuation. */
function endsBareValue(c: number): boolean {
  return (
    c === OPEN_BRACE ||
    c === CLOSE_BRACE ||
    c === OPEN_BRACKET ||
    c === CLOSE_BRACKET ||
    c === SEMICOLON ||
    c === COMMA ||
    c === PIPE
  );
}

/**
 * A bare value made only of what numbers are made of: read as a number, whose errors (`1.`, `1e`,
 * `1.5.3`) are errors, not strings. Anything else bare (`1QP`, `kshd`) is a string.
 */
const NUMBERISH = /^-?[0-9.][0-9.eE+-]*$|^-$/;

/**
 * A recursive-descent parser over one line of text. It reads by char code and slices strings out of the
 * line, so well-formed input allocates little beyond the values themselves.
 */
class Parser {
  pos = 0;
  /** Set once the record's key is followed by `->`: then `[]` is an empty document, not a list. */
  arrow = false;
  duplicateKeys: 'last' | 'error' = 'last';
  onDuplicateKey: ((key: string, position: Position) => void) | undefined;

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
    this.arrow = this.separator();
    this.skipSpace();
    if (this.pos >= this.text.length) this.fail("expected the record's value (a document { ... })");
    const value = this.value(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail("expected end of line after the record's value");
    return { key, value };
  }

  /** `:` or `->` between a key and its value; whether it was `->`. */
  separator(): boolean {
    const c = this.text.charCodeAt(this.pos);
    if (c === COLON) {
      this.pos++;
      return false;
    }
    if (c === MINUS && this.text.charCodeAt(this.pos + 1) === GREATER) {
      this.pos += 2;
      return true;
    }
    return this.fail("expected ':' (or '->')");
  }

  /** Whether the `[` at `pos` opens a document (`[ KEY : ...` or `[ KEY -> ...`) rather than a list. */
  bracketIsDoc(): boolean {
    const text = this.text;
    let pos = this.pos + 1;
    while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
    const c = text.charCodeAt(pos);
    if (c === CLOSE_BRACKET) return this.arrow;
    const close = closingQuote(c);
    if (close >= 0) {
      // Past the quoted key (escapes skipped); unterminated: a list, whose parse then says so.
      pos++;
      while (pos < text.length && text.charCodeAt(pos) !== close)
        pos += text.charCodeAt(pos) === BACKSLASH ? 2 : 1;
      if (pos >= text.length) return false;
      pos++;
    } else {
      const start = pos;
      while (pos < text.length && isBareKeyChar(text.charCodeAt(pos))) pos++;
      if (pos === start) return false;
    }
    while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
    const after = text.charCodeAt(pos);
    return after === COLON || (after === MINUS && text.charCodeAt(pos + 1) === GREATER);
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
      if (doc.has(key)) {
        if (this.duplicateKeys === 'error') throw new DuplicateKeyError(key, this.position(keyAt));
        this.onDuplicateKey?.(key, this.position(keyAt));
      }
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
    if (c === OPEN_BRACE) return this.doc(depth + 1);
    if (c === OPEN_BRACKET) return this.bracketIsDoc() ? this.doc(depth + 1) : this.list(depth + 1);
    const close = closingQuote(c);
    if (close >= 0) return this.string(close);
    if (c === LOWER_B && this.text.charCodeAt(this.pos + 1) === QUOTE) return this.bytes();
    if (c === MINUS || isDigit(c)) {
      // Most bare values are numbers: read one straight away; a token that goes on past it (`1QP`)
      // or is no number at all (`1ex`) is read again as a bare value.
      const start = this.pos;
      try {
        const n = this.number();
        const next = this.text.charCodeAt(this.pos);
        if (this.pos >= this.text.length || isSpace(next) || endsBareValue(next)) return n;
      } catch (error) {
        if (!(error instanceof SyntaxParseError)) throw error;
      }
      this.pos = start;
    }
    return this.bare();
  }

  /** `[ v ; v ; ... ]` (`,` and `|` also separate; a trailing separator is allowed). */
  list(depth: number): List {
    if (depth > this.maxDepth) throw new TooDeepError(this.maxDepth, this.position(this.pos));
    this.pos++;
    const list: List = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === CLOSE_BRACKET) {
      this.pos++;
      return list;
    }
    for (;;) {
      if (this.pos >= this.text.length) this.fail("expected a value or ']'");
      list.push(this.value(depth));
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === CLOSE_BRACKET) {
        this.pos++;
        return list;
      }
      if (c !== SEMICOLON && c !== COMMA && c !== PIPE) this.fail("expected ']' or ';'");
      this.pos++;
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) === CLOSE_BRACKET) {
        this.pos++;
        return list;
      }
    }
  }

  /**
   * A bare (unquoted) value, up to whitespace or punctuation: a number when it is one, `true`, `false`
   * or `null` (or Python's `True`, `False`, `None`), else a string (`kshd`, `1QP`, `hello-world`).
   */
  bare(): Value {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (isSpace(c) || endsBareValue(c)) break;
      pos++;
    }
    if (pos === start) {
      return this.fail(
        pos >= text.length
          ? 'expected a value (a number, a string, a document or a list)'
          : `expected a value (a number, a string, a document or a list), found ${describeAt(text, pos)}`,
      );
    }
    const token = text.slice(start, pos);
    if (NUMBERISH.test(token)) {
      const n = this.number();
      if (this.pos !== pos) this.fail('expected the end of the number', this.pos);
      return n;
    }
    this.pos = pos;
    // Python's own spellings too: a dict printed by Python writes True, False and None.
    if (token === 'true' || token === 'True') return true;
    if (token === 'false' || token === 'False') return false;
    if (token === 'null' || token === 'None') return null;
    return token;
  }

  /**
   * `b"..."`: bytes. Printable ASCII stands for itself; `\xNN` is any byte; `\\ \" \n \r \t \0`; other
   * characters stand for their UTF-8 bytes.
   */
  bytes(): Uint8Array {
    const text = this.text;
    const open = this.pos;
    let pos = open + 2;
    const out: number[] = [];
    for (;;) {
      if (pos >= text.length) this.fail('unterminated bytes (b"...")', open);
      const c = text.charCodeAt(pos);
      if (c === QUOTE) break;
      if (c !== BACKSLASH) {
        if (c < 0x80) {
          out.push(c);
          pos++;
        } else {
          const cp = text.codePointAt(pos) as number;
          for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
          pos += cp > 0xffff ? 2 : 1;
        }
        continue;
      }
      const e = text.charCodeAt(pos + 1);
      const simple =
        e === BACKSLASH || e === QUOTE
          ? e
          : e === 0x6e
            ? 10
            : e === 0x72
              ? 13
              : e === 0x74
                ? 9
                : e === 0x30
                  ? 0
                  : -1;
      if (simple >= 0) {
        out.push(simple);
        pos += 2;
        continue;
      }
      const hex = text.slice(pos + 2, pos + 4);
      if (e !== 0x78 || !/^[0-9a-fA-F]{2}$/.test(hex))
        this.fail('invalid escape in bytes (expected \\xNN, \\\\, \\", \\n, \\r, \\t or \\0)', pos);
      out.push(parseInt(hex, 16));
      pos += 4;
    }
    this.pos = pos + 1;
    return Uint8Array.from(out);
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
  const parser = new Parser(
    text,
    options?.line ?? 1,
    options?.maxDepth ?? DEFAULT_MAX_DEPTH,
    options?.maxIntBytes ?? DEFAULT_MAX_INT_BYTES,
  );
  if (options?.duplicateKeys === 'error') parser.duplicateKeys = 'error';
  parser.onDuplicateKey = options?.onDuplicateKey;
  return parser;
}

function checkLength(text: string, options: ParseOptions | undefined): void {
  const limit = options?.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  if (text.length > limit) throw new LineTooLongError(limit, options?.line ?? 1);
}

/**
 * Parses one record line, `KEY : VALUE`, in any accepted style (`:`/`->`, `;`/`,`/`|`, `{}`/`[]` for
 * documents, `[]` for lists, double, single or typographic quotes, bare keys and values). Throws a
 * `ParseError` saying where and what was expected.
 */
export function parseRecord(text: string, options?: ParseOptions): KvRecord {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  checkLength(text, options);
  return parserFor(text, options).record();
}

/** Parses a single value (any kind), with the same rules as `parseRecord` (colon style: `[]` is a list). */
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
