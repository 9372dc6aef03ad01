import { Readable } from 'node:stream';
import { Broker } from '@triekv/broker';
import { startServerProcess, waitFor, type ServerProcess } from '@triekv/test-utils';

const RECORDS = 20_000;

/** Lines of records, made as the load reads them (so the load is still going when a fault lands). */
function* chunks(count: number): Generator<string> {
  for (let i = 0; i < count; i += 1000) {
    let chunk = '';
    for (let j = i; j < Math.min(count, i + 1000); j++)
      chunk += `"key${j}" : { "n" : ${j} ; "s" : "text ${j}" }\n`;
    yield chunk;
  }
}

/** A load through a broker onto one real kv-server process, which the test pauses and resumes. */
describe('a load rides out a server that stops for a while', () => {
  let server: ServerProcess;
  let broker: Broker;

  beforeEach(async () => {
    server = await startServerProcess(['--log-level', 'silent']);
  });

  afterEach(async () => {
    await broker.close();
    server.kill('SIGCONT');
    server.kill('SIGKILL');
    await server.exited;
  });

  const start = async (options: { heartbeatTimeoutMs: number }): Promise<void> => {
    broker = new Broker({
      servers: [{ host: '127.0.0.1', port: server.port }],
      k: 1,
      requestTimeoutMs: 300,
      reconnectMaxMs: 200,
      ...options,
    });
    await broker.start();
  };

  test('slow, not down: batches that time out are sent again and the server is never marked down', async () => {
    // The pause outlasts the request timeout (300 ms) but not the heartbeat's (60 s).
    await start({ heartbeatTimeoutMs: 60_000 });
    let downs = 0;
    broker.on('down', () => downs++);
    let paused = false;
    let retried = false;
    const summary = await broker.load(Readable.from(chunks(RECORDS)), {
      loadTimeoutMs: 20_000,
      onProgress: (p) => {
        if (!paused && p.records >= 4000) {
          paused = true;
          server.kill('SIGSTOP');
          // Resumed once a batch has timed out (the server is "slow").
          void waitFor(() => retried, 'a retry', 20_000).then(() => server.kill('SIGCONT'));
        }
      },
      onRetry: () => {
        retried = true;
      },
    });
    expect(paused).toBe(true);
    expect(summary).toMatchObject({ records: RECORDS, underReplicated: 0 });
    expect(summary.retries).toBeGreaterThan(0);
    expect(downs).toBe(0);
    expect(broker.cluster.connections[0]?.up).toBe(true);
    const last = await broker.get(`key${RECORDS - 1}`);
    expect(last.found).toBe(true);
    const stats = await broker.status();
    expect(stats[0]?.keys).toBe(RECORDS);
  });

  test('down for a while: the missed heartbeat marks it down, and the load goes on once it is back', async () => {
    await start({ heartbeatTimeoutMs: 500 });
    let paused = false;
    const downs: string[] = [];
    broker.on('down', (name) => {
      downs.push(name);
      // Resumed once the broker took it as down.
      server.kill('SIGCONT');
    });
    const summary = await broker.load(Readable.from(chunks(RECORDS)), {
      loadTimeoutMs: 20_000,
      onProgress: (p) => {
        if (!paused && p.records >= 4000) {
          paused = true;
          server.kill('SIGSTOP');
        }
      },
    });
    expect(downs).toHaveLength(1);
    expect(summary).toMatchObject({ records: RECORDS, underReplicated: 0 });
    expect(summary.retries).toBeGreaterThan(0);
    const stats = await broker.status();
    expect(stats[0]?.keys).toBe(RECORDS);
  });
});
