import {
  formatDisplay,
  formatJson,
  formatRecord,
  parsePath,
  parseRecord,
  RecordError,
} from '@triekv/record';
import { countArg } from '@triekv/resp';
import { RespError, SYNTAX, keyOf, upper, writeValue, type Handler } from './base.js';

/** triekv's own commands: KV.GET, KV.QUERY, KV.PUT, KV.SCAN. */

export const KV_HANDLERS: Record<string, Handler> = {
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
    const limit = args[2] === undefined ? 1000 : countArg(args[2]);
    if (args.length > 3) throw new RespError(SYNTAX);
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
