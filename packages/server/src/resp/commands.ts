import type { RespWriter } from '@triekv/resp';
import { RespError, type Handler, type RespContext, type RespSession } from './base.js';
import { CONNECTION_HANDLERS } from './connection-commands.js';
import { JSON_HANDLERS } from './json-commands.js';
import { KEY_HANDLERS } from './key-commands.js';
import { KV_HANDLERS } from './kv-commands.js';
import { SERVER_HANDLERS } from './server-commands.js';
import { STRING_HANDLERS } from './string-commands.js';

export { RespError, type RespContext, type RespSession } from './base.js';

/** Every command's handler, by its lower-case name. */
const HANDLERS: Record<string, Handler> = {
  ...CONNECTION_HANDLERS,
  ...SERVER_HANDLERS,
  ...STRING_HANDLERS,
  ...KEY_HANDLERS,
  ...JSON_HANDLERS,
  ...KV_HANDLERS,
};

/** Command names as clients send them, in either case, to their lower-case form (no string built). */
const NAMES = new Map<string, string>();
/** STATS keys of the commands, `resp:<name>`, made once. */
const COUNTERS = new Map<string, string>();
for (const name of Object.keys(HANDLERS)) {
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
  const handler = HANDLERS[name];
  try {
    if (spec === undefined || handler === undefined) {
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
    handler(ctx, s, args, w);
  } catch (error) {
    ctx.counters.errors++;
    if (error instanceof RespError) return w.error(error.message);
    ctx.log.error({ err: error, command: name }, 'RESP command failed');
    w.error('ERR internal error (see the server log)');
  }
}
