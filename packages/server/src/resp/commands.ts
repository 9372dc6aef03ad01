import { BEFORE_AUTH, NameIndex, type CommandSpec, type RespWriter } from '@triekv/resp';
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

/** The commands `execute` has a handler for, by their lower-case names. */
export function respCommandNames(): string[] {
  return Object.keys(HANDLERS);
}

/** What `execute` finds for a command name: its spec, handler and STATS counter, made once. */
interface Entry {
  name: string;
  spec: CommandSpec;
  handler: Handler;
  counter: { n: number };
}

/** Each context's entries by command name, found from the client's bytes in any case. */
const INDEXES = new WeakMap<RespContext, NameIndex<Entry>>();

function indexOf(ctx: RespContext): NameIndex<Entry> {
  let index = INDEXES.get(ctx);
  if (index === undefined) {
    index = new NameIndex<Entry>();
    for (const [name, handler] of Object.entries(HANDLERS)) {
      const spec = ctx.table.get(name);
      if (spec !== undefined)
        index.set(name, { name, spec, handler, counter: ctx.counters.cell(`resp:${name}`) });
    }
    INDEXES.set(ctx, index);
  }
  return index;
}

/**
 * Runs one command: the table's arity check, authentication, then its handler, writing the reply
 * (an error reply when it fails). Pure apart from the store and the session.
 */
export function execute(ctx: RespContext, s: RespSession, args: Buffer[], w: RespWriter): void {
  const entry = indexOf(ctx).get(args[0] as Buffer);
  const name = entry?.name ?? (args[0] as Buffer).toString('latin1').toLowerCase();
  s.lastCommand = name;
  try {
    if (entry === undefined) {
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
    const arity = ctx.table.arityError(entry.spec, args.length);
    if (arity !== undefined) throw new RespError(arity);
    entry.counter.n++;
    entry.handler(ctx, s, args, w);
  } catch (error) {
    ctx.counters.errors++;
    if (error instanceof RespError) return w.error(error.message);
    ctx.log.error({ err: error, command: name }, 'RESP command failed');
    w.error('ERR internal error (see the server log)');
  }
}
