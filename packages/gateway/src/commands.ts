import {
  DeleteRefusedError,
  versionText,
  UnavailableError,
  BrokerError,
  run as runLine,
  type Broker,
  type ReadResult,
} from '@triekv/broker';
import { formatJson, parsePath, parseRecord, parseValue, type Value } from '@triekv/record';
import {
  BEFORE_AUTH,
  NameIndex,
  RespError,
  RespWriter,
  SYNTAX,
  countArg,
  parseScanOptions,
  globMatch,
  literalPrefix,
  type CommandSpec,
  type ParserLimits,
  type RespSession,
} from '@triekv/resp';
import { Store, executeResp, respType, type RespContext } from '@triekv/server';

/** Counters of a gateway, for INFO. */
export interface GatewayStats {
  connectionsTotal: number;
  commands: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  /** Reads answered while k or more servers were down (the answer may be wrong). */
  degradedReads: number;
  /** Writes acknowledged by fewer than k replicas. */
  underReplicated: number;
  /** Deletes refused because a server that may hold the key is down. */
  refusedDeletes: number;
}

/**
 * What the gateway's commands work with. Commands on keys run the server's own RESP handlers (the
 * same replies, errors and JSON paths as kv-server's port) over a scratch store holding what the
 * cluster has of those keys; the writes they make there are then made on the cluster.
 */
export interface GatewayContext extends RespContext {
  broker: Broker;
  limits: ParserLimits;
  preAuthMaxBytes: number;
  /** Degraded reads answer `-DEGRADED ...` instead of a possibly wrong value. */
  strictReads: boolean;
  /** RESP3 replies to degraded reads carry the warning as an attribute (`|1`). */
  degradedAttributes: boolean;
  /** Keys asked of each server per page of KEYS, SCAN and DBSIZE. */
  scanPage: number;
  counts: GatewayStats;
  /** The gateway's own commands (INFO, KEYS, SCAN, DBSIZE, DEL, KV.SCAN, KV.COMPUTE, ...). */
  own: Record<string, OwnHandler>;
}

export type OwnHandler = (
  ctx: GatewayContext,
  s: RespSession,
  args: Buffer[],
  w: RespWriter,
) => Promise<void> | void;

/** How a command is run: by the gateway itself, over its keys' records, or with no keys at all. */
type Route = 'own' | 'keys' | 'none';

interface Entry {
  name: string;
  spec: CommandSpec;
  route: Route;
}

/** The store commands without keys see: always empty. */
const NO_KEYS = new Store();

const INDEXES = new WeakMap<GatewayContext, NameIndex<Entry>>();

function indexOf(ctx: GatewayContext): NameIndex<Entry> {
  let index = INDEXES.get(ctx);
  if (index === undefined) {
    index = new NameIndex<Entry>();
    for (const spec of ctx.table.all()) {
      // KV.PUT names its key inside its record (the table gives it no key position).
      const route: Route =
        ctx.own[spec.name] !== undefined
          ? 'own'
          : spec.firstKey > 0 || spec.name === 'kv.put'
            ? 'keys'
            : 'none';
      index.set(spec.name, { name: spec.name, spec, route });
    }
    INDEXES.set(ctx, index);
  }
  return index;
}

/** The keys a command names, by its spec's key positions (KV.PUT's is inside its record). */
export function commandKeys(name: string, spec: CommandSpec, args: Buffer[]): string[] {
  if (name === 'kv.query') return [String(parsePath((args[1] as Buffer).toString('utf8'))[0])];
  const keys: string[] = [];
  if (spec.firstKey <= 0) return keys;
  const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < args.length; i += Math.max(1, spec.step))
    keys.push((args[i] as Buffer).toString('utf8'));
  return keys;
}

/**
 * Whether a command replaces its records whole whatever they hold, so nothing need be read first:
 * SET without options, MSET, KV.PUT, and JSON.SET at the root without NX or XX.
 */
function blindWrite(name: string, args: Buffer[]): boolean {
  if (name === 'set') return args.length === 3;
  if (name === 'mset' || name === 'kv.put') return true;
  if (name === 'json.set') {
    const path = args[2]?.toString('latin1');
    return args.length === 4 && (path === '$' || path === '.');
  }
  return false;
}

