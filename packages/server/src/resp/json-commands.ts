import { formatJson, parseValue, ParseError, Float, type Doc, type Value } from '@triekv/record';
import {
  RespError,
  SYNTAX,
  deleteKey,
  keyOf,
  writeValue,
  type Handler,
  type RespContext,
} from './base.js';
import {
  JsonPathError,
  evaluateJsonPath as evaluate,
  jsonType,
  parseJsonPath,
  type JsonPath,
  type JsonPathMatch as Match,
  type RespWriter,
} from '@triekv/resp';

/**
 * A RedisJSON subset over the same records the native protocol stores: documents are JSON objects,
 * lists arrays; ints and floats keep their kind (`1.0` reads back `1.0`). A write replaces the record
 * whole at a new version, as any write does.
 */

function path(text: Buffer | undefined, fallback = '.'): JsonPath {
  try {
    return parseJsonPath(text === undefined ? fallback : text.toString('utf8'));
  } catch (error) {
    if (error instanceof JsonPathError) throw new RespError(error.message);
    throw error;
  }
}

function json(text: Buffer): Value {
  try {
    return parseValue(text.toString('utf8'));
  } catch (error) {
    if (error instanceof ParseError) throw new RespError(`ERR invalid JSON: ${error.message}`);
    throw error;
  }
}

function missingPath(text: string): RespError {
  return new RespError(`ERR Path '${text}' does not exist`);
}

/** Matches of a path that must exist (legacy paths name exactly one value). */
function found(value: Value, p: JsonPath, text: string): Match[] {
  const matches = evaluate(value, p.steps);
  if (p.legacy && matches.length === 0) throw missingPath(text);
  return matches;
}

/** What a path found as JSON text: the value itself for a legacy path, an array of all for `$`. */
function matchesText(p: JsonPath, matches: Match[]): string {
  return p.legacy
    ? formatJson((matches[0] as Match).value)
    : `[${matches.map((m) => formatJson(m.value)).join(',')}]`;
}

/** Replies with one value per match: an array for `$` paths, the first match alone for legacy ones. */
function perMatch(
  w: RespWriter,
  p: JsonPath,
  matches: Match[],
  each: (m: Match) => void,
  none: () => void,
): void {
  if (p.legacy) {
    const first = matches[0];
    if (first === undefined) return none();
    return each(first);
  }
  w.array(matches.length);
  for (const m of matches) each(m);
}

/**
 * A read of what `JSON.X key [path]` finds of one kind (objects or arrays), each answered by `answer`;
 * for a `$` path a match of another kind answers nil, for a legacy path it is WRONGTYPE. A missing key
 * answers nil.
 */
function readOfKind<K extends 'object' | 'array'>(
  ctx: RespContext,
  args: Buffer[],
  w: RespWriter,
  kind: K,
  answer: (value: K extends 'object' ? Doc : Value[]) => void,
): void {
  const value = ctx.store.value(keyOf(ctx, args[1] as Buffer));
  const p = path(args[2]);
  if (value === undefined) return w.null();
  perMatch(
    w,
    p,
    found(value, p, args[2]?.toString('utf8') ?? '.'),
    (m) => {
      const fits = kind === 'object' ? m.value instanceof Map : Array.isArray(m.value);
      if (fits) return answer(m.value as K extends 'object' ? Doc : Value[]);
      return p.legacy ? wrongJsonType(m.value, kind) : w.null();
    },
    () => w.null(),
  );
}

