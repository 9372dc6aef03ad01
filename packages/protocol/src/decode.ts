import { Float, normalizeInt, type Doc, type Value } from '@triekv/record';
import { DEFAULT_MAX_DEPTH } from './defaults.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { Kind, LAYOUTS_BY_OP, OK_FIELDS } from './layout.js';
import type { ExportEntry, Member, Membership, Message, OkReply, WireRecord } from './messages.js';
import { isVersion, type Version } from './version.js';

/** Thrown inside the validator and turned into a ProtocolError with the message's id. */
class Invalid extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks a decoded value and normalises it in place: bigints in the safe range become numbers, bin
 * becomes a plain `Uint8Array`. Anything that is not a record value (NaN, non-string keys, extension
 * types other than ours) is refused, and so is nesting of documents and lists beyond `maxDepth`.
 */
export function checkValue(value: unknown, depth: number, maxDepth: number, where: string): Value {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value))
        throw new Invalid(ErrorCode.BAD_VALUE, `${where}: non-finite float`);
      return value;
    case 'bigint':
      return normalizeInt(value);
    case 'object':
      if (value === null) return null;
      if (value instanceof Float) {
        if (!Number.isFinite(value.value))
          throw new Invalid(ErrorCode.BAD_VALUE, `${where}: non-finite float`);
        return value;
      }
      if (value instanceof Map) return checkDoc(value, depth + 1, maxDepth, where);
      if (Array.isArray(value)) return checkList(value, depth + 1, maxDepth, where);
      if (value instanceof Uint8Array)
        // msgpackr gives a Buffer: a plain Uint8Array over its bytes, as the fast reader gives.
        return value.constructor === Uint8Array
          ? value
          : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      break;
  }
  throw new Invalid(ErrorCode.BAD_VALUE, `${where}: ${typeof value} is not a record value`);
}

function tooDeep(depth: number, maxDepth: number, where: string): void {
  if (depth > maxDepth)
    throw new Invalid(
      ErrorCode.BAD_VALUE,
      `${where}: documents and lists nested deeper than ${maxDepth} levels`,
    );
}

function checkList(list: unknown[], depth: number, maxDepth: number, where: string): Value[] {
  tooDeep(depth, maxDepth, where);
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) continue;
    list[i] = checkValue(v, depth, maxDepth, where);
  }
  return list as Value[];
}

function checkDoc(doc: Map<unknown, unknown>, depth: number, maxDepth: number, where: string): Doc {
  tooDeep(depth, maxDepth, where);
  // forEach, not for..of: no [key, value] array per entry on this hot path.
  doc.forEach((value, key) => {
    if (typeof key !== 'string')
      throw new Invalid(ErrorCode.BAD_VALUE, `${where}: document keys must be strings`);
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return;
    const checked = checkValue(value, depth, maxDepth, where);
    if (checked !== value) doc.set(key, checked);
  });
  return doc as Doc;
}

/** What a value that is not the expected kind is, for the complaint. */
function kindOf(got: unknown): string {
  if (got === undefined) return 'missing';
  if (got === null) return 'null';
  return Array.isArray(got) ? 'an array' : typeof got;
}

/** Checks fields for one message type (or one record inside it), naming both in every complaint. */
class Checker {
  constructor(
    readonly type: string,
    readonly maxDepth: number,
  ) {}

  fail(name: string, expected: string, got: unknown): never {
    throw new Invalid(
      ErrorCode.BAD_MESSAGE,
      `${this.type}: field '${name}' must be ${expected} (got ${kindOf(got)})`,
    );
  }

  /** The field's value as the typed message holds it; undefined for an absent optional field. */
  field(kind: Kind, name: string, v: unknown): unknown {
    switch (kind) {
      case Kind.COUNT: {
        const n = toCount(v);
        return n ?? this.fail(name, 'a whole number >= 0', v);
      }
      case Kind.STRING:
        return typeof v === 'string' ? v : this.fail(name, 'a string', v);
      case Kind.OPT_STRING:
        if (v === undefined || v === null) return undefined;
        return typeof v === 'string' ? v : this.fail(name, 'a string or nil', v);
      case Kind.PATH:
        if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' || toCount(s) !== undefined))
          return this.fail(name, 'an array of keys (strings) and indexes (whole numbers)', v);
        return v.map((s: unknown) => (typeof s === 'string' ? s : toCount(s)));
      case Kind.VALUE:
        return checkValue(v, 0, this.maxDepth, `${this.type}: field '${name}'`);
      case Kind.VERSION:
        return normalizeVersion(v) ?? this.fail(name, 'a version [wall ms, counter, node]', v);
      case Kind.OPT_VERSION:
        if (v === undefined || v === null) return undefined;
        return this.field(Kind.VERSION, name, v);
      case Kind.STRINGS:
        if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
          return this.fail(name, 'an array of strings', v);
        return v;
      case Kind.RECORDS:
      case Kind.ENTRIES:
        if (!Array.isArray(v)) return this.fail(name, 'an array', v);
        return v.map((r, i) => this.record(r, name, i, kind === Kind.ENTRIES));
      case Kind.FLAG:
        if (v === undefined || v === null || v === false) return undefined;
        return v === true ? true : this.fail(name, 'a boolean or nil', v);
      case Kind.BOOLEAN:
        return typeof v === 'boolean' ? v : this.fail(name, 'a boolean', v);
      case Kind.STATS:
        return plain(v, name, 2);
      case Kind.SERVER:
        return plain(v, name, 1);
      case Kind.MEMBERS:
        return this.membership(v, name);
      case Kind.OK_FIELDS:
        throw new TypeError('the OK fields are read by okReply');
    }
  }