/** The warning of the first degraded read among `reads`, or undefined. */
function degradation(reads: ReadResult[]): string | undefined {
  for (const r of reads) if (r.warnings.length > 0) return r.warnings.join('; ');
  return undefined;
}

/** A broker failure as a RESP error: refused deletes and unreachable replicas say UNAVAILABLE. */
export function clusterError(error: unknown): RespError {
  if (error instanceof DeleteRefusedError)
    return new RespError(`UNAVAILABLE ${error.message.replace(/; nothing was deleted$/, '')}`);
  if (error instanceof UnavailableError) return new RespError(`UNAVAILABLE ${error.message}`);
  if (error instanceof BrokerError) return new RespError(`ERR ${error.message}`);
  if (error instanceof RespError) return error;
  throw error;
}

/** Flags a degraded read: counted, logged, an error under `strictReads`, else a RESP3 attribute. */
function degraded(ctx: GatewayContext, w: RespWriter, warning: string, what: string): void {
  ctx.counts.degradedReads++;
  ctx.log.warn({ warning, command: what }, 'degraded read');
  if (ctx.strictReads) throw new RespError(`DEGRADED ${warning}`);
  if (ctx.degradedAttributes) w.attributes([['warning', warning]]);
}

/**
 * A command on keys: reads what the cluster holds of them (newest version, with read repair), runs
 * kv-server's handler over a scratch store of those records, then writes what it changed to the
 * cluster (k replicas each, versioned by the gateway's clock) before the reply goes out. Not atomic
 * across replicas: two gateways incrementing one key at once can lose an increment.
 */
async function onKeys(
  ctx: GatewayContext,
  s: RespSession,
  entry: Entry,
  args: Buffer[],
  w: RespWriter,
): Promise<void> {
  const { broker } = ctx;
  const keys = blindWrite(entry.name, args)
    ? []
    : [...new Set(commandKeys(entry.name, entry.spec, args))];
  const reads = await Promise.all(keys.map((key) => broker.get(key)));
  // The commonest command, answered from the read itself when it found bytes or nothing.
  if (entry.name === 'get') {
    const r = reads[0] as ReadResult;
    if (!r.found || r.value instanceof Uint8Array) {
      const warning = degradation(reads);
      if (warning !== undefined) degraded(ctx, w, warning, entry.name);
      return w.bulk(r.found ? (r.value as Uint8Array) : null);
    }
  }
  const scratch = new Store();
  reads.forEach((r, i) => {
    if (r.found && r.version !== undefined)
      scratch.put(keys[i] as string, r.value as Value, r.version);
  });
  const written = new Set<string>();
  const reply = new RespWriter(s.protocol);
  ctx.store = scratch;
  ctx.journal = (key) => written.add(key);
  try {
    executeResp(ctx, s, args, reply);
  } finally {
    ctx.journal = undefined;
  }
  // A HELLO inside is not possible here (no keys); the reply's protocol is the session's.
  const writes = [...written].map(async (key) => {
    const value = scratch.value(key);
    if (value === undefined) return broker.delete(key);
    const result = await broker.put(key, value);
    if (result.replicas < broker.k) ctx.counts.underReplicated++;
    return result;
  });
  try {
    await Promise.all(writes);
  } catch (error) {
    throw clusterError(error);
  }
  const warning = degradation(reads);
  if (warning !== undefined) degraded(ctx, w, warning, entry.name);
  w.append(reply.take());
}

/**
 * Runs one command: the table's arity check and authentication, then its route; an error reply when
 * it fails. Resolves once its reply is in `w`.
 */
