import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import parse, { type MetricFamily } from 'parse-prometheus-text-format';
import { Broker } from '@triekv/broker';
import { brokerHttp, type HttpService } from '@triekv/observe';
import { parseValue, type Doc } from '@triekv/record';
import { rawExchange, startServerProcess, waitFor, type ServerProcess } from '@triekv/test-utils';

/** The parsed families (and the text: the parser drops the labels of histogram series). */
const scrape = async (
  port: number,
  headers: Record<string, string> = {},
): Promise<MetricFamily[] & { text: string }> => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return Object.assign(parse(text), { text });
};
/** A histogram series' `_count`, read from the text. */
const histogramCount = (text: string, name: string, labels: string): number =>
  Number(new RegExp(`^${name}_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
const family = (all: MetricFamily[], name: string): MetricFamily => {
  const f = all.find((m) => m.name === name);
  if (f === undefined)
    throw new Error(`no metric ${name} (have ${all.map((m) => m.name).join(', ')})`);
  return f;
};
const value = (f: MetricFamily, labels: Record<string, string> = {}): number =>
  Number(
    f.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ??
      NaN,
  );

describe('metrics and health over HTTP', () => {
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];
  let broker: Broker | undefined;
  let http: HttpService | undefined;

  afterEach(async () => {
    await http?.close();
    await broker?.close();
    http = undefined;
    broker = undefined;
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.splice(0).map((s) => s.exited));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('kv-server --metrics-port: requests by type and outcome, latency, keys, process metrics, fsyncs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triekv-metrics-'));
    dirs.push(dir);
    const server = await startServerProcess(['--metrics-port', '0', '--data-dir', dir]);
    servers.push(server);
    broker = new Broker({ servers: [{ host: '127.0.0.1', port: server.port }], k: 1 });
    await broker.start();
    const doc = parseValue('{ "a" : 1 }') as Doc;
    for (let i = 0; i < 50; i++) await broker.put(`k${i}`, doc);
    for (let i = 0; i < 30; i++) await broker.get(`k${i}`);
    for (let i = 0; i < 5; i++) await broker.get(`missing${i}`);
    const metrics = await scrape(server.metricsPort!);
    const requests = family(metrics, 'triekv_server_requests_total');
    expect(requests.type).toBe('COUNTER');
    expect(value(requests, { type: 'PUT', outcome: 'OK' })).toBe(50);
    expect(value(requests, { type: 'GET', outcome: 'OK' })).toBe(30);
    expect(value(requests, { type: 'GET', outcome: 'NOT_FOUND' })).toBe(5);
    const latency = family(metrics, 'triekv_server_request_duration_seconds');
    expect(latency.type).toBe('HISTOGRAM');
    expect(
      histogramCount(metrics.text, 'triekv_server_request_duration_seconds', 'type="PUT"'),
    ).toBe(50);
    expect(value(family(metrics, 'triekv_server_keys'))).toBe(50);
    expect(value(family(metrics, 'triekv_server_connections'))).toBeGreaterThanOrEqual(1);
    expect(value(family(metrics, 'triekv_server_bytes_in_total'))).toBeGreaterThan(0);
    expect(value(family(metrics, 'triekv_server_log_bytes'))).toBeGreaterThan(0);
    expect(family(metrics, 'triekv_server_fsync_duration_seconds').type).toBe('HISTOGRAM');
    expect(
      Number(/^triekv_server_fsync_duration_seconds_count (\d+)$/m.exec(metrics.text)?.[1]),
    ).toBeGreaterThan(0);
    // prom-client's process metrics, named triekv_* too.
    expect(value(family(metrics, 'triekv_process_cpu_user_seconds_total'))).toBeGreaterThan(0);
    expect(metrics.every((m) => m.name.startsWith('triekv_'))).toBe(true);
    const health = await fetch(`http://127.0.0.1:${server.metricsPort!}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
  });

  it("kv-server's metrics want its auth token as a bearer token; /healthz does not", async () => {
    const server = await startServerProcess(['--metrics-port', '0', '--auth-token', 's3cret']);
    servers.push(server);
    const port = server.metricsPort!;
    const refused = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="triekv"');
    expect(
      (
        await fetch(`http://127.0.0.1:${port}/metrics`, {
          headers: { authorization: 'Bearer nope' },
        })
      ).status,
    ).toBe(401);
    await scrape(port, { authorization: 'Bearer s3cret' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it("the broker's /metrics under load: operations, latency, per-server up/down, degraded reads", async () => {
    const three = await Promise.all([0, 1, 2].map(() => startServerProcess()));
    servers.push(...three);
    broker = new Broker({
      servers: three.map((s) => ({ host: '127.0.0.1', port: s.port })),
      k: 2,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
    });
    await broker.start();
    http = brokerHttp(broker, { port: 0 });
    const { port } = await http.listen();
    await broker.load(
      Readable.from([Array.from({ length: 100 }, (_, i) => `"k${i}" : { "i" : ${i} }`).join('\n')]),
    );
    await Promise.all(Array.from({ length: 100 }, (_, i) => broker!.get(`k${i}`)));
    let metrics = await scrape(port);
    const ops = family(metrics, 'triekv_broker_operations_total');
    expect(value(ops, { op: 'get', outcome: 'ok' })).toBe(100);
    expect(family(metrics, 'triekv_broker_operation_duration_seconds').type).toBe('HISTOGRAM');
    expect(
      histogramCount(metrics.text, 'triekv_broker_operation_duration_seconds', 'op="get"'),
    ).toBe(100);
    const up = family(metrics, 'triekv_broker_server_up');
    expect(up.metrics.map((m) => Number(m.value))).toEqual([1, 1, 1]);
    expect(value(family(metrics, 'triekv_broker_k'))).toBe(2);
    // Two of three servers down (k of them): reads still answer, counted as degraded.
    for (const s of three.slice(0, 2)) s.kill('SIGKILL');
    await waitFor(() => broker!.cluster.connections.filter((c) => !c.up).length === 2);
    for (let i = 0; i < 10; i++) await broker.get(`k${i}`);
    metrics = await scrape(port);
    expect(value(family(metrics, 'triekv_broker_degraded_reads_total'))).toBe(10);
    expect(
      family(metrics, 'triekv_broker_server_up')
        .metrics.map((m) => Number(m.value))
        .sort(),
    ).toEqual([0, 0, 1]);
  });

  it('answers bad requests with a clear 4xx and keeps serving', async () => {
    const [one] = await Promise.all([startServerProcess()]);
    servers.push(one);
    broker = new Broker({ servers: [{ host: '127.0.0.1', port: one.port }], k: 1 });
    await broker.start();
    http = brokerHttp(broker, { port: 0 });
    const { port } = await http.listen();
    const get = (path: string, init?: RequestInit): Promise<Response> =>
      fetch(`http://127.0.0.1:${port}${path}`, init);
    expect((await get('/nope')).status).toBe(404);
    const post = await get('/metrics', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const limit = await get('/api/keys?limit=0');
    expect(limit.status).toBe(400);
    expect(await limit.text()).toMatch(/limit must be a whole number from 1 to 1000, got "0"/);
    expect(await (await get('/api/record')).text()).toBe('missing the key parameter\n');
    const badPath = await get(`/api/query?path=${encodeURIComponent('a."b')}`);
    expect(badPath.status).toBe(400);
    expect(await badPath.text()).toMatch(/^bad path: /);
    const big = await get('/login', { method: 'POST', body: 'token='.padEnd(10_000, 'x') });
    expect([413, 400]).toContain(big.status);
    // A request line that is not HTTP: a 400 from Node, and the listener goes on.
    const raw = (await rawExchange(port, 'GARBAGE\r\n\r\n')).text;
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('the dashboard with a token: a login form, a cookie, bearer tokens for the API', async () => {
    const [one] = await Promise.all([startServerProcess()]);
    servers.push(one);
    broker = new Broker({ servers: [{ host: '127.0.0.1', port: one.port }], k: 1 });
    await broker.start();
    http = brokerHttp(broker, { port: 0, authToken: 'letmein' });
    const { port } = await http.listen();
    const url = (path: string): string => `http://127.0.0.1:${port}${path}`;
    const page = await fetch(url('/'), { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    expect((await fetch(url('/api/state'))).status).toBe(401);
    expect(await (await fetch(url('/login'))).text()).toMatch(
      /<form method="post" action="\/login">/,
    );
    const login = (token: string): Promise<Response> =>
      fetch(url('/login'), {
        method: 'POST',
        body: `token=${token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        redirect: 'manual',
      });
    const wrong = await login('nope');
    expect(wrong.headers.get('location')).toBe('/login?wrong=1');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const right = await login('letmein');
    expect(right.headers.get('location')).toBe('/');
    const cookie = (right.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(cookie).toBe('triekv_token=letmein');
    const state = await fetch(url('/api/state'), { headers: { cookie } });
    expect(state.status).toBe(200);
    expect(((await state.json()) as { servers: unknown[] }).servers).toHaveLength(1);
    expect(
      (await fetch(url('/metrics'), { headers: { authorization: 'Bearer letmein' } })).status,
    ).toBe(200);
  });

  it('kv-broker --http-port (service mode) prints the dashboard URL, serves it, stops on SIGTERM', async () => {
    const [one] = await Promise.all([startServerProcess()]);
    servers.push(one);
    const dir = mkdtempSync(join(tmpdir(), 'triekv-metrics-'));
    dirs.push(dir);
    const file = join(dir, 'servers.txt');
    writeFileSync(file, `127.0.0.1 ${one.port}\n`);
    const bin = join(__dirname, '..', '..', 'kv-broker', 'bin', 'kv-broker.js');
    const child = spawn(
      process.execPath,
      [bin, '-s', file, '-k', '1', '--resp-port', '0', '--http-port', '0', '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const line = (await waitFor(
        () => /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr),
        'the dashboard URL on stderr',
      )) as RegExpExecArray;
      const home = await fetch(line[1] as string);
      expect(home.status).toBe(200);
      expect(await home.text()).toMatch(/<title>triekv cluster<\/title>/);
      const js = await fetch(`${line[1] as string}assets/uPlot.iife.min.js`);
      expect(js.status).toBe(200);
      expect((await js.text()).length).toBeGreaterThan(10_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
