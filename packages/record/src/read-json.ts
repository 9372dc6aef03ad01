import { DEFAULT_MAX_LINE_LENGTH } from './defaults.js';
import { LineTooLongError, ParseError, SyntaxParseError, type Position } from './errors.js';
import { parseRecord, parseValue, type ParseOptions } from './parse.js';
import type { KvRecord, Value } from './value.js';

/** One piece of a JSON input: the text of a record (a member) or of an object of records (an element). */
interface Piece {
  kind: 'member' | 'element';
  text: string;
  /** Where the piece starts in the input (1-based; the column counts code points). */
  line: number;
  column: number;
  /** Longer than the limit: its text was dropped as it streamed past. */
  overflow: boolean;
}

/** An error of the input's structure (outside any record), at a line. */
interface StructureError {
  error: ParseError;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const HASH = 0x23;

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff;
}

/**
 * Splits a stream of JSON text into the pieces that hold records, without holding more than one piece:
 * the members of each top-level object (JSON Lines, or one object of records spanning the file), and
 * the elements of a top-level array (each an object of records).
 */
export class JsonSplitter {
  private depth = 0;
  /** The brackets open, innermost last (`{` or `[`). */
  private open: number[] = [];
  private inString = false;
  private escaped = false;
  /** Whether the top-level value being read is an object (members) or an array (elements). */
  private top: 'object' | 'array' | undefined;
  private piece = '';
  private pieceLine = 0;
  private pieceColumn = 0;
  private pieceOverflow = false;
  private pieceStarted = false;
  private line = 1;
  private column = 1;
  /** Skipping to the end of a line after a structure error. */
  private skipping = false;
  private topLine = 0;

  constructor(private readonly maxLength: number) {}

  /** The pieces (and structure errors) completed by `text`. */
  push(text: string): (Piece | StructureError)[] {
    const out: (Piece | StructureError)[] = [];
    let runStart = -1;
    const flushRun = (end: number): void => {
      if (runStart >= 0) this.append(text.slice(runStart, end));
      runStart = -1;
    };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const atLine = this.line;
      const atColumn = this.column;
      if (c === NEWLINE) {
        this.line++;
        this.column = 1;
      } else if (c < 0xdc00 || c > 0xdfff) this.column++;
      if (this.skipping) {
        if (c === NEWLINE) this.skipping = false;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        if (runStart < 0) runStart = i;
        continue;
      }
      if (this.depth === 0) {
        if (isBlank(c)) continue;
        if (c === HASH) {
          // A comment line between records, as in text files.
          this.skipping = true;
          continue;
        }
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.top = c === OPEN_BRACE ? 'object' : 'array';
          this.depth = 1;
          this.open = [c];
          this.topLine = atLine;
          continue;
        }
        out.push({
          error: new SyntaxParseError(
            `expected a JSON object or array of records, found ${JSON.stringify(String.fromCodePoint(text.codePointAt(i) as number))}`,
            { line: atLine, column: atColumn },
          ),
        });
        this.skipping = c !== NEWLINE;
        continue;
      }
      if (this.depth === 1) {
        // Between pieces: separators, and the end of the top-level value.
        const closesTop =
          (this.top === 'object' && c === CLOSE_BRACE) ||
          (this.top === 'array' && c === CLOSE_BRACKET);
        if (c === COMMA || closesTop) {
          flushRun(i);
          if (this.pieceStarted) out.push(this.take());
          if (closesTop) this.depth = 0;
          continue;
        }
        if (!this.pieceStarted) {
          if (isBlank(c)) continue;
          this.pieceStarted = true;
          this.pieceLine = atLine;
          this.pieceColumn = atColumn;
        }
      }
      if (runStart < 0) runStart = i;
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.depth++;
        this.open.push(c);
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.open[this.open.length - 1] === (c === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) {
          this.depth--;
          this.open.pop();
        } else {
          // A bracket that closes nothing open: the piece goes to the parser, which says where it
          // is wrong, and reading starts again on the next line.
          flushRun(i + 1);
          if (this.pieceStarted) out.push(this.take());
          this.depth = 0;
          this.open = [];
          this.skipping = true;
        }
      }
    }
    flushRun(text.length);
    return out;
  }

  /** What is left at the end of the input: an unfinished piece or value is an error. */
  end(): (Piece | StructureError)[] {
    if (this.depth === 0 || this.skipping) return [];
    const what = this.top === 'array' ? 'array' : 'object';
    return [
      {
        error: new SyntaxParseError(
          `the input ends inside the JSON ${what} opened at line ${this.topLine}`,
          { line: this.line, column: this.column },
        ),
      },
    ];
  }

  private append(text: string): void {
    if (this.pieceOverflow) return;
    if (this.piece.length + text.length > this.maxLength) {
      this.pieceOverflow = true;
      this.piece = '';
      return;
    }
    this.piece += text;
  }

  private take(): Piece {
    const piece: Piece = {
      kind: this.top === 'array' ? 'element' : 'member',
      text: this.piece,
      line: this.pieceLine,
      column: this.pieceColumn,
      overflow: this.pieceOverflow,
    };
    this.piece = '';
    this.pieceOverflow = false;
    this.pieceStarted = false;
    return piece;
  }
}