export async function execute(
  ctx: GatewayContext,
  s: RespSession,
  args: Buffer[],
  w: RespWriter,
): Promise<void> {
  ctx.counts.commands++;
  const entry = indexOf(ctx).get(args[0] as Buffer);
  try {
    if (entry === undefined || entry.route === 'none') {
      // Connection and server commands (and unknown ones) as kv-server answers them, over no keys.
      ctx.store = NO_KEYS;
      executeResp(ctx, s, args, w);
      return;
    }
    s.lastCommand = entry.name;
    if (!s.authenticated && !BEFORE_AUTH.has(entry.name))
      throw new RespError('NOAUTH Authentication required.');
    const arity = ctx.table.arityError(entry.spec, args.length);
    if (arity !== undefined) throw new RespError(arity);
    if (entry.route === 'own') await (ctx.own[entry.name] as OwnHandler)(ctx, s, args, w);
    else await onKeys(ctx, s, entry, args, w);
  } catch (error) {
    ctx.counts.errors++;
    if (error instanceof RespError) return w.error(error.message);
    if (error instanceof BrokerError) return w.error(clusterError(error).message);
    ctx.log.error({ err: error, command: entry?.name }, 'gateway command failed');
    w.error('ERR internal error (see the gateway log)');
  }
}

/**
 * The keys a command touches, for running a connection's commands side by side, or undefined for one
 * that must wait for everything before it and hold back everything after it: connection and server
 * commands (they change the session: AUTH, HELLO, SELECT, QUIT...), whole-key-space commands and
 * anything unknown.
 */
export function keysOfCommand(ctx: GatewayContext, args: Buffer[]): string[] | undefined {
  const entry = indexOf(ctx).get(args[0] as Buffer);
  if (entry === undefined || entry.route === 'none') return undefined;
  if (entry.name === 'del' || entry.name === 'unlink')
    return args.slice(1).map((a) => a.toString('utf8'));
  if (entry.name === 'kv.vread' || entry.name === 'kv.vput' || entry.name === 'kv.vdel')
    return [(args[1] as Buffer).toString('utf8')];
  if (entry.route === 'own') return undefined;
  try {
    if (entry.name === 'kv.put')
      return [
        parseRecord(
          args
            .slice(1)
            .map((a) => a.toString('utf8'))
            .join(' '),
        ).key,
      ];
    return commandKeys(entry.name, entry.spec, args);
  } catch {
    // A command whose keys cannot be read fails on its own; in line with the others, to be safe.
    return undefined;
  }
}

/** Every live key of the cluster matching `pattern`, page by page (the prefix walked only). */
async function* clusterKeys(ctx: GatewayContext, pattern: string): AsyncGenerator<string> {
  const prefix = literalPrefix(pattern);
  const exact = prefix === pattern;
  let after: string | undefined;
  for (;;) {
    const page = await ctx.broker.scan(prefix, ctx.scanPage, after === undefined ? {} : { after });
    for (const key of page.keys) if (exact ? key === prefix : globMatch(pattern, key)) yield key;
    if (page.cursor === undefined) return;
    after = page.cursor;
  }
}

/** KV.CLUSTER INFO's text: the membership, its members, and how far a move is. */
export function membershipInfo(broker: Broker): string {
  const m = broker.membership();
  const state = new Map(broker.cluster.connections.map((c) => [c.name, c.up ? 'up' : 'down']));
  const lines: [string, string | number][] = [
    ['membership_version', m.version === undefined ? 'none' : versionText(m.version)],
    ['members', m.members.length],
    ...m.members.map((x, i): [string, string] => [
      `member${i}`,
      `name=${x.name},address=${x.host}:${x.port},state=${state.get(x.name) ?? 'unknown'}`,
    ]),
    ...(m.previous ?? []).map((x, i): [string, string] => [
      `previous${i}`,
      `name=${x.name},address=${x.host}:${x.port}`,
    ]),
    ['last_change', m.change ?? 'none'],
    ['rebalancing', m.rebalancing ? 1 : 0],
  ];
  const p = m.progress;
  if (p !== undefined)
    lines.push(
      ['rebalance_phase', p.phase],
      ['rebalance_scanned', p.scanned],
      ['rebalance_total', p.total],
      ['rebalance_copied', p.copied],
      ['rebalance_removed', p.removed],
    );
  return `# Membership\r\n${lines.map(([k, v]) => `${k}:${v}`).join('\r\n')}\r\n`;
}

