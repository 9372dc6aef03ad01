/**
 * @packageDocumentation
 * Watching a triekv cluster: an HTTP listener with `/metrics` (Prometheus text format, `prom-client`,
 * every metric named `triekv_*`) and `/healthz` for kv-server (`--metrics-port`) and kv-broker
 * (`--http-port`), and the broker's web dashboard: servers, traffic charts (uPlot), membership and
 * repair progress, and a key browser over the trie's SCAN. Static files, no build step, no CDN.
 *
 * @example
 * ```ts
 * import { Broker } from '@triekv/broker';
 * import { brokerHttp } from '@triekv/observe';
 *
 * const broker = new Broker({ servers: [{ host: '127.0.0.1', port: 8000 }], k: 1 });
 * await broker.start();
 * const http = brokerHttp(broker, { port: 8080 });
 * await http.listen(); // open http://127.0.0.1:8080/
 * ```
 */
import type { Broker } from '@triekv/broker';
import type { KvServer, TlsOptions } from '@triekv/server';
import { Dashboard } from './dashboard.js';
import { HttpService } from './http.js';
import { brokerMetrics, createRegistry, serverMetrics } from './metrics.js';

export {
  HttpError,
  HttpService,
  MAX_BODY_BYTES,
  TOKEN_COOKIE,
  carriesToken,
  type HttpOptions,
  type Route,
} from './http.js';
export { Dashboard, KEY_PAGE, type DashboardServer, type DashboardState } from './dashboard.js';
export { brokerMetrics, createRegistry, serverMetrics } from './metrics.js';

/** Where an HTTP listener binds, and its token. */
export interface ListenOptions {
  /** @default '127.0.0.1' */
  host?: string;
  port: number;
  authToken?: string;
  /** HTTPS. */
  tls?: TlsOptions;
}

/** kv-server's HTTP listener: `/metrics` (process and server metrics) and `/healthz`. */
export function serverHttp(server: KvServer, options: ListenOptions): HttpService {
  const registry = createRegistry();
  serverMetrics(registry, server);
  return new HttpService({ ...options, registry });
}

/** kv-broker's HTTP listener: `/metrics`, `/healthz` and the dashboard at `/`. */
export function brokerHttp(
  broker: Broker,
  options: ListenOptions & { intervalMs?: number },
): HttpService {
  const registry = createRegistry();
  brokerMetrics(registry, broker);
  const dashboard = new Dashboard(broker, options);
  const service = new HttpService({
    ...options,
    registry,
    routes: dashboard.routes(),
    loginPath: '/login',
  });
  const close = service.close.bind(service);
  service.close = async () => {
    dashboard.stop();
    await close();
  };
  return service;
}
