import { Readable } from 'node:stream';
import { Broker, ComputeError } from '@triekv/broker';
import { parseValue, type Doc } from '@triekv/record';
import type { KvServer } from '@triekv/server';
import { startMuteServer, startServer, waitFor, type MuteServer } from '@triekv/test-utils';

const doc = (text: string): Doc => parseValue(text) as Doc;

/** The library calls beyond get/put: compute, load and repair, with their per-call options. */
describe('Broker API: compute, load, repair', () => {
  const servers: KvServer[] = [];
  let mute: MuteServer | undefined;
  let broker: Broker;

  const cluster = async (options: { mute?: boolean } = {}): Promise<Broker> => {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { server, port } = await startServer();
      servers.push(server);
      ports.push(port);
    }
    if (options.mute === true) {
      mute = await startMuteServer();
      ports.push(mute.port);
    }
    broker = new Broker({
      servers: ports.map((port) => ({ host: '127.0.0.1', port })),
      k: 2,
      autoRepair: false,
    });
    await broker.start();
    return broker;
  };

  afterEach(async () => {
    await broker.close();
    for (const s of servers.splice(0)) await s.close();
    await mute?.close();
    mute = undefined;
  });

  test('query takes a path as an array or as text, and refuses anything else naming the argument', async () => {
    await cluster();
    await broker.put('p2', doc('{ "address" : { "a.b" : 12 } }'));
    await expect(broker.query('p2."address"."a.b"')).resolves.toMatchObject({ value: 12 });
    await expect(broker.query(['p2', 'address', 'a.b'])).resolves.toMatchObject({ value: 12 });
    await expect(broker.query('p2.address')).resolves.toMatchObject({ found: true });
    expect(() => broker.query(42 as unknown as string)).toThrow(
      'path must be an array (the record key, then keys and list indexes) or a path string such as "a.b[0]"',
    );
    expect(() => broker.query('a..b')).toThrow('col 3: expected a key (empty segment)');
    // The record key is a string, and an index a whole number.
    expect(() => broker.query(['p2', -1])).toThrow('path must be an array');
    expect(() => broker.query([1, 'a'])).toThrow(
      'path must be an array (the record key, then keys and list indexes) or a path string such as "a.b[0]"',
    );
  });

  test('compute binds each variable to the number at its path', async () => {
    await cluster();
    await broker.put('p1', doc('{ "age" : 22 ; "h" : 1.5 ; "name" : "Ann" }'));
    await broker.put('p2', doc('{ "address" : { "number" : 12 } }'));
    await expect(broker.compute('2*(x+3)', { x: ['p1', 'age'] })).resolves.toEqual({
      value: 50,
      warnings: [],
    });
    const bindings = new Map([
      ['a', ['p1', 'h']],
      ['b', ['p2', 'address', 'number']],
    ]);
    await expect(broker.compute('a * b - 2^2', bindings)).resolves.toMatchObject({ value: 14 });
    await expect(broker.compute('x', { x: ['p1', 'name'] })).rejects.toThrow(
      'x: QUERY p1.name is not a number (p1.name : "Ann")',
    );
    await expect(broker.compute('x + 1', { x: ['p1', 'nothing'] })).rejects.toThrow(
      'x: QUERY p1.nothing found nothing',
    );
    await expect(broker.compute('x / 0', { x: ['p1', 'age'] })).rejects.toBeInstanceOf(
      ComputeError,
    );
    await expect(broker.compute('y', {})).rejects.toThrow('unknown variable y');
    await expect(broker.compute('2 *', {})).rejects.toThrow(/col 4/);
    const stopped = new AbortController();
    stopped.abort(new Error('stop'));
    await expect(
      broker.compute('x', { x: ['p1', 'age'] }, { signal: stopped.signal }),
    ).rejects.toThrow('stop');
  });

  test('load and repair through the broker; an aborted repair stops with its reason', async () => {
    await cluster();
    const text = ['"a" : { "n" : 1 }', '"b" : { "n" : 2 }', 'not a record', '"c" : { "n" : 3 }'];
    const summary = await broker.load(Readable.from([text.join('\n')]));
    expect(summary).toMatchObject({ records: 3, replicaWrites: 6, underReplicated: 0 });
    expect(summary.rejected).toEqual([
      { line: 3, column: 5, code: 'SYNTAX', reason: expect.any(String) as string },
    ]);
    const repaired = await broker.repair({ timeoutMs: 2000 });
    expect(repaired).toMatchObject({ keys: 3, copied: 0 });
    const stopped = new AbortController();
    stopped.abort(new Error('not now'));
    await expect(broker.repair({ signal: stopped.signal })).rejects.toThrow('not now');
  });

  test('a load retries a batch within loadTimeoutMs: records sent to a server that never answers count as under-replicated', async () => {
    await cluster({ mute: true });
    const lines = Array.from({ length: 200 }, (_, i) => `"key${i}" : { "n" : ${i} }`);
    const summary = await broker.load(Readable.from([lines.join('\n')]), {
      timeoutMs: 300,
      loadTimeoutMs: 1000,
    });
    expect(summary.records).toBe(200);
    // The mute server is one of four: about half of the keys place a replica on it.
    expect(summary.underReplicated).toBeGreaterThan(0);
    expect(summary.underReplicated).toBeLessThan(200);
    expect(summary.retries).toBeGreaterThan(0);
    expect(summary.warnings[0]).toMatch(
      /records reached fewer than 2 replicas \(127\.0\.0\.1:\d+ did not answer within 300 ms/,
    );
  });

  test('a read or write whose signal aborts rejects with its reason, not as a missing answer', async () => {
    await cluster({ mute: true });
    // A key whose replicas include the server that never answers: only the abort can end the call.
    const mutePort = (mute as MuteServer).port;
    let key = '';
    for (let i = 0; key === ''; i++)
      if (broker.cluster.writeTargets(`k${i}`).some((c) => c.address.port === mutePort))
        key = `k${i}`;
    const reading = new AbortController();
    const read = broker.get(key, { signal: reading.signal });
    await waitFor(() => (mute as MuteServer).received.filter((t) => t !== 'PING').length === 1);
    reading.abort(new Error('gave up reading'));
    await expect(read).rejects.toThrow('gave up reading');
    const writing = new AbortController();
    const write = broker.put(key, doc('{ "n" : 1 }'), { signal: writing.signal });
    await waitFor(() => (mute as MuteServer).received.filter((t) => t !== 'PING').length === 2);
    writing.abort(new Error('gave up writing'));
    await expect(write).rejects.toThrow('gave up writing');
  });

  test('a load keeps every batch within the frame limit, and rejects a record no frame can hold', async () => {
    await cluster();
    const lines = Array.from(
      { length: 60 },
      (_, i) => `"key${i}" : { "text" : "${'x'.repeat(200)}" ; "i" : ${i} }`,
    );
    lines.splice(30, 0, `"huge" : { "text" : "${'y'.repeat(3000)}" }`);
    // A line of spaces that packs small: the line limit (the frame limit, by default) is what stops it.
    lines.splice(40, 0, `"spaced" : {${' '.repeat(2500)}}`);
    const summary = await broker.load(Readable.from([lines.join('\n')]), { maxFrameSize: 2000 });
    expect(summary).toMatchObject({ records: 60, replicaWrites: 120, underReplicated: 0 });
    expect(summary.rejected).toEqual([
      {
        line: 31,
        code: 'LINE_TOO_LONG',
        reason: 'line longer than 2000 characters (the maxLineLength limit)',
      },
      {
        line: 41,
        code: 'LINE_TOO_LONG',
        reason: 'line longer than 2000 characters (the maxLineLength limit)',
      },
    ]);
    // With a longer line limit, the spaced line loads and the huge record is refused for its size.
    const again = await broker.load(Readable.from([lines.join('\n')]), {
      maxFrameSize: 2000,
      maxLineLength: 10_000,
    });
    expect(again).toMatchObject({ records: 61, replicaWrites: 122, underReplicated: 0 });
    expect(again.rejected).toEqual([
      {
        line: 31,
        code: 'TOO_LARGE',
        reason: expect.stringMatching(/bytes, more than a frame holds \(2000\)$/) as string,
      },
    ]);
    await expect(broker.get('spaced')).resolves.toMatchObject({ found: true });
    for (let i = 0; i < 60; i++)
      await expect(broker.query([`key${i}`, 'i'])).resolves.toMatchObject({ value: i });
    await expect(broker.get('huge')).resolves.toMatchObject({ found: false });
  });
});