/** The bulk-string array of a list of strings. */
function strings(w: RespWriter, items: readonly string[]): void {
  w.array(items.length);
  for (const item of items) w.bulk(item);
}

/**
 * A write that failed: `-UNAVAILABLE version=W:C:N ...` when it was sent at a version some replica may
 * have applied (the outcome is unknown), as `clusterError` otherwise.
 */
function versionedError(error: unknown): RespError {
  if (error instanceof UnavailableError && error.version !== undefined)
    return new RespError(`UNAVAILABLE version=${versionText(error.version)} ${error.message}`);
  return clusterError(error);
}

/** A read's reply for the versioned commands: [found, version or nil, JSON or nil, servers, warnings]. */
function versionedRead(w: RespWriter, r: ReadResult): void {
  w.array(5);
  w.integer(r.found ? 1 : 0);
  w.bulk(r.version === undefined ? null : versionText(r.version));
  w.bulk(r.found && r.value !== undefined ? formatJson(r.value) : null);
  strings(w, r.servers);
  strings(w, r.warnings);
}

/**
 * triekv's versioned commands, for clients that check what the cluster did (the torture test): each
 * answers with the version read or written, the servers involved and the warnings, as the library does.
 */
const VERSIONED: Record<string, OwnHandler> = {
  'kv.vread': async (ctx, _s, args, w) => {
    const key = (args[1] as Buffer).toString('utf8');
    const path =
      args[2] === undefined ? [] : (JSON.parse(args[2].toString('utf8')) as (string | number)[]);
    versionedRead(
      w,
      path.length === 0 ? await ctx.broker.get(key) : await ctx.broker.query([key, ...path]),
    );
  },
  'kv.vput': async (ctx, _s, args, w) => {
    let value: Value;
    try {
      value = parseValue((args[2] as Buffer).toString('utf8'));
    } catch (error) {
      throw new RespError(`ERR invalid value: ${(error as Error).message}`);
    }
    try {
      const r = await ctx.broker.put((args[1] as Buffer).toString('utf8'), value);
      w.array(4);
      w.bulk(versionText(r.version));
      w.integer(r.replicas);
      strings(w, r.servers);
      strings(w, r.warnings);
    } catch (error) {
      throw versionedError(error);
    }
  },
  'kv.vdel': async (ctx, _s, args, w) => {
    try {
      const r = await ctx.broker.delete((args[1] as Buffer).toString('utf8'));
      w.array(4);
      w.bulk(versionText(r.version));
      w.integer(r.found === true ? 1 : 0);
      strings(w, r.servers);
      strings(w, r.warnings);
    } catch (error) {
      if (error instanceof DeleteRefusedError) ctx.counts.refusedDeletes++;
      throw versionedError(error);
    }
  },
  'kv.vscan': async (ctx, _s, args, w) => {
    const r = await ctx.broker.scan((args[1] as Buffer).toString('utf8'), countArg(args[2]));
    w.array(2);
    strings(w, r.keys);
    strings(w, r.warnings);
  },
};

