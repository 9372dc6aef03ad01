import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type SecureContextOptions,
  type TLSSocket,
} from 'node:tls';
import type { Logger } from 'pino';

/**
 * TLS for a listener: the server's certificate and key (PEM), and with `ca` mutual TLS: every client
 * must present a certificate signed by it. TLS 1.2 and newer, Node's default ciphers.
 */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** Requires client certificates signed by this CA (mutual TLS). */
  ca?: string | Buffer;
}

/** The lowest TLS version any listener or client of ours speaks. */
export const MIN_TLS_VERSION = 'TLSv1.2';

function secureContext(tls: TlsOptions): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }) };
}

/** Why a TLS handshake from a client failed, in words. */
export function tlsClientProblem(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
  if (
    /WRONG_VERSION_NUMBER|HTTP_REQUEST|UNKNOWN_PROTOCOL|VERSION_TOO_LOW|UNSUPPORTED_PROTOCOL/i.test(
      code + error.message,
    )
  )
    return 'it did not speak TLS (a plaintext client?)';
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|CERTIFICATE_REQUIRED/i.test(code + error.message))
    return 'it sent no client certificate (mutual TLS wants one)';
  if (/ECONNRESET/.test(code)) return 'it closed the connection during the handshake';
  if (/TIMEOUT|ERR_TLS_HANDSHAKE_TIMEOUT/i.test(code)) return 'no handshake in time';
  return error.message;
}

/**
 * A listener: plain TCP, or TLS with `tls` (then `onSocket` gets each connection once its handshake is
 * done, and a failed handshake is logged, `refused a TLS connection`, and costs nothing more).
 */
export function createListener(
  tls: TlsOptions | undefined,
  onSocket: (socket: Socket) => void,
  log: Logger,
  handshakeTimeoutMs: number,
): Server {
  if (tls === undefined) return createTcpServer({ noDelay: true }, onSocket);
  const server = createTlsServer(
    {
      ...secureContext(tls),
      requestCert: tls.ca !== undefined,
      rejectUnauthorized: tls.ca !== undefined,
      minVersion: MIN_TLS_VERSION,
      handshakeTimeout: handshakeTimeoutMs,
      noDelay: true,
    },
    (socket: TLSSocket) => onSocket(socket),
  );
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    const remote =
      socket.remoteAddress === undefined
        ? {}
        : { remote: `${socket.remoteAddress}:${socket.remotePort ?? '?'}` };
    log.info({ ...remote, reason: tlsClientProblem(error) }, 'refused a TLS connection');
  });
  return server;
}

/**
 * New certificates for a TLS listener (SIGHUP): connections open now keep theirs, new ones get these.
 * Throws (and the listener keeps the old ones) when they cannot be used.
 */
export function reloadListener(server: Server | undefined, tls: TlsOptions): void {
  const secure = server as unknown as { setSecureContext?: (o: SecureContextOptions) => void };
  secure?.setSecureContext?.(secureContext(tls));
}
