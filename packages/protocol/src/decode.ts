import { Float, normalizeInt, type Doc, type Value } from '@triekv/record';
import { DEFAULT_MAX_DEPTH } from './defaults.js';
import { ErrorCode, ProtocolError } from './errors.js';
import type {
  ExportEntry,
  Message,
  MessageType,
  OkReply,
  ServerInfo,
  Stats,
  WireRecord,
} from './messages.js';
import { OPCODES } from './messages.js';
import { isVersion, type Version } from './version.js';

const TYPES = new Map<number, MessageType>(
  Object.entries(OPCODES).map(([type, op]) => [op, type as MessageType]),
);

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
 * Checks a decoded value and normalises it in place: bigints in the safe range become numbers. Anything
 * that is not a record value (booleans, null, arrays, binary, NaN, non-string keys) is refused.
 */
export function checkValue(value: unknown, depth: number, maxDepth: number, where: string): Value {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value))
        throw new Invalid(ErrorCode.BAD_VALUE, `${where}: non-finite float`);
      return value;
    case 'bigint':
      return normalizeInt(value);
    case 'object':
      if (value instanceof Float) {
        if (!Number.isFinite(value.value))
          throw new Invalid(ErrorCode.BAD_VALUE, `${where}: non-finite float`);
        return value;
      }
      if (value instanceof Map) return checkDoc(value, depth + 1, maxDepth, where);
      break;
  }
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new Invalid(ErrorCode.BAD_VALUE, `${where}: ${kind} is not a record value`);
}

