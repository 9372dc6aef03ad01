import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import {
  formatDisplay,
  formatJson,
  formatRecord,
  parsePath,
  parseRecord,
  RecordError,
  type Value,
} from '@triekv/record';
import { R, formatDouble, type RespValue, type RespWriter } from '@triekv/resp';
import type { Store } from '../store.js';
import {
  INT64_MIN,
  NOT_INTEGER,
  RespError,
  SYNTAX,
  deleteKey,
  incrBy,
  keyOf,
  parseFloatArg,
  parseInt64,
  readString,
  sameSecret,
  stringOf,
  writeStringOrNull,
  writeValue,
  type Handler,
  type RespContext,
  type RespSession,
} from './base.js';
import { globMatch, literalPrefix } from './glob.js';
import { JSON_HANDLERS } from './json-commands.js';

export { RespError, type RespContext, type RespSession } from './base.js';

/** Redis's TYPE of a value: `string` for bytes, text and numbers, `ReJSON-RL` for documents and lists. */
function typeOf(value: Value): string {
  return stringOf(value) !== undefined ? 'string' : 'ReJSON-RL';
}

/**
 * SCAN's cursor: `0` to start and to say the scan is over, else the last key returned, as a decimal
 * number (its UTF-8 bytes after a 0x01 byte, read as one big-endian integer) that clients treat as an
 * opaque token and that redis-py can still parse as an int. Stateless and complete: the next call
 * returns the keys after that one, in order.
 */
export function encodeCursor(key: string): string {
  return BigInt(`0x01${Buffer.from(key, 'utf8').toString('hex')}`).toString(10);
}

export function decodeCursor(cursor: string): string | undefined {
  if (cursor === '0') return undefined;
  if (!/^[1-9][0-9]*$/.test(cursor)) throw new RespError('ERR invalid cursor');
  if (cursor.length > 4096) throw new RespError('ERR invalid cursor');
  let hex = BigInt(cursor).toString(16);
  if (hex.length % 2 !== 0) hex = `0${hex}`;
  if (!hex.startsWith('01')) throw new RespError('ERR invalid cursor');
  const bytes = Buffer.from(hex.slice(2), 'hex');
  if (!isUtf8(bytes)) throw new RespError('ERR invalid cursor');
  return bytes.toString('utf8');
}

/** Live keys matching `pattern`, in order; the trie walks only the pattern's literal prefix. */
function* matchingKeys(store: Store, pattern: string, after?: string): Generator<string> {
  const prefix = literalPrefix(pattern);
  const exact = prefix === pattern;
  let cursor = after;
  for (;;) {
    const page = store.scan(prefix, 1000, cursor);
    for (const key of page.keys) if (exact ? key === prefix : globMatch(pattern, key)) yield key;
    if (page.cursor === undefined) return;
    cursor = page.cursor;
  }
}

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

function clientLine(s: RespSession): string {
  const age = Math.floor((Date.now() - s.createdAt) / 1000);
  return `id=${s.id} addr=${s.remote} laddr=? fd=0 name=${s.name} age=${age} idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${s.lastCommand} user=default redir=-1 resp=${s.protocol} lib-name=${s.libName} lib-ver=${s.libVer}`;
}

/** HELLO's reply: a map in RESP3, a flat array in RESP2. */
function helloReply(ctx: RespContext, s: RespSession): RespValue {
  return R.fields([
    ['server', R.bulk('redis')],
    ['version', R.bulk('7.2.0')],
    ['proto', R.integer(s.protocol)],
    ['id', R.integer(s.id)],
    ['mode', R.bulk('standalone')],
    ['role', R.bulk('master')],
    ['modules', R.array([])],
    ['triekv', R.bulk(`${ctx.name} ${ctx.version}`)],
  ]);
}

const upper = (b: Buffer | undefined): string =>
  b === undefined ? '' : b.toString('latin1').toUpperCase();

