import { Float, formatDisplay, formatPath, isNumeric, type Path, type Value } from '@triekv/record';
import { ComputeError } from './errors.js';

/** A parsed arithmetic expression. */
export type Expr =
  /** `literal`: written as an int (`3`, not `3.0` or `3e0`), so it may take part in exact arithmetic. */
  | { kind: 'number'; value: number; literal: boolean }
  | { kind: 'variable'; name: string; column: number }
  | { kind: 'unary'; operand: Expr }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/' | '^'; left: Expr; right: Expr; column: number }
  | { kind: 'call'; fn: 'sin' | 'cos' | 'tan' | 'log'; arg: Expr; column: number };

interface Token {
  type: 'number' | 'name' | 'op' | '(' | ')' | 'end';
  text: string;
  column: number;
}

const FUNCTIONS = new Set(['sin', 'cos', 'tan', 'log']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const column = i + 1;
    const number = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (number !== null) {
      tokens.push({ type: 'number', text: number[0], column });
      i += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name !== null) {
      tokens.push({ type: 'name', text: name[0], column });
      i += name[0].length;
      continue;
    }
    if ('+-*/^'.includes(c)) tokens.push({ type: 'op', text: c, column });
    else if (c === '(' || c === ')') tokens.push({ type: c, text: c, column });
    else throw new ComputeError(`unexpected character ${JSON.stringify(c)}`, column);
    i++;
  }
  tokens.push({ type: 'end', text: '', column: text.length + 1 });
  return tokens;
}

/**
 * Parses an arithmetic expression: numbers, variables, `+ - * / ^` with the usual precedence (`^` binds
 * tightest and to the right; unary minus binds looser than `^`, so -2^2 = -4), parentheses, and the
 * functions sin, cos, tan (degrees, or radians: see `evaluate`) and log (base 10).
 */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token => tokens[at] as Token;
  const take = (): Token => tokens[at++] as Token;
  const describe = (t: Token): string =>
    t.type === 'end' ? 'end of expression' : JSON.stringify(t.text);

  const sum = (): Expr => {
    let left = product();
    while (peek().type === 'op' && (peek().text === '+' || peek().text === '-')) {
      const op = take();
      left = {
        kind: 'binary',
        op: op.text as '+' | '-',
        left,
        right: product(),
        column: op.column,
      };
    }
    return left;
  };
  const product = (): Expr => {
    let left = unary();
    while (peek().type === 'op' && (peek().text === '*' || peek().text === '/')) {
      const op = take();
      left = { kind: 'binary', op: op.text as '*' | '/', left, right: unary(), column: op.column };
    }
    return left;
  };
  const unary = (): Expr => {
    if (peek().type === 'op' && peek().text === '-') {
      take();
      return { kind: 'unary', operand: unary() };
    }
    if (peek().type === 'op' && peek().text === '+') {
      take();
      return unary();
    }
    return power();
  };
  const power = (): Expr => {
    const base = primary();
    if (peek().type === 'op' && peek().text === '^') {
      const op = take();
      return { kind: 'binary', op: '^', left: base, right: unary(), column: op.column };
    }
    return base;
  };
  const primary = (): Expr => {
    const t = take();
    if (t.type === 'number')
      return { kind: 'number', value: Number(t.text), literal: /^\d+$/.test(t.text) };
    if (t.type === '(') {
      const inner = sum();
      const close = take();
      if (close.type !== ')')
        throw new ComputeError(`expected ')', found ${describe(close)}`, close.column);
      return inner;
    }
    if (t.type === 'name') {
      if (FUNCTIONS.has(t.text.toLowerCase()) && peek().type === '(') {
        take();
        const arg = sum();
        const close = take();
        if (close.type !== ')')
          throw new ComputeError(
            `expected ')' to close ${t.text}(, found ${describe(close)}`,
            close.column,
          );
        return { kind: 'call', fn: t.text.toLowerCase() as 'sin', arg, column: t.column };
      }
      return { kind: 'variable', name: t.text, column: t.column };
    }
    throw new ComputeError(
      `expected a number, a variable, a function or '(', found ${describe(t)}`,
      t.column,
    );
  };

  if (peek().type === 'end') throw new ComputeError('empty expression', 1);
  const expr = sum();
  const rest = peek();
  if (rest.type !== 'end')
    throw new ComputeError(
      `expected an operator or end of expression, found ${describe(rest)}`,
      rest.column,
    );
  return expr;
}