function checkDoc(doc: Map<unknown, unknown>, depth: number, maxDepth: number, where: string): Doc {
  if (depth > maxDepth) {
    throw new Invalid(
      ErrorCode.BAD_VALUE,
      `${where}: documents nested deeper than ${maxDepth} levels`,
    );
  }
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

/** Reads the fields of one message array, naming the message type and field in every complaint. */
class Fields {
  constructor(
    readonly raw: unknown[],
    readonly type: string,
    readonly maxDepth: number,
  ) {}

  fail(index: number, name: string, expected: string): never {
    const got = this.raw[index];
    const kind =
      got === undefined
        ? 'missing'
        : got === null
          ? 'null'
          : Array.isArray(got)
            ? 'an array'
            : typeof got;
    throw new Invalid(
      ErrorCode.BAD_MESSAGE,
      `${this.type}: field '${name}' must be ${expected} (got ${kind})`,
    );
  }

  string(index: number, name: string): string {
    const v = this.raw[index];
    return typeof v === 'string' ? v : this.fail(index, name, 'a string');
  }

  optionalString(index: number, name: string): string | undefined {
    const v = this.raw[index];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : this.fail(index, name, 'a string or nil');
  }

  /** An optional flag: absent or nil is false. */
  flag(index: number, name: string): boolean {
    const v = this.raw[index];
    if (v === undefined || v === null) return false;
    return typeof v === 'boolean' ? v : this.fail(index, name, 'a boolean or nil');
  }

  count(index: number, name: string): number {
    const v = toCount(this.raw[index]);
    return v !== undefined && v >= 0 ? v : this.fail(index, name, 'a whole number >= 0');
  }

  doc(index: number, name: string): Doc {
    const v = this.raw[index];
    if (!(v instanceof Map)) return this.fail(index, name, 'a document (msgpack map)');
    return checkDoc(v, 1, this.maxDepth, `${this.type}: field '${name}'`);
  }

  version(index: number, name: string): Version {
    const v = normalizeVersion(this.raw[index]);
    return v ?? this.fail(index, name, 'a version [wall ms, counter, node]');
  }

  strings(index: number, name: string): string[] {
    const v = this.raw[index];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
      return this.fail(index, name, 'an array of strings');
    return v;
  }

  array(index: number, name: string): unknown[] {
    const v = this.raw[index];
    return Array.isArray(v) ? v : this.fail(index, name, 'an array');
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

function record(
  f: Fields,
  raw: unknown,
  i: number,
  name: string,
  allowTombstone: boolean,
): WireRecord | ExportEntry {
  if (!Array.isArray(raw) || raw.length < 3) f.fail(i, name, 'an array of [key, value, version]');
  const item = new Fields(raw as unknown[], `${f.type} ${name}[${i}]`, f.maxDepth);
  const key = item.string(0, 'key');
  const value = allowTombstone && raw[1] === null ? null : item.doc(1, 'value');
  return { key, value, version: item.version(2, 'version') };
}

function okReply(f: Fields, id: number): OkReply {
  const raw = f.raw[2];
  if (!(raw instanceof Map)) return f.fail(2, 'result', 'a map');
  const fields = new Fields([], 'OK', f.maxDepth);
  const reply: OkReply = { type: 'OK', id };
  const get = (name: string): unknown => raw.get(name);
  const one = <T>(name: string, read: (x: Fields) => T): T => {
    fields.raw[0] = get(name);
    return read(fields);
  };
  if (raw.has('value')) reply.value = checkValue(get('value'), 0, f.maxDepth, "OK: field 'value'");
  if (raw.has('version')) reply.version = one('version', (x) => x.version(0, 'version'));
  if (raw.has('applied')) {
    const applied = get('applied');
    if (typeof applied !== 'boolean') one('applied', (x) => x.fail(0, 'applied', 'a boolean'));
    reply.applied = applied as boolean;
  }
  if (raw.has('appliedCount'))
    reply.appliedCount = one('appliedCount', (x) => x.count(0, 'appliedCount'));
  if (raw.has('ignoredCount'))
    reply.ignoredCount = one('ignoredCount', (x) => x.count(0, 'ignoredCount'));
  if (raw.has('keys')) reply.keys = one('keys', (x) => x.strings(0, 'keys'));
  if (raw.has('cursor')) reply.cursor = one('cursor', (x) => x.string(0, 'cursor'));
  if (raw.has('entries')) {
    const list = one('entries', (x) => x.array(0, 'entries'));
    reply.entries = list.map((e, i) => record(fields, e, i, 'entries', true));
  }
  if (raw.has('stats')) reply.stats = one('stats', () => plain(get('stats'), 'stats', 2) as Stats);
  if (raw.has('server'))
    reply.server = one('server', () => plain(get('server'), 'server', 1) as unknown as ServerInfo);
  return reply;
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
  const type = typeof raw[0] === 'number' ? TYPES.get(raw[0]) : undefined;
  if (type === undefined) {
    return new ProtocolError(
      ErrorCode.UNKNOWN_TYPE,
      `unknown message type ${JSON.stringify(String(raw[0]))}`,
      id,
    );
  }
  const f = new Fields(raw, type, maxDepth);
  try {
    return read(f, type, id);
  } catch (error) {
    if (error instanceof Invalid) return new ProtocolError(error.code, error.message, id);
    throw error;
  }
}

function read(f: Fields, type: MessageType, id: number): Message {
  switch (type) {
    case 'HELLO': {
      const token = f.optionalString(3, 'token');
      const client = f.optionalString(4, 'client');
      return {
        type,
        id,
        protocol: f.count(2, 'protocol'),
        ...(token === undefined ? {} : { token }),
        ...(client === undefined ? {} : { client }),
      };
    }
    case 'PING':
    case 'STATS':
      return { type, id };
    case 'PUT':
      return {
        type,
        id,
        key: f.string(2, 'key'),
        value: f.doc(3, 'value'),
        version: f.version(4, 'version'),
      };
    case 'PUT_BATCH': {
      const records = f
        .array(2, 'records')
        .map((r, i) => record(f, r, i, 'records', false) as WireRecord);
      return { type, id, records };
    }
    case 'GET': {
      const key = f.string(2, 'key');
      return f.flag(3, 'versionOnly') ? { type, id, key, versionOnly: true } : { type, id, key };
    }
    case 'QUERY': {
      const key = f.string(2, 'key');
      const path = f.strings(3, 'path');
      return f.flag(4, 'versionOnly')
        ? { type, id, key, path, versionOnly: true }
        : { type, id, key, path };
    }
    case 'DELETE':
      return { type, id, key: f.string(2, 'key'), version: f.version(3, 'version') };
    case 'SCAN': {
      const after = f.optionalString(4, 'after');
      return {
        type,
        id,
        prefix: f.string(2, 'prefix'),
        limit: f.count(3, 'limit'),
        ...(after === undefined ? {} : { after }),
      };
    }
    case 'EXPORT': {
      const after = f.optionalString(2, 'after');
      return { type, id, limit: f.count(3, 'limit'), ...(after === undefined ? {} : { after }) };
    }
    case 'OK':
      return okReply(f, id);
    case 'NOT_FOUND': {
      const version =
        f.raw[2] === null || f.raw[2] === undefined ? undefined : f.version(2, 'version');
      return version === undefined ? { type, id } : { type, id, version };
    }
    case 'ERROR':
      return { type, id, code: f.string(2, 'code'), message: f.string(3, 'message') };
  }
}
