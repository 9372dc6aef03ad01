import { createHash } from 'node:crypto';
import { R, globMatch } from '@triekv/resp';
import { RespError, SYNTAX, deleteKey, upper, type Handler, type RespContext } from './base.js';
import { matchingKeys } from './key-commands.js';

/** Server commands: INFO, DBSIZE, TIME, CONFIG GET, FLUSHALL, FLUSHDB. */

function infoText(ctx: RespContext, sections: string[]): string {
  const stats = ctx.stats();
  const memory = process.memoryUsage();
  const uptime = Number(stats.uptimeSeconds);
  const persistence = ctx.persistence();
  const sessions = [...ctx.sessions()];
  const all: Record<string, [string, string | number][]> = {
    server: [
      ['redis_version', '7.2.0'],
      ['triekv_version', ctx.version],
      ['redis_mode', 'standalone'],
      ['os', `${process.platform} ${process.arch}`],
      ['arch_bits', 64],
      ['process_id', process.pid],
      [
        'run_id',
        createHash('sha1').update(`${ctx.name} ${process.pid} ${ctx.ports().native}`).digest('hex'),
      ],
      ['tcp_port', ctx.ports().resp],
      ['triekv_native_port', ctx.ports().native],
      ['server_time_usec', Date.now() * 1000],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['executable', process.argv[1] ?? ''],
    ],
    clients: [
      ['connected_clients', sessions.length],
      ['triekv_native_clients', Number(stats.connections) - sessions.length],
    ],
    memory: [
      ['used_memory', memory.heapUsed],
      ['used_memory_human', `${(memory.heapUsed / 1048576).toFixed(2)}M`],
      ['used_memory_rss', memory.rss],
      ['used_memory_rss_human', `${(memory.rss / 1048576).toFixed(2)}M`],
      ['maxmemory', 0],
      ['maxmemory_policy', 'noeviction'],
    ],
    stats: [
      ['total_connections_received', Number(stats.connectionsTotal)],
      [
        'total_commands_processed',
        Object.values(stats.ops as Record<string, number>).reduce((a, b) => a + b, 0),
      ],
      ['total_net_input_bytes', Number(stats.bytesIn)],
      ['total_net_output_bytes', Number(stats.bytesOut)],
      ['rejected_connections', Number(stats.connectionsRefused)],
      ['total_error_replies', Number(stats.errors)],
      ['tombstones', Number(stats.tombstones)],
    ],
    persistence: [
      ['loading', 0],
      ['async_loading', 0],
      ['rdb_bgsave_in_progress', 0],
      ['aof_enabled', persistence.enabled ? 1 : 0],
      ['triekv_fsync', persistence.fsync ?? 'none'],
      ['triekv_log_bytes', persistence.logBytes ?? 0],
      ['triekv_compactions', persistence.compactions ?? 0],
    ],
    keyspace: ctx.store.size > 0 ? [['db0', `keys=${ctx.store.size},expires=0,avg_ttl=0`]] : [],
  };
  const wanted =
    sections.length === 0 || sections.some((s) => ['all', 'everything', 'default'].includes(s))
      ? Object.keys(all)
      : sections.filter((s) => s in all);
  return wanted
    .map((name) => {
      const title = `# ${name[0]?.toUpperCase()}${name.slice(1)}`;
      return [title, ...(all[name] ?? []).map(([k, v]) => `${k}:${v}`)].join('\r\n');
    })
    .join('\r\n\r\n')
    .concat('\r\n');
}

/** What CONFIG GET answers (what clients and redis-benchmark ask for). */
function configValues(ctx: RespContext): [string, string][] {
  const persistence = ctx.persistence();
  return [
    ['appendonly', persistence.enabled ? 'yes' : 'no'],
    [
      'appendfsync',
      persistence.fsync === 'always' ? 'always' : persistence.fsync === 'off' ? 'no' : 'everysec',
    ],
    ['save', ''],
    ['databases', '1'],
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
    ['port', String(ctx.ports().resp)],
    ['bind', '127.0.0.1'],
    ['timeout', '0'],
    ['proto-max-bulk-len', String(16 * 1024 * 1024)],
    ['cluster-enabled', 'no'],
  ];
}

export const SERVER_HANDLERS: Record<string, Handler> = {
  info: (ctx, _s, args, w) =>
    w.verbatim(
      infoText(
        ctx,
        args.slice(1).map((a) => a.toString('latin1').toLowerCase()),
      ),
    ),
  dbsize: (ctx, _s, _args, w) => w.integer(ctx.store.size),
  time: (_c, _s, _args, w) => {
    const micros = BigInt(Date.now()) * 1000n;
    w.reply(R.array([R.bulk(String(micros / 1_000_000n)), R.bulk(String(micros % 1_000_000n))]));
  },
  config: (ctx, _s, args, w) => {
    if (upper(args[1]) !== 'GET') throw new RespError('ERR triekv answers CONFIG GET only');
    if (args.length < 3)
      throw new RespError("ERR wrong number of arguments for 'config|get' command");
    const patterns = args.slice(2).map((a) => a.toString('utf8').toLowerCase());
    const found = configValues(ctx).filter(([name]) => patterns.some((p) => globMatch(p, name)));
    w.map(found.length);
    for (const [name, value] of found) {
      w.bulk(name);
      w.bulk(value);
    }
  },
  flushall: (ctx, _s, args, w) => {
    if (args.length > 2 || (args.length === 2 && !['ASYNC', 'SYNC'].includes(upper(args[1]))))
      throw new RespError(SYNTAX);
    for (const key of [...matchingKeys(ctx.store, '*')]) deleteKey(ctx, key);
    w.simple('OK');
  },
};
SERVER_HANDLERS.flushdb = SERVER_HANDLERS.flushall as Handler;