/** The variables an expression uses, in order of first use. */
export function variablesOf(expr: Expr, into: string[] = []): string[] {
  switch (expr.kind) {
    case 'variable':
      if (!into.includes(expr.name)) into.push(expr.name);
      break;
    case 'unary':
      variablesOf(expr.operand, into);
      break;
    case 'binary':
      variablesOf(expr.left, into);
      variablesOf(expr.right, into);
      break;
    case 'call':
      variablesOf(expr.arg, into);
      break;
  }
  return into;
}

/** How sin, cos and tan read their argument: in degrees (the assignment's examples) or radians. */
export type Angles = 'degrees' | 'radians';

/** Options of `evaluate` and `computeWith`. */
export interface EvaluateOptions {
  /** @default 'degrees' */
  angles?: Angles;
}

/** A variable's value: a float64, or an exact int (`bigint`). */
export type Operand = number | bigint;

/** Results of exact int arithmetic past this many bits are computed in float64 instead. */
const MAX_EXACT_BITS = 1 << 16;

function bitLength(n: bigint): number {
  return (n < 0n ? -n : n).toString(16).length * 4;
}

/**
 * The exact value of `expr` when every operand is an int and every operator is `+ - *` or `^` with a
 * non-negative int exponent; undefined when any of it needs float64 (a float operand or literal, `/`,
 * a function, a negative exponent, a result too large to keep exactly).
 */
function exact(expr: Expr, variables: ReadonlyMap<string, Operand>): bigint | undefined {
  switch (expr.kind) {
    case 'number':
      return Number.isSafeInteger(expr.value) && expr.literal ? BigInt(expr.value) : undefined;
    case 'variable': {
      const v = variables.get(expr.name);
      if (typeof v === 'bigint') return v;
      return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
    }
    case 'unary': {
      const v = exact(expr.operand, variables);
      return v === undefined ? undefined : -v;
    }
    case 'call':
      return undefined;
    case 'binary': {
      if (expr.op === '/') return undefined;
      const a = exact(expr.left, variables);
      if (a === undefined) return undefined;
      const b = exact(expr.right, variables);
      if (b === undefined) return undefined;
      if (expr.op === '+') return a + b;
      if (expr.op === '-') return a - b;
      if (expr.op === '*') return bitLength(a) + bitLength(b) > MAX_EXACT_BITS ? undefined : a * b;
      if (b < 0n || bitLength(a) * Number(b) > MAX_EXACT_BITS) return undefined;
      return a ** b;
    }
  }
}

/**
 * Evaluates an expression: exactly (a `bigint` beyond 2^53) when every operand is an int and the
 * operators are `+ - * ^` (non-negative int exponents), else in float64. A missing variable, division
 * by zero or log of a non-positive number is an error. sin, cos and tan take degrees unless
 * `angles: 'radians'`.
 */
export function evaluate(
  expr: Expr,
  variables: ReadonlyMap<string, Operand>,
  options?: EvaluateOptions,
): number | bigint {
  const whole = exact(expr, variables);
  if (whole !== undefined) {
    const n = Number(whole);
    return Number.isSafeInteger(n) ? n : whole;
  }
  return float(expr, variables, options?.angles ?? 'degrees');
}

