/** Base of every error this package throws; `code` is stable, the message may change. */
export class DatagenError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatagenError';
  }
}

/** A key file line that is not `name type`, or names an unknown type or a name twice. Code `KEY_FILE`. */
export class KeyFileError extends DatagenError {
  constructor(
    detail: string,
    readonly line: number | undefined,
    readonly file?: string,
  ) {
    const where = `${file === undefined ? '' : `${file}: `}${line === undefined ? '' : `line ${line}: `}`;
    super(`${where}${detail}`, 'KEY_FILE');
    this.name = 'KeyFileError';
  }
}

/** Generator options that cannot work together or are out of range. Code `BAD_OPTION`. */
export class OptionError extends DatagenError {
  constructor(
    message: string,
    readonly option: string,
  ) {
    super(message, 'BAD_OPTION');
    this.name = 'OptionError';
  }
}

/** The output file cannot be written (its directory is missing, not writable, the disk is full). Code `OUTPUT`. */
export class OutputError extends DatagenError {
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot write ${path}: ${reason}`, 'OUTPUT', options);
    this.name = 'OutputError';
  }
}