  private membership(v: unknown, name: string): Membership {
    if (!Array.isArray(v) || v.length < 2)
      return this.fail(name, 'an array [version, members, previous, change]', v);
    const [version, members, previous, change] = v as unknown[];
    const record: Membership = {
      version: this.field(Kind.VERSION, `${name}.version`, version) as Version,
      members: this.members(members, `${name}.members`),
    };
    if (previous !== undefined && previous !== null)
      record.previous = this.members(previous, `${name}.previous`);
    const text = this.field(Kind.OPT_STRING, `${name}.change`, change);
    if (text !== undefined) record.change = text as string;
    return record;
  }

  private members(v: unknown, name: string): Member[] {
    if (!Array.isArray(v) || v.length === 0) return this.fail(name, 'a non-empty array', v);
    return v.map((m: unknown, i) => {
      const port = Array.isArray(m) ? toCount(m[2]) : undefined;
      if (
        !Array.isArray(m) ||
        typeof m[0] !== 'string' ||
        typeof m[1] !== 'string' ||
        port === undefined ||
        port < 1 ||
        port > 65535
      )
        return this.fail(`${name}[${i}]`, 'a member [name, host, port]', m);
      return { name: m[0], host: m[1], port };
    });
  }

  private record(
    raw: unknown,
    name: string,
    i: number,
    allowTombstone: boolean,
  ): WireRecord | ExportEntry {
    if (!Array.isArray(raw) || raw.length < 3)
      this.fail(`${name}[${i}]`, 'an array of [key, value, version]', raw);
    const [key, value, version, deleted] = raw as unknown[];
    const item = new Checker(`${this.type} ${name}[${i}]`, this.maxDepth);
    const record = {
      key: item.field(Kind.STRING, 'key', key) as string,
      value: item.field(Kind.VALUE, 'value', value) as Value,
      version: item.field(Kind.VERSION, 'version', version) as Version,
    };
    return allowTombstone && deleted === true ? { ...record, value: null, deleted: true } : record;
  }
}

/** A whole number >= 0 in the safe range (ids, counts, version parts), or undefined. */
function toCount(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}

/** A decoded `[wall, counter, node]` as a `Version` (bigint parts made numbers), or undefined if malformed. */
export function normalizeVersion(v: unknown): Version | undefined {
  if (!Array.isArray(v) || v.length !== 3) return undefined;
  const candidate = [toCount(v[0]), toCount(v[1]), v[2]];
  return isVersion(candidate) ? candidate : undefined;
}

function okReply(raw: unknown, id: number, maxDepth: number): OkReply {
  if (!(raw instanceof Map)) return new Checker('OK', maxDepth).fail('result', 'a map', raw);
  const check = new Checker('OK', maxDepth);
  const reply: Record<string, unknown> = { type: 'OK', id };
  for (const f of OK_FIELDS)
    if (raw.has(f.name)) reply[f.name] = check.field(f.kind, f.name, raw.get(f.name));
  return reply as unknown as OkReply;
}

/** A small map of numbers and strings (nested `levels` deep) as a plain object, for STATS and HELLO. */
function plain(raw: unknown, name: string, levels: number): Record<string, unknown> {
  if (!(raw instanceof Map))
    throw new Invalid(ErrorCode.BAD_MESSAGE, `OK: field '${name}' must be a map`);
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of raw) {
    if (typeof k !== 'string')
      throw new Invalid(ErrorCode.BAD_MESSAGE, `OK: field '${name}' has a non-string key`);
    if (typeof v === 'number' || typeof v === 'string') out[k] = v;
    else if (typeof v === 'bigint') out[k] = Number(v);
    else if (levels > 1 && v instanceof Map) out[k] = plain(v, `${name}.${k}`, levels - 1);
    else
      throw new Invalid(
        ErrorCode.BAD_MESSAGE,
        `OK: field '${name}.${k}' must be a number or string`,
      );
  }
  return out;
}

/**
 * Turns a decoded msgpack value into a typed message, or a `ProtocolError` (with the id when it could be
 * read). Extra trailing fields and unknown OK fields are ignored, so newer peers can talk to older ones.
 */
export function toMessage(raw: unknown, maxDepth = DEFAULT_MAX_DEPTH): Message | ProtocolError {
  if (!Array.isArray(raw) || raw.length < 2) {
    return new ProtocolError(
      ErrorCode.BAD_MESSAGE,
      'a message must be an array [type, id, ...fields]',
    );
  }
  const id = toCount(raw[1]);
  if (id === undefined)
    return new ProtocolError(ErrorCode.BAD_MESSAGE, "field 'id' must be a whole number >= 0");
  const l = typeof raw[0] === 'number' ? LAYOUTS_BY_OP[raw[0]] : undefined;
  if (l === undefined) {
    return new ProtocolError(
      ErrorCode.UNKNOWN_TYPE,
      `unknown message type ${JSON.stringify(String(raw[0]))}`,
      id,
    );
  }
  try {
    if (l.type === 'OK') return okReply(raw[2], id, maxDepth);
    const check = new Checker(l.type, maxDepth);
    const message: Record<string, unknown> = { type: l.type, id };
    l.fields.forEach((f, i) => {
      const v = check.field(f.kind, f.name, raw[i + 2]);
      if (v !== undefined) message[f.name] = v;
    });
    return message as unknown as Message;
  } catch (error) {
    if (error instanceof Invalid) return new ProtocolError(error.code, error.message, id);
    throw error;
  }
}