/** The gateway's own commands: those over the whole key space, and those a broker answers itself. */
export const OWN_HANDLERS: Record<string, OwnHandler> = {
  ...VERSIONED,
  del: async (ctx, _s, args, w) => {
    // Every key is deleted through the broker, which refuses when a server that may hold it is down:
    // nothing is read first, so a key only a down server holds is refused too.
    const keys = [...new Set(args.slice(1).map((a) => a.toString('utf8')))];
    // All or nothing: refused before anything is deleted when any key may be on a down server.
    const blockers = new Set(keys.flatMap((key) => ctx.broker.deleteBlockers(key)));
    if (blockers.size > 0) {
      ctx.counts.refusedDeletes++;
      throw clusterError(new DeleteRefusedError([...blockers]));
    }
    try {
      const results = await Promise.all(keys.map((key) => ctx.broker.delete(key)));
      w.integer(results.filter((r) => r.found === true).length);
    } catch (error) {
      if (error instanceof DeleteRefusedError) ctx.counts.refusedDeletes++;
      throw clusterError(error);
    }
  },
  dbsize: async (ctx, _s, _args, w) => {
    let n = 0;
    for await (const _key of clusterKeys(ctx, '*')) n++;
    w.integer(n);
  },
  keys: async (ctx, _s, args, w) => {
    const keys: string[] = [];
    for await (const key of clusterKeys(ctx, (args[1] as Buffer).toString('utf8'))) keys.push(key);
    w.array(keys.length);
    for (const key of keys) w.bulk(key);
  },
  scan: async (ctx, _s, args, w) => {
    const after = ctx.cursors.decode((args[1] as Buffer).toString('latin1'));
    const { pattern, count: examined, type } = parseScanOptions(args);
    const page = await ctx.broker.scan(
      literalPrefix(pattern),
      Math.min(examined, ctx.scanPage),
      after === undefined ? {} : { after },
    );
    let keys = page.keys.filter((key) => globMatch(pattern, key));
    if (type !== undefined) {
      const reads = await Promise.all(keys.map((key) => ctx.broker.get(key)));
      keys = keys.filter((_, i) => {
        const r = reads[i] as ReadResult;
        return r.found && respType(r.value as Value).toLowerCase() === type;
      });
    }
    w.array(2);
    w.bulk(page.cursor === undefined ? '0' : ctx.cursors.encode(page.cursor));
    w.array(keys.length);
    for (const key of keys) w.bulk(key);
  },
  randomkey: async (ctx, _s, _args, w) => {
    // A key after a random point of the key space (wrapping round): every key can come out.
    const start = String.fromCharCode(Math.floor(Math.random() * 128));
    const page = await ctx.broker.scan('', 1, { after: start });
    const key = page.keys[0] ?? (await ctx.broker.scan('', 1)).keys[0];
    w.bulk(key ?? null);
  },
  'kv.scan': async (ctx, _s, args, w) => {
    const prefix = args[1]?.toString('utf8') ?? '';
    const limit = args[2] === undefined ? 1000 : countArg(args[2]);
    if (args.length > 3) throw new RespError(SYNTAX);
    const keys: string[] = [];
    let after: string | undefined;
    while (keys.length < limit) {
      const page = await ctx.broker.scan(
        prefix,
        Math.min(limit - keys.length, ctx.scanPage),
        after === undefined ? {} : { after },
      );
      keys.push(...page.keys);
      if (page.cursor === undefined) break;
      after = page.cursor;
    }
    w.array(keys.length);
    for (const key of keys) w.bulk(key);
  },
  'kv.cluster': async (ctx, _s, args, w) => {
    const sub = (args[1] as Buffer).toString('utf8').toUpperCase();
    const rest = args.slice(2).map((a) => a.toString('utf8'));
    if (sub === 'INFO') {
      if (rest.length > 0) throw new RespError(SYNTAX);
      return w.verbatim(membershipInfo(ctx.broker));
    }
    if (sub !== 'ADD' && sub !== 'REMOVE' && sub !== 'REBALANCE')
      throw new RespError(
        `ERR unknown subcommand '${sub}'. Try KV.CLUSTER ADD host port [name] [FORCE], REMOVE name|host:port [FORCE], REBALANCE or INFO`,
      );
    const line = sub === 'REBALANCE' ? 'REBALANCE' : `${sub} SERVER ${rest.join(' ')}`;
    const result = await runLine(ctx.broker, line);
    if (!result.ok) {
      const error = result.json.error as { code: string; message: string };
      throw new RespError(
        error.code === 'MEMBERSHIP'
          ? `${error.message.includes('superseded') ? 'SUPERSEDED' : 'REFUSED'} ${error.message}`
          : `ERR ${error.message}`,
      );
    }
    w.simple(result.lines.join(' '));
  },
  'kv.compute': async (ctx, _s, args, w) => {
    const text = args
      .slice(1)
      .map((a) => a.toString('utf8'))
      .join(' ');
    const result = await runLine(ctx.broker, `COMPUTE ${text}`);
    if (!result.ok) throw new RespError(`ERR ${result.lines.join(' ')}`);
    if (result.warnings.length > 0) degraded(ctx, w, result.warnings.join('; '), 'kv.compute');
    w.bulk(result.lines.join('\n'));
  },
};
