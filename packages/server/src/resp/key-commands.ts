import { parseScanOptions, globMatch, literalPrefix } from '@triekv/resp';
import type { Value } from '@triekv/record';
import type { Store } from '../store.js';
import { RespError, deleteKey, keyOf, stringOf, writeValue, type Handler } from './base.js';

/** Key commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME. */

/** Redis's TYPE of a value: `string` for bytes, text and numbers, `ReJSON-RL` for documents and lists. */
/** What TYPE answers for a value: `string` for what string commands read, else `ReJSON-RL`. */
export function typeOf(value: Value): string {
  return stringOf(value) !== undefined ? 'string' : 'ReJSON-RL';
}

/** Live keys matching `pattern`, in order; the trie walks only the pattern's literal prefix. */
export function* matchingKeys(store: Store, pattern: string, after?: string): Generator<string> {
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

export const KEY_HANDLERS: Record<string, Handler> = {
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
    const after = ctx.cursors.decode((args[1] as Buffer).toString('latin1'));
    const { pattern, count, type } = parseScanOptions(args);
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
    w.bulk(page.cursor === undefined ? '0' : ctx.cursors.encode(page.cursor));
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
};
KEY_HANDLERS.unlink = KEY_HANDLERS.del as Handler;
