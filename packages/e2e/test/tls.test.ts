import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Broker, type ClientTls } from '@triekv/broker';
import { createGateway } from '@triekv/gateway';
import { parseValue, type Doc } from '@triekv/record';
import {
  hasOpenssl,
  makeCertificates,
  rawExchange,
  startServerProcess,
  waitFor,
  type Certificates,
  type ServerProcess,
} from '@triekv/test-utils';

if (!hasOpenssl())
  console.warn(
    'tls.test: skipped: openssl is not on PATH (the tests make their certificates with it)',
  );
const withOpenssl = hasOpenssl() ? describe : describe.skip;
const hasRedisCli = spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;

withOpenssl('TLS on every connection', () => {
  let certs: Certificates;
  const servers: ServerProcess[] = [];
  const brokers: Broker[] = [];
  const pem = (file: string): Buffer => readFileSync(file);

  beforeAll(() => {
    certs = makeCertificates();
  });
  afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.splice(0).map((s) => s.exited));
  });

  const tlsServer = async (
    cert = certs.serverCert,
    key = certs.serverKey,
    extra: string[] = [],
  ): Promise<ServerProcess> => {
    const s = await startServerProcess([
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--resp-port',
      '0',
      '--metrics-port',
      '0',
      '--log-level',
      'info',
      ...extra,
    ]);
    servers.push(s);
    return s;
  };
  /** A broker of one server with `tls`; resolves with it once its first connection attempt is over. */
  const broker = async (s: ServerProcess, tls: ClientTls | undefined): Promise<Broker> => {
    const b = new Broker({
      servers: [{ host: '127.0.0.1', port: s.port }],
      k: 1,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      ...(tls === undefined ? {} : { tls }),
    });
    brokers.push(b);
    await b.start();
    return b;
  };
  const downReason = (b: Broker): string | undefined => b.cluster.connections[0]?.lastError;
  const doc = parseValue('{ "a" : 1 }') as Doc;

  it('a trusted server works on the native, RESP and metrics ports; a plaintext client is refused with a log line', async () => {
    const s = await tlsServer();
    const b = await broker(s, { ca: pem(certs.ca) });
    await b.put('k', doc);
    expect((await b.get('k')).found).toBe(true);
    // RESP over TLS, with Node's own TLS client speaking Redis's protocol.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: s.respPort!, ca: pem(certs.ca) }, () =>
        socket.write('*2\r\n$6\r\nKV.GET\r\n$1\r\nk\r\n'),
      );
      socket.on('data', (c: Buffer) => {
        resolve(c.toString());
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(reply).toBe('$17\r\n"k" : { "a" : 1 }\r\n');
    // HTTPS metrics.
    const metrics = await new Promise<number>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: s.metricsPort!, ca: pem(certs.ca) },
        () => socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1])));
      socket.on('error', reject);
    });
    expect(metrics).toBe(200);
    // A plaintext client: no crash, a log line, and a broker that says what is likely wrong.
    const plain = await broker(s, undefined);
    expect(plain.cluster.connections[0]?.up).toBe(false);
    expect(downReason(plain)).toMatch(
      /closed the connection before answering HELLO \(a TLS server\? then give --tls-ca\)/,
    );
    await waitFor(() => s.stderr().includes('refused a TLS connection'));
    expect(s.stderr()).toMatch(/"reason":"it did not speak TLS \(a plaintext client\?\)"/);
    // Still serving.
    expect((await b.get('k')).found).toBe(true);
  });

  it('an untrusted CA, a hostname mismatch and an expired certificate are refused, each saying so', async () => {
    const other = await tlsServer(certs.otherServerCert, certs.otherServerKey);
    expect(downReason(await broker(other, { ca: pem(certs.ca) }))).toMatch(
      /^its certificate is not trusted: not signed by the CA given \(--tls-ca\)/,
    );
    const wrongHost = await tlsServer(certs.wrongHostCert, certs.wrongHostKey);
    expect(downReason(await broker(wrongHost, { ca: pem(certs.ca) }))).toMatch(
      /^its certificate is for another host: .*127\.0\.0\.1/,
    );
    const expired = await tlsServer(certs.expiredCert, certs.expiredKey);
    expect(downReason(await broker(expired, { ca: pem(certs.ca) }))).toBe(
      'its certificate has expired (CERT_HAS_EXPIRED)',
    );
    // --tls-insecure connects anyway (for tests only).
    const insecure = await broker(other, { insecure: true });
    expect(insecure.cluster.connections[0]?.up).toBe(true);
  });

  it('mutual TLS: a broker with a client certificate signed by the CA gets in; one without is refused', async () => {
    const s = await tlsServer(certs.serverCert, certs.serverKey, ['--tls-ca', certs.ca]);
    const withCert = await broker(s, {
      ca: pem(certs.ca),
      cert: pem(certs.clientCert),
      key: pem(certs.clientKey),
    });
    await withCert.put('k', doc);
    const without = await broker(s, { ca: pem(certs.ca) });
    expect(without.cluster.connections[0]?.up).toBe(false);
    expect(downReason(without)).toMatch(/^it wants a client certificate/);
    // A certificate from another CA is no better.
    const foreign = await broker(s, {
      ca: pem(certs.ca),
      cert: pem(certs.otherServerCert),
      key: pem(certs.otherServerKey),
    });
    expect(foreign.cluster.connections[0]?.up).toBe(false);
    expect(downReason(foreign)).toMatch(
      /client certificate it trusts\?? \(--tls-cert, --tls-key\)/,
    );
    await waitFor(() => /sent no client certificate|certificate/.test(s.stderr()));
  });

  it('SIGHUP reloads the certificates: open connections stay, new ones get the new certificate', async () => {
    // The server reads its certificate from files that are then replaced by another CA's.
    const cert = join(certs.dir, 'live.crt');
    const key = join(certs.dir, 'live.key');
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
    const s = await tlsServer(cert, key);
    const old = await broker(s, { ca: pem(certs.ca) });
    copyFileSync(certs.otherServerCert, cert);
    copyFileSync(certs.otherServerKey, key);
    s.kill('SIGHUP');
    await waitFor(() => s.stderr().includes('reloaded the TLS certificates'));
    // The connection made before the reload is still up and serving.
    await old.put('k', doc);
    expect(old.cluster.connections[0]?.up).toBe(true);
    // A new one sees the new certificate: trusted by the other CA, not the first.
    expect((await broker(s, { ca: pem(certs.otherCa) })).cluster.connections[0]?.up).toBe(true);
    expect((await broker(s, { ca: pem(certs.ca) })).cluster.connections[0]?.up).toBe(false);
    // Unusable files: logged, and the certificates in use stay.
    copyFileSync(certs.ca, key);
    s.kill('SIGHUP');
    await waitFor(() => s.stderr().includes('cannot reload the TLS certificates'));
    expect((await broker(s, { ca: pem(certs.otherCa) })).cluster.connections[0]?.up).toBe(true);
  });

  (hasRedisCli ? it : it.skip)(
    'redis-cli --tls against the RESP port of a server and of a gateway (mutual TLS too)',
    async () => {
      const s = await tlsServer();
      // Asynchronous: the gateway answers in this process, which a spawnSync would block.
      const run = (args: string[]): Promise<string> =>
        new Promise((resolve) => {
          const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.stderr.on('data', (c: Buffer) => (out += c.toString()));
          child.on('close', () => resolve(out.trim()));
        });
      const cli = (port: number, ...args: string[]): Promise<string> =>
        run(['-p', String(port), '--tls', '--cacert', certs.ca, ...args]);
      expect(await cli(s.respPort!, 'SET', 'greeting', 'hello')).toBe('OK');
      expect(await cli(s.respPort!, 'GET', 'greeting')).toBe('hello');
      const b = await broker(s, { ca: pem(certs.ca) });
      const gateway = createGateway({
        broker: b,
        port: 0,
        tls: { cert: pem(certs.serverCert), key: pem(certs.serverKey), ca: pem(certs.ca) },
      });
      await gateway.listen();
      try {
        const port = gateway.address().port;
        expect(
          await cli(port, '--cert', certs.clientCert, '--key', certs.clientKey, 'GET', 'greeting'),
        ).toBe('hello');
        // Without a client certificate the gateway refuses the handshake.
        const refused = await cli(port, 'GET', 'greeting');
        expect(refused).not.toMatch(/^hello$/m);
        // Plaintext to the TLS port: refused, the gateway goes on.
        const plain = (await rawExchange(port, 'PING\r\n')).text;
        expect(plain).not.toMatch(/PONG/);
        expect(await cli(port, '--cert', certs.clientCert, '--key', certs.clientKey, 'PING')).toBe(
          'PONG',
        );
      } finally {
        await gateway.close();
      }
    },
  );
});
