/**
 * A float, boxed. Needed only for floats whose value is whole (`17.0`), which a JS number cannot tell
 * apart from the int `17`; a non-integer `number` is already a float. `float()` picks the right form.
 */
export class Float {
  constructor(readonly value: number) {}

  valueOf(): number {
    return this.value;
  }
}

/** An ordered document: keys are unique and keep the order they were written in. */
export type Doc = Map<string, Value>;

/** An ordered list of values (documents inside it are documents like any other). */
export type List = Value[];

/**
 * A value: an int (`number` holding an integer, or `bigint` for ints beyond 2^53), a float (`number`
 * holding a non-integer, or `Float`), a string (text), bytes (`Uint8Array`: any byte values), a
 * document (`Map`), a list (array), a boolean, or null.
 */
export type Value = number | bigint | Float | string | Uint8Array | Doc | List | boolean | null;

/** One record: a top-level key and its value (a document, as a rule, but any value may be stored). */
export interface KvRecord {
  key: string;
  value: Value;
}

/**
 * One step of a path: a key into a document (a string), or an index into a list (a number; on a
 * document it is the key of the same digits).
 */
export type PathSegment = string | number;

/** A path: the steps to follow from a record's key down into nested documents and lists. */
export type Path = PathSegment[];

/** The kinds of value. */
export type ValueKind = 'int' | 'float' | 'string' | 'bytes' | 'doc' | 'list' | 'boolean' | 'null';

/** A float value for `n`: the number itself unless it is whole, then a `Float`. */
export function float(n: number): number | Float {
  return Number.isInteger(n) ? new Float(n) : n;
}

/** Which kind `value` is. */
export function kindOf(value: Value): ValueKind {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      if (value === null) return 'null';
      if (value instanceof Map) return 'doc';
      if (value instanceof Float) return 'float';
      if (value instanceof Uint8Array) return 'bytes';
      return 'list';
  }
}

/** Whether `value` is an int or a float. */
export function isNumeric(value: Value): value is number | bigint | Float {
  const kind = kindOf(value);
  return kind === 'int' || kind === 'float';
}

/** The numeric value of an int or float as a JS number (large bigints lose precision here). */
export function toNumber(value: number | bigint | Float): number {
  return typeof value === 'number' ? value : Number(value instanceof Float ? value.value : value);
}

/** An int as the most natural JS value: a `number` when it is safe, else a `bigint`. */
export function normalizeInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

/**
 * Follows `path` down from `value`: a string steps into a document, a number into a list (or into a
 * document, as the key of its digits). Undefined when a step finds nothing or a scalar is in the way.
 */
export function valueAt(value: Value, path: Path): Value | undefined {
  let current: Value | undefined = value;
  for (const step of path) {
    if (current instanceof Map)
      current = current.get(typeof step === 'number' ? String(step) : step);
    else if (Array.isArray(current) && typeof step === 'number') current = current[step];
    else return undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

/** Deep equality that respects kinds: the int `17` and the float `17.0` differ. */
export function valuesEqual(a: Value, b: Value): boolean {
  const kind = kindOf(a);
  if (kind !== kindOf(b)) return false;
  if (kind === 'doc') {
    const x = a as Doc;
    const y = b as Doc;
    if (x.size !== y.size) return false;
    const yKeys = [...y.keys()];
    let i = 0;
    for (const [key, v] of x) {
      if (yKeys[i++] !== key || !valuesEqual(v, y.get(key) as Value)) return false;
    }
    return true;
  }
  if (kind === 'list') {
    const x = a as List;
    const y = b as List;
    return x.length === y.length && x.every((v, i) => valuesEqual(v, y[i] as Value));
  }
  if (kind === 'bytes') return Buffer.from(a as Uint8Array).equals(b as Uint8Array);
  if (kind === 'float') return Object.is(toNumber(a as Float), toNumber(b as Float));
  if (kind === 'int') return BigInt(a as number | bigint) === BigInt(b as number | bigint);
  return a === b;
}