/** Sets what SET-like commands set; the options of SET (NX, XX, GET) checked here. */
function set(ctx: RespContext, args: Buffer[], w: RespWriter): void {
  const key = keyOf(ctx, args[1] as Buffer);
  let nx = false;
  let xx = false;
  let get = false;
  for (const option of args.slice(3)) {
    const o = upper(option);
    if (o === 'NX' && !xx) nx = true;
    else if (o === 'XX' && !nx) xx = true;
    else if (o === 'GET') get = true;
    else if (['EX', 'PX', 'EXAT', 'PXAT', 'KEEPTTL'].includes(o))
      throw new RespError(
        'ERR triekv keeps no expiry: EX, PX, EXAT, PXAT and KEEPTTL are not supported',
      );
    else throw new RespError(SYNTAX);
  }
  const old = get ? readString(ctx, key) : undefined;
  const exists = (nx || xx) && ctx.store.has(key);
  if ((nx && exists) || (xx && !exists)) {
    if (get) w.bulk(old ?? null);
    else w.null();
    return;
  }
  writeValue(ctx, key, args[2] as Buffer);
  if (get) w.bulk(old ?? null);
  else w.simple('OK');
}

const HANDLERS: Record<string, Handler> = {
  ...JSON_HANDLERS,
  ping: (_c, _s, args, w) => (args.length > 1 ? w.bulk(args[1] as Buffer) : w.simple('PONG')),
  echo: (_c, _s, args, w) => w.bulk(args[1] as Buffer),
  select: (_c, _s, args, w) => {
    const db = (args[1] as Buffer).toString('latin1');
    if (!/^-?\d+$/.test(db)) throw new RespError(NOT_INTEGER);
    if (db !== '0')
      throw new RespError('ERR DB index is out of range (triekv has database 0 only)');
    w.simple('OK');
  },
  quit: (_c, s, _args, w) => {
    w.simple('OK');
    s.quit();
  },
  reset: (ctx, s, _args, w) => {
    s.protocol = 2;
    w.protocol = 2;
    s.name = '';
    if (ctx.authToken !== undefined) s.authenticated = false;
    w.simple('RESET');
  },
  client: (_c, s, args, w) => {
    const sub = upper(args[1]);
    switch (sub) {
      case 'SETNAME': {
        const name = args[2]?.toString('utf8');
        if (args.length !== 3 || name === undefined)
          throw new RespError("ERR wrong number of arguments for 'client|setname' command");
        if (/[\s]/.test(name))
          throw new RespError(
            'ERR Client names cannot contain spaces, newlines or special characters.',
          );
        s.name = name;
        return w.simple('OK');
      }
      case 'GETNAME':
        return w.bulk(s.name.length > 0 ? s.name : null);
      case 'ID':
        return w.integer(s.id);
      case 'INFO':
        return w.verbatim(`${clientLine(s)}\n`);
      case 'LIST':
        return w.verbatim(`${[..._c.sessions()].map(clientLine).join('\n')}\n`);
      case 'SETINFO': {
        if (args.length !== 4)
          throw new RespError("ERR wrong number of arguments for 'client|setinfo' command");
        const attr = upper(args[2]);
        const value = (args[3] as Buffer).toString('utf8');
        if (attr === 'LIB-NAME') s.libName = value;
        else if (attr === 'LIB-VER') s.libVer = value;
        else
          throw new RespError(`ERR Unrecognized option '${(args[2] as Buffer).toString('utf8')}'`);
        return w.simple('OK');
      }
      default:
        throw new RespError(
          `ERR unknown subcommand '${args[1]?.toString('utf8') ?? ''}'. Try CLIENT HELP.`,
        );
    }
  },
  command: (ctx, _s, args, w) => {
    const sub = upper(args[1]);
    const specs = ctx.table.all();
    const named = (from: number) =>
      args.length > from ? args.slice(from).map((a) => ctx.table.get(a.toString('latin1'))) : specs;
    switch (sub) {
      case '':
        return w.reply(R.array(specs.map((spec) => ctx.table.info(spec))));
      case 'COUNT':
        return w.integer(specs.length);
      case 'LIST':
        return w.reply(R.array(specs.map((spec) => R.bulk(spec.name))));
      case 'INFO':
        return w.reply(
          R.array(named(2).map((spec) => (spec === undefined ? R.null() : ctx.table.info(spec)))),
        );
      case 'DOCS':
        return w.reply(
          R.map(
            named(2)
              .filter((spec) => spec !== undefined)
              .map((spec) => ctx.table.docs(spec)),
          ),
        );
      default:
        throw new RespError(
          `ERR unknown subcommand '${(args[1] as Buffer).toString('utf8')}'. Try COMMAND HELP.`,
        );
    }
  },
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
  get: (ctx, _s, args, w) => writeStringOrNull(w, readString(ctx, keyOf(ctx, args[1] as Buffer))),
  set: (ctx, _s, args, w) => set(ctx, args, w),
  setnx: (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    if (ctx.store.has(key)) return w.integer(0);
    writeValue(ctx, key, args[2] as Buffer);
    w.integer(1);
  },
  getset: (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const old = readString(ctx, key);
    writeValue(ctx, key, args[2] as Buffer);
    w.bulk(old);
  },
  getdel: (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const old = readString(ctx, key);
    if (old !== null) deleteKey(ctx, key);
    w.bulk(old);
  },
  mget: (ctx, _s, args, w) => {
    const keys = args.slice(1).map((a) => keyOf(ctx, a));
    w.array(keys.length);
    for (const key of keys) {
      const value = ctx.store.value(key);
      // MGET answers nil for a key of another type, never WRONGTYPE.
      w.bulk(value === undefined ? null : (stringOf(value) ?? null));
    }
  },
  mset: (ctx, _s, args, w) => {
    if (args.length % 2 === 0)
      throw new RespError("ERR wrong number of arguments for 'mset' command");
    const pairs: [string, Buffer][] = [];
    for (let i = 1; i < args.length; i += 2)
      pairs.push([keyOf(ctx, args[i] as Buffer), args[i + 1] as Buffer]);
    for (const [key, value] of pairs) writeValue(ctx, key, value);
    w.simple('OK');
  },
  msetnx: (ctx, _s, args, w) => {
    if (args.length % 2 === 0)
      throw new RespError("ERR wrong number of arguments for 'msetnx' command");
    const pairs: [string, Buffer][] = [];
    for (let i = 1; i < args.length; i += 2)
      pairs.push([keyOf(ctx, args[i] as Buffer), args[i + 1] as Buffer]);
    if (pairs.some(([key]) => ctx.store.has(key))) return w.integer(0);
    for (const [key, value] of pairs) writeValue(ctx, key, value);
    w.integer(1);
  },
  append: (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const next = Buffer.concat([readString(ctx, key) ?? Buffer.alloc(0), args[2] as Buffer]);
    writeValue(ctx, key, next);
    w.integer(next.length);
  },
  strlen: (ctx, _s, args, w) =>
    w.integer(readString(ctx, keyOf(ctx, args[1] as Buffer))?.length ?? 0),
  getrange: (ctx, _s, args, w) => {
    const value = readString(ctx, keyOf(ctx, args[1] as Buffer)) ?? Buffer.alloc(0);
    let start = Number(parseInt64(args[2] as Buffer));
    let end = Number(parseInt64(args[3] as Buffer));
    const n = value.length;
    if (start < 0) start = Math.max(0, n + start);
    if (end < 0) end = n + end;
    end = Math.min(end, n - 1);
    w.bulk(start > end || n === 0 ? Buffer.alloc(0) : value.subarray(start, end + 1));
  },
  incr: (ctx, _s, args, w) => incrBy(ctx, keyOf(ctx, args[1] as Buffer), 1n, w),
  decr: (ctx, _s, args, w) => incrBy(ctx, keyOf(ctx, args[1] as Buffer), -1n, w),
  incrby: (ctx, _s, args, w) =>
    incrBy(ctx, keyOf(ctx, args[1] as Buffer), parseInt64(args[2] as Buffer), w),
  decrby: (ctx, _s, args, w) => {
    const by = parseInt64(args[2] as Buffer);
    if (by === INT64_MIN) throw new RespError('ERR decrement would overflow');
    incrBy(ctx, keyOf(ctx, args[1] as Buffer), -by, w);
  },
  incrbyfloat: (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const current = readString(ctx, key);
    const by = parseFloatArg(args[2] as Buffer);
    const n = current === null ? 0 : parseFloatArg(current);
    const next = n + by;
    if (!Number.isFinite(next)) throw new RespError('ERR increment would produce NaN or Infinity');
    const text = formatDouble(next);
    writeValue(ctx, key, Buffer.from(text));
    w.bulk(text);
  },
  del: (ctx, _s, args, w) => {
    let n = 0;
    for (const a of args.slice(1)) if (deleteKey(ctx, keyOf(ctx, a))) n++;
    w.integer(n);
  },
  exists: (ctx, _s, args, w) => {
    let n = 0;
    for (const a of args.slice(1)) if (ctx.store.has(keyOf(ctx, a))) n++;
    w.integer(n);
  },
  type: (ctx, _s, args, w) => {
    const r = ctx.store.get(keyOf(ctx, args[1] as Buffer));
    w.simple(r.found ? typeOf(r.value) : 'none');
  },
  keys: (ctx, _s, args, w) => {
    const keys = [...matchingKeys(ctx.store, (args[1] as Buffer).toString('utf8'))];
    w.array(keys.length);
    for (const key of keys) w.bulk(key);
  },
  scan: (ctx, _s, args, w) => {
    const after = decodeCursor((args[1] as Buffer).toString('latin1'));
    let pattern = '*';
    let count = 10;
    let type: string | undefined;
    for (let i = 2; i < args.length; i += 2) {
      const option = upper(args[i]);
      const value = args[i + 1];
      if (value === undefined) throw new RespError(SYNTAX);
      if (option === 'MATCH') pattern = value.toString('utf8');
      else if (option === 'COUNT') {
        count = Number(parseInt64(value));
        if (count < 1) throw new RespError(SYNTAX);
      } else if (option === 'TYPE') type = value.toString('utf8').toLowerCase();
      else throw new RespError(SYNTAX);
    }
    // COUNT is the work done per call (keys examined), as in Redis; matches are a subset of them.
    const examined = Math.min(count, ctx.maxScan);
    const prefix = literalPrefix(pattern);
    const page = ctx.store.scan(prefix, examined, after);
    const keys = page.keys.filter((key) => {
      if (!globMatch(pattern, key)) return false;
      if (type === undefined) return true;
      const r = ctx.store.get(key);
      return r.found && typeOf(r.value).toLowerCase() === type;
    });
    w.array(2);
    w.bulk(page.cursor === undefined ? '0' : encodeCursor(page.cursor));
    w.array(keys.length);
    for (const key of keys) w.bulk(key);
  },
  randomkey: (ctx, _s, _args, w) => {
    if (ctx.store.size === 0) return w.null();
    // A key after a random point of the key space (wrapping round): every key can come out.
    const start = String.fromCharCode(Math.floor(Math.random() * 128));
    const page = ctx.store.scan('', 1, start);
    const key = page.keys[0] ?? ctx.store.scan('', 1).keys[0];
    w.bulk(key ?? null);
  },
  rename: (ctx, _s, args, w) => {
    const from = keyOf(ctx, args[1] as Buffer);
    const to = keyOf(ctx, args[2] as Buffer);
    const r = ctx.store.get(from);
    if (!r.found) throw new RespError('ERR no such key');
    if (from !== to) {
      writeValue(ctx, to, r.value);
      deleteKey(ctx, from);
    }
    w.simple('OK');
  },
  'kv.get': (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const r = ctx.store.get(key);
    w.bulk(r.found ? formatRecord({ key, value: r.value }) : null);
  },
  'kv.query': (ctx, _s, args, w) => {
    let path;
    try {
      path = parsePath((args[1] as Buffer).toString('utf8'));
    } catch (error) {
      throw new RespError(`ERR ${(error as Error).message}`);
    }
    const json = args.length > 2 && upper(args[2]) === 'JSON';
    if (args.length > 3 || (args.length === 3 && !json)) throw new RespError(SYNTAX);
    const r = ctx.store.query(path[0] as string, path.slice(1));
    if (!r.found) return w.null();
    w.bulk(json ? formatJson(r.value) : formatDisplay(path, r.value));
  },
  'kv.put': (ctx, _s, args, w) => {
    let record;
    try {
      record = parseRecord(
        args
          .slice(1)
          .map((a) => a.toString('utf8'))
          .join(' '),
      );
    } catch (error) {
      if (error instanceof RecordError) throw new RespError(`ERR ${error.message}`);
      throw error;
    }
    writeValue(ctx, keyOf(ctx, Buffer.from(record.key, 'utf8')), record.value);
    w.simple('OK');
  },
  'kv.scan': (ctx, _s, args, w) => {
    const prefix = args[1]?.toString('utf8') ?? '';
    const limit = args[2] === undefined ? 1000 : Number(parseInt64(args[2]));
    if (limit < 1 || args.length > 3) throw new RespError(SYNTAX);
    const keys: string[] = [];
    let after: string | undefined;
    while (keys.length < limit) {
      const page = ctx.store.scan(prefix, Math.min(limit - keys.length, ctx.maxScan), after);
      keys.push(...page.keys);
      if (page.cursor === undefined) break;
      after = page.cursor;
    }
    w.array(keys.length);
    for (const key of keys) w.bulk(key);
  },
};
HANDLERS.flushdb = HANDLERS.flushall as Handler;
HANDLERS.unlink = HANDLERS.del as Handler;

