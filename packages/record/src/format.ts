import { isUtf8 } from 'node:buffer';
import { InvalidValueError } from './errors.js';
import { formatPath } from './path.js';
import { Float, type KvRecord, type Path, type Value } from './value.js';

/**
 * How documents are written: `colon` (canonical: `{ "a" : 1 ; "b" : [ 1 ; 2 ] }`) or `arrow`, the
 * assignment's later edition (`[ "a" -> 1 | "b" -> [ 1 | 2 ] ]`). In the arrow style an empty list
 * prints as `[]`, which reads back as an empty document there: only the colon style round-trips every
 * value.
 */
export type Style = 'colon' | 'arrow';

/** Options of the writers. */
export interface FormatOptions {
  /** @default 'colon' */
  style?: Style;
}

/** A string in canonical form: double quotes, JSON escapes. */
export function formatString(text: string): string {
  return JSON.stringify(text);
}

/** A float in a form that reads back as a float: always a `.` or an exponent (`17.0`, `1.5e-7`). */
export function formatFloat(n: number): string {
  if (!Number.isFinite(n))
    throw new InvalidValueError(`cannot write the float ${n}: only finite numbers`);
  if (Object.is(n, -0)) return '-0.0';
  const text = String(n);
  return Number.isInteger(n) && !text.includes('e') ? `${text}.0` : text;
}

/**
 * Bytes as text: a string when they are valid UTF-8 (what a Redis client's `SET k "hello"` stores reads
 * as `"hello"`), else `b"..."` with printable ASCII as itself and `\xNN` for every other byte.
 */
export function formatBytes(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return formatString(Buffer.from(bytes).toString('utf8'));
  let out = 'b"';
  for (const b of bytes) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/**
 * A value in canonical text: `22`, `17.0`, `"John"`, `true`, `null`, `[ 1 ; "a" ]`,
 * `{ "a" : 1 ; "b" : "x" }`, `{}`, `[]` (an empty list), `b"\xff"`.
 */
export function formatValue(value: Value, options?: FormatOptions): string {
  return write(value, options?.style === 'arrow');
}

function write(value: Value, arrow: boolean): string {
  switch (typeof value) {
    case 'number':
      if (Number.isInteger(value)) {
        if (!Number.isSafeInteger(value)) {
          throw new InvalidValueError(
            `the int ${value} is beyond 2^53 as a number: pass it as a bigint (or float() for a float)`,
          );
        }
        return String(value);
      }
      return formatFloat(value);
    case 'bigint':
      return String(value);
    case 'string':
      return formatString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      if (value === null) return 'null';
      if (value instanceof Map) return writeDoc(value, arrow);
      if (value instanceof Float) return formatFloat(value.value);
      if (value instanceof Uint8Array) return formatBytes(value);
      if (Array.isArray(value)) return writeList(value, arrow);
      throw new InvalidValueError(`not a record value: ${Object.prototype.toString.call(value)}`);
  }
}

function writeDoc(doc: Map<string, Value>, arrow: boolean): string {
  if (doc.size === 0) return arrow ? '[]' : '{}';
  let out = arrow ? '[ ' : '{ ';
  let first = true;
  for (const [key, value] of doc) {
    if (typeof key !== 'string') throw new InvalidValueError('document keys must be strings');
    if (!first) out += arrow ? ' | ' : ' ; ';
    out += `${formatString(key)}${arrow ? ' -> ' : ' : '}${write(value, arrow)}`;
    first = false;
  }
  return arrow ? `${out} ]` : `${out} }`;
}

function writeList(list: Value[], arrow: boolean): string {
  if (list.length === 0) return '[]';
  let out = '[ ';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += arrow ? ' | ' : ' ; ';
    out += write(list[i] as Value, arrow);
  }
  return `${out} ]`;
}

/** A record as one canonical line (no newline): `"key" : { ... }` (or `"key" -> [ ... ]`). */
export function formatRecord(record: KvRecord, options?: FormatOptions): string {
  const arrow = options?.style === 'arrow';
  return `${formatString(record.key)}${arrow ? ' -> ' : ' : '}${write(record.value, arrow)}`;
}

/** The display form GET and QUERY print: `PATH : VALUE`, e.g. `person2.address.number : 12`. */
export function formatDisplay(path: Path, value: Value, options?: FormatOptions): string {
  const arrow = options?.style === 'arrow';
  return `${formatPath(path)}${arrow ? ' -> ' : ' : '}${write(value, arrow)}`;
}

/**
 * A value as JSON text, exact where JSON.stringify is not: ints beyond 2^53 as their digits, floats
 * with a decimal point or an exponent (`17.0`), documents as objects in their key order, lists as
 * arrays, bytes as a string when they are valid UTF-8, else as `{"$bytes":"BASE64"}`.
 */
export function formatJson(value: Value): string {
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'string':
    case 'boolean':
      return write(value, false);
    default:
      if (value === null) return 'null';
      if (value instanceof Float) return formatFloat(value.value);
      if (value instanceof Uint8Array) {
        if (isUtf8(value)) return formatString(Buffer.from(value).toString('utf8'));
        return `{"$bytes":"${Buffer.from(value).toString('base64')}"}`;
      }
      if (value instanceof Map) {
        const parts: string[] = [];
        for (const [key, v] of value) parts.push(`${formatString(key)}:${formatJson(v)}`);
        return `{${parts.join(',')}}`;
      }
      if (Array.isArray(value)) return `[${value.map(formatJson).join(',')}]`;
      throw new InvalidValueError(`not a record value: ${Object.prototype.toString.call(value)}`);
  }
}
