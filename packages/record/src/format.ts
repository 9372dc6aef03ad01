import { InvalidValueError } from './errors.js';
import { formatPath } from './path.js';
import { Float, type KvRecord, type Path, type Value } from './value.js';

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

/** A value in canonical text: `22`, `17.0`, `"John"`, `{ "a" : 1 ; "b" : "x" }`, `{}`. */
export function formatValue(value: Value): string {
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
    default:
      if (value instanceof Float) return formatFloat(value.value);
      if (value instanceof Map) return formatDoc(value);
      throw new InvalidValueError(`not a record value: ${Object.prototype.toString.call(value)}`);
  }
}

function formatDoc(doc: Map<string, Value>): string {
  if (doc.size === 0) return '{}';
  let out = '{ ';
  let first = true;
  for (const [key, value] of doc) {
    if (typeof key !== 'string') throw new InvalidValueError('document keys must be strings');
    if (!first) out += ' ; ';
    out += `${formatString(key)} : ${formatValue(value)}`;
    first = false;
  }
  return `${out} }`;
}

/** A record as one canonical line (no newline): `"key" : { ... }`. */
export function formatRecord(record: KvRecord): string {
  if (!(record.value instanceof Map)) {
    throw new InvalidValueError('the value of a record must be a document (a Map)');
  }
  return `${formatString(record.key)} : ${formatDoc(record.value)}`;
}

/** The display form GET and QUERY print: `PATH : VALUE`, e.g. `person2.address.number : 12`. */
export function formatDisplay(path: Path, value: Value): string {
  return `${formatPath(path)} : ${formatValue(value)}`;
}