/** Command names as clients send them, in either case, to their lower-case form (no string built). */
const NAMES = new Map<string, string>();
/** STATS keys of the commands, `resp:<name>`, made once. */
const COUNTERS = new Map<string, string>();
for (const name of Object.keys(HANDLERS).concat(['auth', 'hello'])) {
  NAMES.set(name, name);
  NAMES.set(name.toUpperCase(), name);
  COUNTERS.set(name, `resp:${name}`);
}

/** Commands a connection may send before it has authenticated. */
const BEFORE_AUTH = new Set(['auth', 'hello', 'quit', 'reset']);

/**
 * Runs one command: the table's arity check, authentication, then its handler, writing the reply
 * (an error reply when it fails). Pure apart from the store and the session.
 */
export function execute(ctx: RespContext, s: RespSession, args: Buffer[], w: RespWriter): void {
  const raw = (args[0] as Buffer).toString('latin1');
  const name = NAMES.get(raw) ?? raw.toLowerCase();
  s.lastCommand = name;
  const spec = ctx.table.get(name);
  const handler =
    spec === undefined
      ? undefined
      : name === 'hello' || name === 'auth'
        ? undefined
        : HANDLERS[name];
  try {
    if (spec === undefined) {
      const shown = args
        .slice(1, 6)
        .map((a) => `'${a.toString('utf8').slice(0, 64)}' `)
        .join('');
      throw new RespError(
        `ERR unknown command '${(args[0] as Buffer).toString('utf8').slice(0, 128)}', with args beginning with: ${shown}`,
      );
    }
    if (!s.authenticated && !BEFORE_AUTH.has(name))
      throw new RespError('NOAUTH Authentication required.');
    const arity = ctx.table.arityError(spec, args.length);
    if (arity !== undefined) throw new RespError(arity);
    ctx.counters.count(COUNTERS.get(name) ?? `resp:${name}`);
    if (name === 'auth') return auth(ctx, s, args, w);
    if (name === 'hello') return hello(ctx, s, args, w);
    (handler as Handler)(ctx, s, args, w);
  } catch (error) {
    ctx.counters.errors++;
    if (error instanceof RespError) return w.error(error.message);
    ctx.log.error({ err: error, command: name }, 'RESP command failed');
    w.error('ERR internal error (see the server log)');
  }
}