function float(expr: Expr, variables: ReadonlyMap<string, Operand>, angles: Angles): number {
  switch (expr.kind) {
    case 'number':
      return expr.value;
    case 'variable': {
      const value = variables.get(expr.name);
      if (value === undefined)
        throw new ComputeError(
          `unknown variable ${expr.name} (bind it with WHERE ${expr.name} = QUERY path)`,
          expr.column,
        );
      return Number(value);
    }
    case 'unary':
      return -float(expr.operand, variables, angles);
    case 'call': {
      const x = float(expr.arg, variables, angles);
      if (expr.fn === 'log') {
        if (x <= 0)
          throw new ComputeError(`log of ${x}: the argument must be positive`, expr.column);
        return Math.log10(x);
      }
      const r = angles === 'degrees' ? (x * Math.PI) / 180 : x;
      return expr.fn === 'sin' ? Math.sin(r) : expr.fn === 'cos' ? Math.cos(r) : Math.tan(r);
    }
    case 'binary': {
      const a = float(expr.left, variables, angles);
      const b = float(expr.right, variables, angles);
      switch (expr.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          if (b === 0) throw new ComputeError('division by zero', expr.column);
          return a / b;
        case '^': {
          const r = a ** b;
          if (Number.isNaN(r))
            throw new ComputeError(`${a} ^ ${b} is not a real number`, expr.column);
          return r;
        }
      }
    }
  }
}

/** What COMPUTE found: the value (a `bigint` for an exact int beyond 2^53), and the reads' warnings. */
export interface ComputeResult {
  value: number | bigint;
  warnings: string[];
}

/** Each variable of a COMPUTE and the path (record key first) whose value it takes. */
export type Bindings = ReadonlyMap<string, Path> | Readonly<Record<string, Path>>;

/** A number written as a string (`"58.34"`, `" 12 "`), as some data files store every number. */
const NUMERIC_TEXT = /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** The operand a value stands for: a number, or a string that holds one; undefined for anything else. */
export function operandOf(value: Value): Operand | undefined {
  if (isNumeric(value)) {
    if (typeof value === 'bigint') return value;
    return value instanceof Float ? value.value : value;
  }
  if (typeof value !== 'string' || !NUMERIC_TEXT.test(value)) return undefined;
  const text = value.trim();
  if (/^-?\d+$/.test(text) && text.replace('-', '').length <= 400) {
    const n = BigInt(text);
    const small = Number(n);
    return Number.isSafeInteger(small) ? small : n;
  }
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Evaluates `expression` with each variable bound to the number found at its path (a string holding a
 * number counts as that number): the reads go out together through `query`; a path that finds nothing
 * or a non-number, or a result that is not a finite number, is a `ComputeError`.
 */
export async function computeWith(
  expression: string | Expr,
  bindings: Bindings,
  query: (path: Path) => Promise<{ found: boolean; value?: Value; warnings: string[] }>,
  options?: EvaluateOptions,
): Promise<ComputeResult> {
  const expr = typeof expression === 'string' ? parseExpression(expression) : expression;
  const pairs: [string, Path][] =
    bindings instanceof Map
      ? [...(bindings as ReadonlyMap<string, Path>)]
      : Object.entries(bindings as Readonly<Record<string, Path>>);
  const reads = await Promise.all(pairs.map(([, path]) => query(path)));
  const variables = new Map<string, Operand>();
  const warnings = new Set<string>();
  pairs.forEach(([name, path], i) => {
    const r = reads[i] as Awaited<ReturnType<typeof query>>;
    r.warnings.forEach((w) => warnings.add(w));
    if (!r.found || r.value === undefined)
      throw new ComputeError(`${name}: QUERY ${formatPath(path)} found nothing`);
    const operand = operandOf(r.value);
    if (operand === undefined)
      throw new ComputeError(
        `${name}: QUERY ${formatPath(path)} is not a number (${formatDisplay(path, r.value)})`,
      );
    variables.set(name, operand);
  });
  const value = evaluate(expr, variables, options);
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new ComputeError(`the result is not a finite number (${value})`);
  return { value, warnings: [...warnings] };
}
