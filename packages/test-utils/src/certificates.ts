import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether `openssl` is on PATH (the TLS tests make their certificates with it). */
export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Files of a throwaway CA and certificates signed by it (PEM). */
export interface Certificates {
  dir: string;
  /** The CA's certificate (what clients and servers trust). */
  ca: string;
  caKey: string;
  /** A server certificate for 127.0.0.1 and localhost. */
  serverCert: string;
  serverKey: string;
  /** A client certificate (for mutual TLS). */
  clientCert: string;
  clientKey: string;
  /** A certificate signed by the CA for another host only (`other.example`): a hostname mismatch. */
  wrongHostCert: string;
  wrongHostKey: string;
  /** A certificate for 127.0.0.1 that has expired. */
  expiredCert: string;
  expiredKey: string;
  /** A second CA, and a server certificate signed by it: not trusted by the first. */
  otherCa: string;
  otherServerCert: string;
  otherServerKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A key and a certificate for `san`, signed by `ca` (valid for two days, unless `extra` says). */
function issue(
  dir: string,
  name: string,
  subject: string,
  san: string,
  ca: { cert: string; key: string },
  extra: string[] = [],
): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\n`);
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', subject, '-out', csr],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-out',
      cert,
      '-sha256',
      '-extfile',
      ext,
      ...(extra.length > 0 ? extra : ['-days', '2']),
    ],
    dir,
  );
  return { cert, key };
}

/** A CA. */
function authority(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { cert, key };
}

/**
 * Makes, with openssl, a throwaway CA and what the TLS tests need: a server certificate for 127.0.0.1
 * and localhost, a client certificate, one for the wrong host, an expired one, and a server
 * certificate from a second CA. In a new temporary directory (remove `dir` when done).
 */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'triekv-certs-'));
  const ca = authority(dir, 'triekv-test-ca');
  const server = issue(dir, 'server', '/CN=127.0.0.1', 'IP:127.0.0.1,DNS:localhost', ca);
  const client = issue(dir, 'client', '/CN=triekv-client', 'DNS:triekv-client', ca);
  const wrong = issue(dir, 'wrong-host', '/CN=other.example', 'DNS:other.example', ca);
  // -days -1: it ended a day before it began, that is, yesterday.
  const expired = issue(dir, 'expired', '/CN=127.0.0.1', 'IP:127.0.0.1', ca, ['-days', '-1']);
  const other = authority(dir, 'other-ca');
  const otherServer = issue(dir, 'other-server', '/CN=127.0.0.1', 'IP:127.0.0.1', other);
  return {
    dir,
    ca: ca.cert,
    caKey: ca.key,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    wrongHostCert: wrong.cert,
    wrongHostKey: wrong.key,
    expiredCert: expired.cert,
    expiredKey: expired.key,
    otherCa: other.cert,
    otherServerCert: otherServer.cert,
    otherServerKey: otherServer.key,
  };
}
