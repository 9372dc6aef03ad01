import { createServer, type Server, type Socket } from 'node:net';
import {
  FrameDecoder,
  ProtocolError,
  encodeFrame,
  type Reply,
  type Request,
} from '@triekv/protocol';

/** A server that answers HELLO and nothing else. */
export interface MuteServer {
  server: Server;
  port: number;
  /** Its open connections. */
  sockets: Set<Socket>;
  /** Requests it received (HELLO and MEMBERS excluded), by type. */
  received: string[];
  close(): Promise<void>;
}

/**
 * Starts, on 127.0.0.1 port 0, a server that says hello and then never answers (but for membership
 * polls): what a paused process or a blackholed link looks like to a client's data requests. `answer` may pick requests to answer after all (it
 * returns the reply, or undefined to stay silent): a server that fails in one precise way.
 */
export async function startMuteServer(
  answer?: (request: Request) => Reply | undefined,
): Promise<MuteServer> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const m of decoder.push(chunk)) {
        if (m instanceof ProtocolError) continue;
        // HELLO, and the brokers' membership polls (as a server without a membership record would:
        // a poll left unanswered would have the broker take the server for dead after its heartbeat
        // timeout, whatever the test is about).
        if (m.type === 'HELLO' || m.type === 'MEMBERS') {
          socket.write(encodeFrame({ type: 'OK', id: m.id }));
          continue;
        }
        received.push(m.type);
        const reply = answer?.(m as Request);
        if (reply !== undefined) socket.write(encodeFrame(reply));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    sockets,
    received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
