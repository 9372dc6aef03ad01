import { KeyOrder } from '@triekv/broker';

/** A promise with its resolver, for deciding by hand when an operation ends. */
function gate(): { done: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyOrder', () => {
  it('holds an operation until the earlier ones on its keys are over, and no others', async () => {
    const order = new KeyOrder();
    const a = gate();
    void order.before(['a']);
    order.add(['a'], a.done);
    const started: string[] = [];
    void order.before(['a']).then(() => started.push('a again'));
    order.add(['a'], Promise.resolve());
    void order.before(['b']).then(() => started.push('b'));
    order.add(['b'], Promise.resolve());
    await flush();
    expect(started).toEqual(['b']);
    a.open();
    await flush();
    expect(started).toEqual(['b', 'a again']);
  });

  it('makes an operation on every key wait for all before it, and all after wait for it', async () => {
    const order = new KeyOrder();
    const x = gate();
    order.add(['x'], x.done);
    const started: string[] = [];
    const barrier = gate();
    void order.before(undefined).then(() => started.push('scan'));
    order.add(undefined, barrier.done);
    void order.before(['y']).then(() => started.push('y'));
    order.add(['y'], Promise.resolve());
    await flush();
    expect(started).toEqual([]);
    x.open();
    await flush();
    expect(started).toEqual(['scan']);
    barrier.open();
    await flush();
    expect(started).toEqual(['scan', 'y']);
  });
});
