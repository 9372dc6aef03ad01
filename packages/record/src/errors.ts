/** Base of every error this package throws; `code` is stable, the message may change. */
export class RecordError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RecordError';
  }
}

/** Where in the input a parse error is: 1-based line and column (column counts code points). */
export interface Position {
  line: number;
  column: number;
}

/** A failure to parse text, with its position; the message reads `line L, col C: ...`. */
export class ParseError extends RecordError {
  readonly line: number;
  readonly column: number;
  /** What the error says after the position, e.g. `expected '}' or ';'`. */
  readonly detail: string;

  constructor(code: string, detail: string, position: Position) {
    super(`line ${position.line}, col ${position.column}: ${detail}`, code);
    this.name = 'ParseError';
    this.line = position.line;
    this.column = position.column;
    this.detail = detail;
  }
}

/** The text is not in the format: something else was expected at that point. Code `SYNTAX`. */
export class SyntaxParseError extends ParseError {
  constructor(detail: string, position: Position) {
    super('SYNTAX', detail, position);
    this.name = 'SyntaxParseError';
  }
}

/** A key appears twice in one document. Code `DUPLICATE_KEY`. */
export class DuplicateKeyError extends ParseError {
  constructor(key: string, position: Position) {
    super('DUPLICATE_KEY', `duplicate key ${JSON.stringify(key)} in one document`, position);
    this.name = 'DuplicateKeyError';
  }
}

/** Documents and lists nested deeper than the `maxDepth` limit. Code `TOO_DEEP`. */
export class TooDeepError extends ParseError {
  constructor(limit: number, position: Position) {
    super(
      'TOO_DEEP',
      `documents and lists nested deeper than ${limit} levels (the maxDepth limit)`,
      position,
    );
    this.name = 'TooDeepError';
  }
}

/** A line longer than the `maxLineLength` limit. Code `LINE_TOO_LONG`. */
export class LineTooLongError extends ParseError {
  constructor(limit: number, line: number) {
    super('LINE_TOO_LONG', `line longer than ${limit} characters (the maxLineLength limit)`, {
      line,
      column: limit + 1,
    });
    this.name = 'LineTooLongError';
  }
}

/** A value that cannot be written in the format (NaN, an unsafe integer number, a bad key). Code `INVALID_VALUE`. */
export class InvalidValueError extends RecordError {
  constructor(message: string) {
    super(message, 'INVALID_VALUE');
    this.name = 'InvalidValueError';
  }
}
