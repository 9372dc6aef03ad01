import { formatDouble, type RespWriter } from '@triekv/resp';
import {
  INT64_MIN,
  RespError,
  SYNTAX,
  deleteKey,
  incrBy,
  keyOf,
  parseFloatArg,
  parseInt64,
  readString,
  stringOf,
  upper,
  writeString,
  writeValue,
  type Handler,
  type RespContext,
} from './base.js';

/** String commands: GET, SET and their kin, stored as bytes values. */

/** Sets what SET-like commands set; the options of SET (NX, XX, GET) checked here. */
function set(ctx: RespContext, args: Buffer[], w: RespWriter): void {
  const key = keyOf(ctx, args[1] as Buffer);
  let nx = false;
  let xx = false;
  let get = false;
  for (let i = 3; i < args.length; i++) {
    const o = upper(args[i]);
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

export const STRING_HANDLERS: Record<string, Handler> = {
  get: (ctx, _s, args, w) => writeString(ctx, w, keyOf(ctx, args[1] as Buffer)),
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
};