/**
 * Where a position inside a piece (its parser's line 1, column C) is in the input: the piece's text
 * spans lines, and starts at the piece's own column.
 */
function inInput(piece: Piece, column: number): Position {
  let line = piece.line;
  let col = piece.column;
  let seen = 1;
  for (let i = 0; i < piece.text.length && seen < column; i++) {
    const c = piece.text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) continue;
    seen++;
    if (c === NEWLINE) {
      line++;
      col = 1;
    } else col++;
  }
  return { line, column: col };
}

function moved(error: ParseError, piece: Piece): ParseError {
  const at = inInput(piece, error.column);
  return error instanceof SyntaxParseError
    ? new SyntaxParseError(error.detail, at)
    : new ParseError(error.code, error.detail, at);
}

/** `{"$bytes": "BASE64"}` (what `formatJson` writes for bytes that are not UTF-8) read back as bytes. */
export function fromJsonTags(value: Value): Value {
  if (value instanceof Map) {
    if (value.size === 1) {
      const b64 = value.get('$bytes');
      if (typeof b64 === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(b64) && b64.length % 4 === 0)
        return new Uint8Array(Buffer.from(b64, 'base64'));
    }
    for (const [k, v] of value) {
      const tagged = fromJsonTags(v);
      if (tagged !== v) value.set(k, tagged);
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromJsonTags(value[i] as Value);
  }
  return value;
}

/** One record's outcome in a JSON input, at the line its text starts on. */
export type JsonResult = { line: number; record: KvRecord } | { line: number; error: ParseError };

/**
 * The records of one piece: a member is a record (`"key": value`); an element is an object whose
 * members are records. Errors say where in the input they are.
 */
export function piecesToRecords(
  items: (Piece | StructureError)[],
  options: ParseOptions | undefined,
  limit = options?.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH,
): JsonResult[] {
  const out: JsonResult[] = [];
  for (const item of items) {
    if ('error' in item) {
      out.push({ line: item.error.line, error: item.error });
      continue;
    }
    if (item.overflow) {
      out.push({ line: item.line, error: new LineTooLongError(limit, item.line) });
      continue;
    }
    const onDuplicateKey = options?.onDuplicateKey;
    const parseOptions: ParseOptions = {
      ...options,
      line: 1,
      maxLineLength: Infinity,
      ...(onDuplicateKey === undefined
        ? {}
        : {
            onDuplicateKey: (key, at) => onDuplicateKey(key, inInput(item, at.column)),
          }),
    };
    try {
      if (item.kind === 'member') {
        const record = parseRecord(item.text, parseOptions);
        out.push({
          line: item.line,
          record: { key: record.key, value: fromJsonTags(record.value) },
        });
      } else {
        const value = parseValue(item.text, parseOptions);
        if (!(value instanceof Map)) {
          out.push({
            line: item.line,
            error: new SyntaxParseError(
              'an element of the array must be an object of records ({"key": value, ...})',
              { line: item.line, column: item.column },
            ),
          });
          continue;
        }
        for (const [key, v] of value)
          out.push({ line: item.line, record: { key, value: fromJsonTags(v) } });
      }
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      out.push({ line: item.line, error: moved(error, item) });
    }
  }
  return out;
}
