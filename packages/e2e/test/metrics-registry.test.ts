import { Broker } from '@triekv/broker';
import { brokerMetrics, createRegistry, serverMetrics } from '@triekv/observe';
import { parseValue } from '@triekv/record';
import { startServer } from '@triekv/test-utils';

/** The value of one series in the text format, or undefined. */
const series = (text: string, line: string): number | undefined => {
  const escaped = line.replace(/[{}"().*+?^$|[\]\\]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
};

describe('the metric registry', () => {
  it('serverMetrics reads the server at scrape time and counts requests by type and outcome', async () => {
    const { server, port } = await startServer();
    const registry = createRegistry();
    serverMetrics(registry, server);
    const broker = new Broker({ servers: [{ host: '127.0.0.1', port }], k: 1 });
    try {
      await broker.start();
      const empty = await registry.metrics();
      expect(series(empty, 'triekv_server_keys')).toBe(0);
      await broker.put('a', parseValue('{ "x" : 1 }'));
      await broker.delete('a');
      await broker.get('a');
      const text = await registry.metrics();
      expect(series(text, 'triekv_server_keys')).toBe(0);
      expect(series(text, 'triekv_server_tombstones')).toBe(1);
      expect(series(text, 'triekv_server_requests_total{type="PUT",outcome="OK"}')).toBe(1);
      expect(series(text, 'triekv_server_requests_total{type="DELETE",outcome="OK"}')).toBe(1);
      expect(series(text, 'triekv_server_requests_total{type="GET",outcome="NOT_FOUND"}')).toBe(1);
      expect(series(text, 'triekv_server_request_duration_seconds_count{type="GET"}')).toBe(1);
      // Read at scrape time: a second scrape sees the new state, counters do not double.
      expect(
        series(await registry.metrics(), 'triekv_server_requests_total{type="PUT",outcome="OK"}'),
      ).toBe(1);
      expect(text).toMatch(/^# TYPE triekv_server_bytes_in_total counter$/m);
      expect(text).toMatch(/^# TYPE triekv_process_cpu_user_seconds_total counter$/m);
    } finally {
      await broker.close();
      await server.close();
    }
  });

  it('brokerMetrics counts operations, their outcome and latency, and each server up or down', async () => {
    const { server, port } = await startServer();
    const broker = new Broker({ servers: [{ host: '127.0.0.1', port }], k: 1 });
    const registry = createRegistry();
    brokerMetrics(registry, broker);
    try {
      await broker.start();
      await broker.put('a', parseValue('{ "x" : 1 }'));
      await broker.get('a');
      await broker.get('b');
      await broker.scan('', 10);
      const text = await registry.metrics();
      expect(series(text, 'triekv_broker_operations_total{op="put",outcome="ok"}')).toBe(1);
      expect(series(text, 'triekv_broker_operations_total{op="get",outcome="ok"}')).toBe(1);
      expect(series(text, 'triekv_broker_operations_total{op="get",outcome="not_found"}')).toBe(1);
      expect(series(text, 'triekv_broker_operations_total{op="scan",outcome="ok"}')).toBe(1);
      expect(series(text, 'triekv_broker_operation_duration_seconds_count{op="get"}')).toBe(2);
      expect(series(text, `triekv_broker_server_up{server="127.0.0.1:${port}"}`)).toBe(1);
      expect(series(text, 'triekv_broker_members')).toBe(1);
      expect(series(text, 'triekv_broker_rebalancing')).toBe(0);
      await server.close();
      const after = await (async () => {
        for (;;) {
          const t = await registry.metrics();
          if (series(t, `triekv_broker_server_up{server="127.0.0.1:${port}"}`) === 0) return t;
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      await expect(broker.get('a')).rejects.toThrow();
      expect(series(after, 'triekv_broker_server_up{server="127.0.0.1:' + port + '"}')).toBe(0);
      expect(
        series(
          await registry.metrics(),
          'triekv_broker_operations_total{op="get",outcome="error"}',
        ),
      ).toBe(1);
    } finally {
      await broker.close();
      await server.close();
    }
  });
});
