/** Base of every error this package throws; `code` is stable, the message may change. */
export class ServerError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServerError';
  }
}

/** The address could not be bound (in use, not permitted, not local). Code `LISTEN_FAILED`. */
export class ListenError extends ServerError {
  constructor(
    message: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'LISTEN_FAILED', options);
    this.name = 'ListenError';
  }
}

/** The server was used in a state that does not allow it (listen twice, after close). Code `BAD_STATE`. */
export class ServerStateError extends ServerError {
  constructor(message: string) {
    super(message, 'BAD_STATE');
    this.name = 'ServerStateError';
  }
}
