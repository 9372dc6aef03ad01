import {
  formatDisplay,
  formatPath,
  isNumeric,
  toNumber,
  type Path,
  type Value,
} from '@triekv/record';
import { ComputeError } from './errors.js';

/** A parsed arithmetic expression. */
export type Expr =
  | { kind: 'number'; value: number }
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
 * functions sin, cos, tan (radians) and log (base 10).
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
    if (t.type === 'number') return { kind: 'number', value: Number(t.text) };
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

/** Evaluates an expression; a missing variable, division by zero or log of a non-positive number is an error. */
export function evaluate(expr: Expr, variables: ReadonlyMap<string, number>): number {
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
      return value;
    }
    case 'unary':
      return -evaluate(expr.operand, variables);
    case 'call': {
      const x = evaluate(expr.arg, variables);
      if (expr.fn === 'log' && x <= 0)
        throw new ComputeError(`log of ${x}: the argument must be positive`, expr.column);
      return expr.fn === 'sin'
        ? Math.sin(x)
        : expr.fn === 'cos'
          ? Math.cos(x)
          : expr.fn === 'tan'
            ? Math.tan(x)
            : Math.log10(x);
    }
    case 'binary': {
      const a = evaluate(expr.left, variables);
      const b = evaluate(expr.right, variables);
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

/** What COMPUTE found: the value, and the warnings of the reads it made. */
export interface ComputeResult {
  value: number;
  warnings: string[];
}

/** Each variable of a COMPUTE and the path (record key first) whose value it takes. */
export type Bindings = ReadonlyMap<string, Path> | Readonly<Record<string, Path>>;

/**
 * Evaluates `expression` with each variable bound to the number found at its path: the reads go out
 * together through `query`; a path that finds nothing or a non-number, or a result that is not a finite
 * number, is a `ComputeError`.
 */
export async function computeWith(
  expression: string | Expr,
  bindings: Bindings,
  query: (path: Path) => Promise<{ found: boolean; value?: Value; warnings: string[] }>,
): Promise<ComputeResult> {
  const expr = typeof expression === 'string' ? parseExpression(expression) : expression;
  const pairs: [string, Path][] =
    bindings instanceof Map
      ? [...(bindings as ReadonlyMap<string, Path>)]
      : Object.entries(bindings as Readonly<Record<string, Path>>);
  const reads = await Promise.all(pairs.map(([, path]) => query(path)));
  const variables = new Map<string, number>();
  const warnings = new Set<string>();
  pairs.forEach(([name, path], i) => {
    const r = reads[i] as Awaited<ReturnType<typeof query>>;
    r.warnings.forEach((w) => warnings.add(w));
    if (!r.found || r.value === undefined)
      throw new ComputeError(`${name}: QUERY ${formatPath(path)} found nothing`);
    if (!isNumeric(r.value))
      throw new ComputeError(
        `${name}: QUERY ${formatPath(path)} is not a number (${formatDisplay(path, r.value)})`,
      );
    variables.set(name, toNumber(r.value));
  });
  const value = evaluate(expr, variables);
  if (!Number.isFinite(value))
    throw new ComputeError(`the result is not a finite number (${value})`);
  return { value, warnings: [...warnings] };
}