export const JSON_HANDLERS: Record<string, Handler> = {
  'json.set': (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const text = (args[2] as Buffer).toString('utf8');
    const p = path(args[2]);
    const value = json(args[3] as Buffer);
    const option = args[4]?.toString('latin1').toUpperCase();
    if (args.length > 5 || (option !== undefined && option !== 'NX' && option !== 'XX'))
      throw new RespError(SYNTAX);
    const current = ctx.store.value(key);
    if (p.steps.length === 0) {
      if ((option === 'NX' && current !== undefined) || (option === 'XX' && current === undefined))
        return w.null();
      writeValue(ctx, key, value);
      return w.simple('OK');
    }
    if (current === undefined) throw new RespError('ERR new objects must be created at the root');
    const last = p.steps[p.steps.length - 1];
    const parents = evaluate(current, p.steps.slice(0, -1));
    let changed = 0;
    for (const parent of parents) {
      const v = parent.value;
      if (last !== undefined && 'key' in last && v instanceof Map) {
        const exists = v.has(last.key);
        if ((option === 'NX' && exists) || (option === 'XX' && !exists)) continue;
        v.set(last.key, value);
        changed++;
      } else if (last !== undefined && 'index' in last && Array.isArray(v)) {
        const i = last.index < 0 ? v.length + last.index : last.index;
        if (i < 0 || i >= v.length || option === 'NX') continue;
        v[i] = value;
        changed++;
      } else if (last !== undefined && 'wildcard' in last && option !== 'NX') {
        // Every member or item exists already: NX sets none of them.
        if (v instanceof Map) {
          for (const k of v.keys()) v.set(k, value);
          changed += v.size;
        } else if (Array.isArray(v)) {
          v.fill(value);
          changed += v.length;
        }
      }
    }
    if (changed === 0) {
      if (p.legacy && parents.length === 0) throw missingPath(text);
      return w.null();
    }
    writeValue(ctx, key, current);
    w.simple('OK');
  },
  'json.get': (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    // Formatting options of RedisJSON (INDENT, NEWLINE, SPACE) are accepted and ignored: one line.
    const paths: Buffer[] = [];
    for (let i = 2; i < args.length; i++) {
      const word = (args[i] as Buffer).toString('latin1').toUpperCase();
      if (['INDENT', 'NEWLINE', 'SPACE'].includes(word)) i++;
      else paths.push(args[i] as Buffer);
    }
    const value = ctx.store.value(key);
    if (value === undefined) return w.null();
    if (paths.length <= 1) {
      const text = paths[0]?.toString('utf8') ?? '.';
      const p = path(paths[0]);
      const matches = found(value, p, text);
      return w.bulk(matchesText(p, matches));
    }
    const parts: string[] = [];
    for (const b of paths) {
      const text = b.toString('utf8');
      const p = path(b);
      const matches = found(value, p, text);
      parts.push(`${JSON.stringify(text)}:${matchesText(p, matches)}`);
    }
    w.bulk(`{${parts.join(',')}}`);
  },
  'json.mget': (ctx, _s, args, w) => {
    const p = path(args[args.length - 1]);
    const keys = args.slice(1, -1).map((a) => keyOf(ctx, a));
    w.array(keys.length);
    for (const key of keys) {
      const value = ctx.store.value(key);
      const matches = value === undefined ? [] : evaluate(value, p.steps);
      if (value === undefined || (p.legacy && matches.length === 0)) w.null();
      else w.bulk(matchesText(p, matches));
    }
  },
  'json.del': (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const p = path(args[2], '$');
    const value = ctx.store.value(key);
    if (value === undefined) return w.integer(0);
    if (p.steps.length === 0) return w.integer(deleteKey(ctx, key) ? 1 : 0);
    const matches = evaluate(value, p.steps);
    // Array items go from the end, so earlier indexes stay right.
    const removals = matches
      .filter((m) => m.parent !== undefined)
      .sort((a, b) => (typeof b.at === 'number' && typeof a.at === 'number' ? b.at - a.at : 0));
    for (const m of removals) {
      if (m.parent instanceof Map) m.parent.delete(m.at as string);
      else if (Array.isArray(m.parent)) m.parent.splice(m.at as number, 1);
    }
    if (removals.length > 0) writeValue(ctx, key, value);
    w.integer(removals.length);
  },
  'json.type': (ctx, _s, args, w) => {
    const value = ctx.store.value(keyOf(ctx, args[1] as Buffer));
    const p = path(args[2]);
    if (value === undefined) return p.legacy ? w.null() : w.array(0);
    const matches = evaluate(value, p.steps);
    perMatch(
      w,
      p,
      matches,
      (m) => w.simple(jsonType(m.value)),
      () => w.null(),
    );
  },
  'json.objkeys': (ctx, _s, args, w) =>
    readOfKind(ctx, args, w, 'object', (doc) => {
      w.array(doc.size);
      for (const k of doc.keys()) w.bulk(k);
    }),
  'json.objlen': (ctx, _s, args, w) =>
    readOfKind(ctx, args, w, 'object', (doc) => w.integer(doc.size)),
  'json.arrlen': (ctx, _s, args, w) =>
    readOfKind(ctx, args, w, 'array', (list) => w.integer(list.length)),
  'json.arrappend': (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const p = path(args[2]);
    const items = args.slice(3).map(json);
    const value = ctx.store.value(key);
    if (value === undefined)
      throw new RespError("ERR could not perform this operation on a key that doesn't exist");
    const matches = found(value, p, (args[2] as Buffer).toString('utf8'));
    const lengths = matches.map((m) => {
      if (!Array.isArray(m.value)) {
        if (p.legacy) wrongJsonType(m.value, 'array');
        return null;
      }
      m.value.push(...items);
      return m.value.length;
    });
    if (lengths.some((n) => n !== null)) writeValue(ctx, key, value);
    perMatch(
      w,
      p,
      matches,
      (m) => {
        const n = lengths[matches.indexOf(m)];
        return n === null || n === undefined ? w.null() : w.integer(n);
      },
      () => w.null(),
    );
  },
  'json.numincrby': (ctx, _s, args, w) => {
    const key = keyOf(ctx, args[1] as Buffer);
    const p = path(args[2]);
    const by = json(args[3] as Buffer);
    if (typeof by !== 'number' && typeof by !== 'bigint' && !(by instanceof Float))
      throw new RespError('ERR the increment must be a number');
    const value = ctx.store.value(key);
    if (value === undefined)
      throw new RespError("ERR could not perform this operation on a key that doesn't exist");
    const matches = found(value, p, (args[2] as Buffer).toString('utf8'));
    const results: (Value | null)[] = [];
    for (const m of matches) {
      const x = m.value;
      if (typeof x !== 'number' && typeof x !== 'bigint' && !(x instanceof Float)) {
        if (p.legacy) wrongJsonType(x, 'number');
        results.push(null);
        continue;
      }
      const sum = add(x, by);
      if (m.parent instanceof Map) m.parent.set(m.at as string, sum);
      else if (Array.isArray(m.parent)) m.parent[m.at as number] = sum;
      results.push(sum);
    }
    if (p.steps.length === 0) {
      if (results[0] !== null && results[0] !== undefined) writeValue(ctx, key, results[0]);
    } else if (results.some((r) => r !== null)) writeValue(ctx, key, value);
    w.bulk(
      p.legacy
        ? formatJson(results[0] ?? null)
        : `[${results.map((r) => (r === null ? 'null' : formatJson(r))).join(',')}]`,
    );
  },
};

/** Adds as RedisJSON does: ints stay ints (exactly), anything with a float is a float. */
function add(a: number | bigint | Float, b: number | bigint | Float): Value {
  const isInt = (x: number | bigint | Float): boolean =>
    typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x));
  if (isInt(a) && isInt(b)) {
    const sum = BigInt(a as number | bigint) + BigInt(b as number | bigint);
    const n = Number(sum);
    return Number.isSafeInteger(n) ? n : sum;
  }
  const sum = Number(a instanceof Float ? a.value : a) + Number(b instanceof Float ? b.value : b);
  return Number.isInteger(sum) ? new Float(sum) : sum;
}

function wrongJsonType(value: Value, wanted: string): never {
  throw new RespError(
    `WRONGTYPE wrong type of path value - expected ${wanted} but found ${jsonType(value)}`,
  );
}
