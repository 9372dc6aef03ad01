import type { Doc, Value } from '@triekv/record';

/** One step of a JSONPath: a member name, an array index (negative from the end), or `*`. */
export type Step = { key: string } | { index: number } | { wildcard: true };

/** A parsed path: `legacy` for RedisJSON's older form (`.a.b`, `.`), which names one value. */
export interface JsonPath {
  legacy: boolean;
  steps: Step[];
}

/** A path that cannot be read: RedisJSON's wording, `ERR ...`. */
export class JsonPathError extends Error {}

/**
 * Parses `$`, `$.a.b`, `$.a[0]`, `$["a b"]`, `$.a[*]`, `$.*`, and the legacy `.`, `.a.b`, `a.b`,
 * `a[0]`. Recursive descent (`..`) and filters (`?()`) are not supported, and say so.
 */
export function parseJsonPath(text: string): JsonPath {
  let i = 0;
  let legacy = true;
  if (text.startsWith('$')) {
    legacy = false;
    i = 1;
  } else if (text === '.') return { legacy: true, steps: [] };
  const steps: Step[] = [];
  const fail = (what: string): never => {
    throw new JsonPathError(`ERR invalid JSONPath ${JSON.stringify(text)}: ${what} at offset ${i}`);
  };
  if (legacy && i < text.length && text[i] !== '.' && text[i] !== '[') {
    // `a.b`: a legacy path may leave out its leading dot.
    text = `.${text}`;
  }
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      if (text[i + 1] === '.') fail('recursive descent (..) is not supported');
      i++;
      if (text[i] === '*') {
        steps.push({ wildcard: true });
        i++;
        continue;
      }
      const start = i;
      while (i < text.length && text[i] !== '.' && text[i] !== '[') i++;
      if (i === start) fail('expected a member name');
      steps.push({ key: text.slice(start, i) });
    } else if (c === '[') {
      i++;
      if (text[i] === '*' && text[i + 1] === ']') {
        steps.push({ wildcard: true });
        i += 2;
        continue;
      }
      if (text[i] === '"' || text[i] === "'") {
        const quote = text[i] as string;
        let j = i + 1;
        let name = '';
        while (j < text.length && text[j] !== quote) {
          if (text[j] === '\\' && j + 1 < text.length) j++;
          name += text[j] as string;
          j++;
        }
        if (j >= text.length || text[j + 1] !== ']') fail('unterminated member name');
        steps.push({ key: name });
        i = j + 2;
        continue;
      }
      const close = text.indexOf(']', i);
      const digits = close < 0 ? '' : text.slice(i, close);
      if (!/^-?\d+$/.test(digits)) fail('expected an index, a quoted name or * inside [ ]');
      steps.push({ index: Number(digits) });
      i = close + 1;
    } else fail(`unexpected ${JSON.stringify(c)}`);
  }
  return { legacy, steps };
}

/** A value a path found, with where it sits (for SET and DEL): its container and its key or index. */
export interface Match {
  value: Value;
  parent: Doc | Value[] | undefined;
  at: string | number | undefined;
}

/** Every value `steps` reach from `root`, in document order. */
export function evaluate(root: Value, steps: readonly Step[]): Match[] {
  let matches: Match[] = [{ value: root, parent: undefined, at: undefined }];
  for (const step of steps) {
    const next: Match[] = [];
    for (const m of matches) {
      const v = m.value;
      if ('wildcard' in step) {
        if (v instanceof Map) for (const [k, x] of v) next.push({ value: x, parent: v, at: k });
        else if (Array.isArray(v)) v.forEach((x, i) => next.push({ value: x, parent: v, at: i }));
      } else if ('key' in step) {
        if (v instanceof Map && v.has(step.key))
          next.push({ value: v.get(step.key) as Value, parent: v, at: step.key });
      } else if (Array.isArray(v)) {
        const i = step.index < 0 ? v.length + step.index : step.index;
        if (i >= 0 && i < v.length) next.push({ value: v[i] as Value, parent: v, at: i });
      }
    }
    matches = next;
  }
  return matches;
}

/** RedisJSON's type names: object, array, string, integer, number, boolean, null. */
export function jsonType(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string' || value instanceof Uint8Array) return 'string';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (value instanceof Map) return 'object';
  if (Array.isArray(value)) return 'array';
  return 'number';
}
