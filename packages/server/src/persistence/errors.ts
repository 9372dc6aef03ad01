import { ServerError } from '../errors.js';

/** A data directory that cannot be used: locked, unwritable, newer, or corrupt. Code `DATA_DIR`. */
export class DataDirError extends ServerError {
  constructor(
    message: string,
    /** `LOCKED`, `UNWRITABLE`, `NEWER_FORMAT`, `NOT_OURS` or `CORRUPT`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'DATA_DIR', options);
    this.name = 'DataDirError';
  }
}
