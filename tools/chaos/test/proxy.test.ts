import { connect, createServer, type Server, type Socket } from 'node:net';
import { waitFor } from '@triekv/test-utils';
import { FaultProxy } from '../src/index';

/** An upstream that echoes what it gets, upper-cased, and keeps count of what it received. */
async function echoServer(): Promise<{ server: Server; port: number; received: () => string }> {
  let received = '';
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      socket.write(chunk.toString().toUpperCase());
    });
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = server.close.bind(server);
  server.close = (cb) => {
    sockets.forEach((s) => s.destroy());
    return close(cb);
  };
  return { server, port: (server.address() as { port: number }).port, received: () => received };
}

interface Client {
  socket: Socket;
  data: () => string;
  closed: Promise<string>;
}

async function client(port: number): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port });
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString()));
  let error = '';
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => resolve(error || 'closed')),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, data: () => data, closed };
}

describe('FaultProxy', () => {
  let upstream: Awaited<ReturnType<typeof echoServer>>;
  let proxy: FaultProxy;
  let port: number;
  const clients: Client[] = [];
  const open = async (): Promise<Client> => {
    const c = await client(port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    upstream = await echoServer();
    proxy = new FaultProxy(upstream.port);
    port = await proxy.listen();
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.socket.destroy());
    await proxy.close();
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  test('passes bytes both ways', async () => {
    const c = await open();
    c.socket.write('hello');
    await waitFor(() => c.data() === 'HELLO', 'the echo');
    expect(upstream.received()).toBe('hello');
  });

  test('delay holds every chunk at least that long and keeps their order', async () => {
    proxy.setMode({ kind: 'delay', ms: 80 });
    const c = await open();
    const sent = performance.now();
    c.socket.write('a');
    c.socket.write('b');
    await waitFor(() => c.data() === 'AB', 'the delayed echo');
    // Two hops (there and back), each held for 80 ms.
    expect(performance.now() - sent).toBeGreaterThanOrEqual(159);
    proxy.setMode({ kind: 'pass' });
    c.socket.write('c');
    await waitFor(() => c.data() === 'ABC', 'the echo after the delay ended');
  });

  test('drop resets open connections and refuses new ones until it ends', async () => {
    const c = await open();
    c.socket.write('x');
    await waitFor(() => c.data() === 'X', 'the echo');
    proxy.setMode({ kind: 'drop' });
    expect(await c.closed).toBe('ECONNRESET');
    // The reset may come before or after the client sees its connect: either way it is reset.
    const during = connect({ host: '127.0.0.1', port });
    const reason = await new Promise<string>((resolve) => {
      during.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      during.on('close', () => resolve('closed'));
    });
    expect(reason).toBe('ECONNRESET');
    proxy.setMode({ kind: 'pass' });
    const after = await open();
    after.socket.write('y');
    await waitFor(() => after.data() === 'Y', 'the echo after the drop ended');
  });

  test('blackhole swallows bytes both ways, then resets the connections that lost some', async () => {
    const quiet = await open();
    const c = await open();
    proxy.setMode({ kind: 'blackhole' });
    c.socket.write('lost');
    await waitFor(() => proxy.swallowed >= 4, 'the proxy to swallow the bytes');
    expect(upstream.received()).toBe('');
    expect(c.data()).toBe('');
    proxy.setMode({ kind: 'pass' });
    expect(await c.closed).toBe('ECONNRESET');
    // A connection that sent nothing during the blackhole has no hole and goes on.
    quiet.socket.write('ok');
    await waitFor(() => quiet.data() === 'OK', 'the untouched connection to work');
    expect(upstream.received()).toBe('ok');
  });

  test('new connections go to the new upstream after setUpstream', async () => {
    const second = await echoServer();
    try {
      proxy.setUpstream(second.port);
      const c = await open();
      c.socket.write('moved');
      await waitFor(() => c.data() === 'MOVED', 'the echo from the new upstream');
      expect(second.received()).toBe('moved');
      expect(upstream.received()).toBe('');
    } finally {
      clients.splice(0).forEach((c) => c.socket.destroy());
      await new Promise((resolve) => second.server.close(resolve));
    }
  });

  test('a connection whose upstream is gone is closed', async () => {
    await new Promise((resolve) => upstream.server.close(resolve));
    const c = await open();
    expect(['ECONNRESET', 'closed']).toContain(await c.closed);
    upstream = await echoServer();
  });
});