function checkPassword(ctx: RespContext, s: RespSession, user: string, password: string): void {
  if (ctx.authToken === undefined)
    throw new RespError(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  if (user !== 'default' || !sameSecret(password, ctx.authToken))
    throw new RespError('WRONGPASS invalid username-password pair or user is disabled.');
  s.authenticated = true;
}

function auth(ctx: RespContext, s: RespSession, args: Buffer[], w: RespWriter): void {
  if (args.length > 3) throw new RespError(SYNTAX);
  const user = args.length === 3 ? (args[1] as Buffer).toString('utf8') : 'default';
  checkPassword(ctx, s, user, (args[args.length - 1] as Buffer).toString('utf8'));
  w.simple('OK');
}

function hello(ctx: RespContext, s: RespSession, args: Buffer[], w: RespWriter): void {
  let protocol = s.protocol;
  let i = 1;
  if (args.length > 1) {
    const version = (args[1] as Buffer).toString('latin1');
    if (!/^\d+$/.test(version))
      throw new RespError('ERR Protocol version is not an integer or out of range');
    if (version !== '2' && version !== '3')
      throw new RespError('NOPROTO unsupported protocol version');
    protocol = Number(version) as 2 | 3;
    i = 2;
  }
  let name: string | undefined;
  for (; i < args.length; i++) {
    const option = upper(args[i]);
    if (option === 'AUTH' && i + 2 < args.length) {
      checkPassword(
        ctx,
        s,
        (args[i + 1] as Buffer).toString('utf8'),
        (args[i + 2] as Buffer).toString('utf8'),
      );
      i += 2;
    } else if (option === 'SETNAME' && i + 1 < args.length) {
      name = (args[++i] as Buffer).toString('utf8');
    } else
      throw new RespError(
        `ERR Syntax error in HELLO option '${(args[i] as Buffer).toString('utf8')}'`,
      );
  }
  if (!s.authenticated)
    throw new RespError(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  s.protocol = protocol;
  w.protocol = protocol;
  if (name !== undefined) s.name = name;
  w.reply(helloReply(ctx, s));
}
