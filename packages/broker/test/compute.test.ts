import { ComputeError, evaluate, parseExpression, variablesOf } from '@triekv/broker';

const calc = (text: string, vars: Record<string, number> = {}): number =>
  evaluate(parseExpression(text), new Map(Object.entries(vars)));

describe('COMPUTE expressions', () => {
  it.each([
    ['2*(x+3)', { x: 12 }, 30],
    ['1 + 2 * 3', {}, 7],
    ['(1 + 2) * 3', {}, 9],
    ['2 ^ 3 ^ 2', {}, 512], // right-associative
    ['-2 ^ 2', {}, -4], // unary minus binds looser than ^
    ['2 ^ -1', {}, 0.5],
    ['--3', {}, 3],
    ['10 / 4 - 1', {}, 1.5],
    ['8 - 3 - 2', {}, 3], // left-associative
    ['log(1000)', {}, 3],
    ['sin(0) + cos(0) + tan(0)', {}, 1],
    ['x * y - z', { x: 2, y: 3.5, z: 1 }, 6],
    ['1e3 + .5', {}, 1000.5],
  ])('%s = %d', (text, vars, expected) => {
    expect(calc(text, vars)).toBeCloseTo(expected, 10);
  });

  it.each([
    ['', 'col 1: empty expression'],
    ['2 +', "col 4: expected a number, a variable, a function or '(', found end of expression"],
    ['(1 + 2', "col 7: expected ')', found end of expression"],
    ['1 2', 'col 3: expected an operator or end of expression, found "2"'],
    ['2 $ 3', 'col 3: unexpected character "$"'],
    ['log(2', "col 6: expected ')' to close log(, found end of expression"],
  ])('points at the problem in %j', (text, message) => {
    expect(() => parseExpression(text)).toThrow(ComputeError);
    expect(() => parseExpression(text)).toThrow(message);
  });

  it.each([
    ['x + 1', {}, 'col 1: unknown variable x'],
    ['1 / (x - x)', { x: 3 }, 'col 3: division by zero'],
    ['log(0)', {}, 'col 1: log of 0: the argument must be positive'],
    ['(-8) ^ 0.5', {}, 'is not a real number'],
  ])('refuses to evaluate %s', (text, vars, message) => {
    expect(() => calc(text, vars)).toThrow(message);
  });

  it('lists the variables an expression uses', () => {
    expect(variablesOf(parseExpression('x * (y + x) - sin(z)'))).toEqual(['x', 'y', 'z']);
  });
});
