/** A stream the terminal helpers look at (process.stdout, process.stderr or a stand-in in tests). */
export interface OutputStream {
  isTTY?: boolean;
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/**
 * Whether to colour output to `stream`: only on a terminal, and never when `NO_COLOR` is set to a
 * non-empty value (https://no-color.org) or `TERM` is `dumb`.
 */
export function useColor(stream: Pick<OutputStream, 'isTTY'>, env = process.env): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

/**
 * Ends the program quietly, exit 0, when the reader of stdout goes away (`app | head -1`): no EPIPE
 * stack, no exit 1. `onClosed` runs instead of exiting when given (for a program that must stop
 * something first). Other stream errors are rethrown as before.
 */
export function exitOnClosedStdout(
  stream: OutputStream = process.stdout,
  onClosed: () => void = () => process.exit(0),
): void {
  let closed = false;
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    if (closed) return;
    closed = true;
    onClosed();
  });
}
