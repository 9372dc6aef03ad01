import { connect } from 'node:net';

/**
 * Sends raw bytes to a port on 127.0.0.1 and collects what comes back until the other side closes,
 * or `ms` pass (then the socket is closed here): for protocol tests below any client library.
 */
export function rawExchange(
  port: number,
  bytes: Buffer | string,
  ms = 2000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, ms);
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.write(bytes);
  });
}
