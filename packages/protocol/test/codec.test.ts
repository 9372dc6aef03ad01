import {
  ErrorCode,
  FrameDecoder,
  ProtocolError,
  compareVersions,
  decodeFrame,
  encodeFrame,
  type Decoded,
  type Message,
} from '@triekv/protocol';
import { Float, formatValue, parseValue, type Doc } from '@triekv/record';
import { packr } from '../src/codec.js';

const doc = parseValue(
  '{ "name" : "Mary" ; "h" : 17.0 ; "f" : 1.5 ; "big" : 123456789012345678901234 ; "address" : { "number" : 12 } }',
) as Doc;
const version = [1764288000000, 3, 'broker-a'] as const;

const samples: Message[] = [
  { type: 'HELLO', id: 1, protocol: 1, token: 's3cret', client: 'kv-broker' },
  { type: 'HELLO', id: 2, protocol: 1 },
  { type: 'PING', id: 3 },
  { type: 'PUT', id: 4, key: 'person2', value: doc, version },
  {
    type: 'PUT_BATCH',
    id: 5,
    records: [
      { key: 'a', value: doc, version },
      { key: 'b', value: new Map(), version },
    ],
  },
  { type: 'GET', id: 6, key: 'person2' },
  { type: 'QUERY', id: 7, key: 'person2', path: ['address', 'number'] },
  { type: 'DELETE', id: 8, key: 'person2', version },
  { type: 'SCAN', id: 9, prefix: 'person', limit: 100, after: 'person1' },
  { type: 'SCAN', id: 10, prefix: '', limit: 0 },
  { type: 'STATS', id: 11 },
  { type: 'EXPORT', id: 12, limit: 500, after: 'k' },
  { type: 'OK', id: 13, value: doc, version },
  { type: 'OK', id: 14, applied: false, version },
  { type: 'OK', id: 15, appliedCount: 99, ignoredCount: 1 },
  { type: 'OK', id: 16, keys: ['a', 'b'], cursor: 'b' },
  {
    type: 'OK',
    id: 17,
    entries: [
      { key: 'a', value: doc, version },
      { key: 'b', value: null, version },
    ],
  },
  { type: 'OK', id: 18, stats: { keys: 10, uptimeSeconds: 5, ops: { GET: 3, PUT: 7 } } },
  { type: 'OK', id: 19, server: { protocol: 1, name: 'triekv', id: 'srv-1' } },
  { type: 'OK', id: 20, value: new Float(17) },
  { type: 'NOT_FOUND', id: 21 },
  { type: 'NOT_FOUND', id: 22, version },
  { type: 'ERROR', id: 23, code: 'BAD_VALUE', message: 'no' },
];

const messages = (items: Decoded[]): Message[] =>
  items.map((item) => {
    if (item instanceof ProtocolError) throw item;
    return item;
  });

/** The body of a frame holding exactly this raw msgpack value. */
const rawFrame = (value: unknown): Buffer => {
  const body = packr.pack(value);
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
};

describe('frames', () => {
  it.each(samples.map((m) => [m.type, m] as const))(
    'round-trips %s whole and byte by byte',
    (_type, message) => {
      const frame = encodeFrame(message);
      expect(decodeFrame(frame)).toEqual(message);
      const decoder = new FrameDecoder();
      const out: Decoded[] = [];
      for (const byte of frame) out.push(...decoder.push(Uint8Array.of(byte)));
      expect(messages(out)).toEqual([message]);
      expect(decoder.pending).toBe(0);
      expect(decoder.end()).toBeUndefined();
    },
  );

  it('keeps value types, key order and odd keys across the wire', () => {
    const value = new Map<string, unknown>([
      ['z', 1],
      ['__proto__', 'p'],
      ['a', new Float(17)],
      ['n', -0.5],
      ['b', 2n ** 70n],
    ]) as Doc;
    const back = decodeFrame(encodeFrame({ type: 'PUT', id: 1, key: 'k', value, version })) as {
      value: Doc;
    };
    expect([...back.value.keys()]).toEqual(['z', '__proto__', 'a', 'n', 'b']);
    expect(back.value.get('a')).toBeInstanceOf(Float);
    expect(formatValue(back.value)).toBe(
      '{ "z" : 1 ; "__proto__" : "p" ; "a" : 17.0 ; "n" : -0.5 ; "b" : 1180591620717411303424 }',
    );
  });

  it('keeps the sign of a float -0.0 and the exact bits of any float', () => {
    const value = new Map<string, unknown>([
      ['z', new Float(-0)],
      ['m', new Float(Number.MAX_VALUE)],
      ['t', new Float(5e-324)],
    ]) as Doc;
    const back = decodeFrame(encodeFrame({ type: 'PUT', id: 1, key: 'k', value, version })) as {
      value: Doc;
    };
    expect(Object.is((back.value.get('z') as Float).value, -0)).toBe(true);
    expect(formatValue(back.value)).toBe(
      '{ "z" : -0.0 ; "m" : 1.7976931348623157e+308 ; "t" : 5e-324 }',
    );
  });

  it('decodes many frames from one chunk, and frames split across chunks at every point', () => {
    const stream = Buffer.concat(samples.map((m) => encodeFrame(m)));
    expect(messages(new FrameDecoder().push(stream))).toEqual(samples);
    for (const cut of [1, 3, 4, 5, 17, stream.length - 1]) {
      const decoder = new FrameDecoder();
      const out = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(messages(out)).toEqual(samples);
    }
  });

  it('says incomplete for a truncated stream, at the header and in the body', () => {
    const frame = encodeFrame(samples[3] as Message);
    const headerOnly = new FrameDecoder();
    expect(headerOnly.push(frame.subarray(0, 2))).toEqual([]);
    expect(headerOnly.end()?.message).toBe('incomplete frame header: 2 of 4 bytes');
    const body = new FrameDecoder();
    expect(body.push(frame.subarray(0, 10))).toEqual([]);
    const error = body.end();
    expect(error?.code).toBe(ErrorCode.INCOMPLETE);
    expect(error?.fatal).toBe(true);
    expect(error?.message).toBe(`incomplete frame: 6 of ${frame.length - 4} body bytes`);
  });

  it('refuses an oversized length before buffering anything, and stops decoding', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const header = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    const out = decoder.push(header);
    expect(out).toHaveLength(1);
    expect((out[0] as ProtocolError).code).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect((out[0] as ProtocolError).message).toBe(
      'frame of 4294967295 bytes exceeds the limit of 1024 bytes',
    );
    expect(decoder.pending).toBe(0);
    expect(decoder.push(encodeFrame({ type: 'PING', id: 1 }))).toEqual([]);
    // Split header: the check still happens as soon as the 4th byte arrives.
    const split = new FrameDecoder({ maxFrameSize: 1024 });
    expect(split.push(Buffer.from([0, 0]))).toEqual([]);
    expect((split.push(Buffer.from([0x10, 0x01]))[0] as ProtocolError).code).toBe(
      ErrorCode.FRAME_TOO_LARGE,
    );
  });

  it('refuses to encode a message over the limit', () => {
    const big = new Map([['s', 'x'.repeat(2000)]]) as Doc;
    expect(() =>
      encodeFrame({ type: 'PUT', id: 9, key: 'k', value: big, version }, { maxFrameSize: 1000 }),
    ).toThrow(/exceeds the frame limit of 1000 bytes/);
  });

  it.each([
    ['bad msgpack', Buffer.from([0, 0, 0, 1, 0xc1]), ErrorCode.CORRUPT, undefined],
    [
      'truncated msgpack inside a complete frame',
      Buffer.from([0, 0, 0, 2, 0x92, 0x01]),
      ErrorCode.CORRUPT,
      undefined,
    ],
    [
      'two messages in one frame',
      Buffer.from([0, 0, 0, 2, 0x01, 0x02]),
      ErrorCode.CORRUPT,
      undefined,
    ],
    ['not an array', rawFrame('hello'), ErrorCode.BAD_MESSAGE, undefined],
    ['a bad id', rawFrame([5, -1, 'k']), ErrorCode.BAD_MESSAGE, undefined],
    ['an unknown type', rawFrame([99, 7]), ErrorCode.UNKNOWN_TYPE, 7],
    ['a missing field', rawFrame([5, 8]), ErrorCode.BAD_MESSAGE, 8],
    ['a mistyped field', rawFrame([5, 9, 42]), ErrorCode.BAD_MESSAGE, 9],
    ['a bad version', rawFrame([7, 10, 'k', [1, 2]]), ErrorCode.BAD_MESSAGE, 10],
    [
      'an unsupported extension inside a list',
      rawFrame([3, 12, 'k', [1, new Date(0)], [1, 0, 'n']]),
      ErrorCode.BAD_VALUE,
      12,
    ],
    [
      'a non-string key inside a list',
      rawFrame([3, 13, 'k', [new Map([[1, 2]])], [1, 0, 'n']]),
      ErrorCode.BAD_VALUE,
      13,
    ],
    [
      'a non-string document key',
      rawFrame([3, 14, 'k', new Map([[1, 2]]), [1, 0, 'n']]),
      ErrorCode.BAD_VALUE,
      14,
    ],
    [
      'NaN inside a value',
      rawFrame([3, 15, 'k', new Map([['a', Number.NaN]]), [1, 0, 'n']]),
      ErrorCode.BAD_VALUE,
      15,
    ],
  ])('reports %s with a stable code (and the id when readable)', (_what, frame, code, id) => {
    const decoder = new FrameDecoder();
    const out = decoder.push(frame);
    expect(out).toHaveLength(1);
    const error = out[0] as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe(code);
    expect(error.id).toBe(id);
    expect(error.fatal).toBe(false);
    // The stream goes on: the next frame decodes.
    expect(messages(decoder.push(encodeFrame({ type: 'PING', id: 77 })))).toEqual([
      { type: 'PING', id: 77 },
    ]);
  });

  it.each([
    [
      'a float extension of the wrong length',
      Buffer.from([0, 0, 0, 5, 0x91, 0xd6, 0x46, 0, 0]),
      'a float (extension 0x46) holds 8 bytes, not 4',
    ],
    [
      'a structured-clone pointer',
      Buffer.from([0, 0, 0, 7, 0x92, 0x05, 0xd6, 0x70, 0, 0, 0]),
      'msgpack extension type 0x70 is not supported',
    ],
    [
      'a Date',
      Buffer.from([0, 0, 0, 7, 0x92, 0x05, 0xd6, 0xff, 0, 0, 0]),
      'msgpack extension type 0xff is not supported',
    ],
  ])('says what is wrong with %s, not how the decoder failed', (_what, bytes, message) => {
    const framed = Buffer.from(bytes);
    framed.writeUInt32BE(framed.length - 4, 0);
    const error = decodeFrame(framed) as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe(ErrorCode.BAD_VALUE);
    expect(error.message).toBe(message);
  });

  it('names the field at fault', () => {
    const error = decodeFrame(rawFrame([6, 3, 'k', 'not-a-list'])) as ProtocolError;
    expect(error.message).toBe(
      "QUERY: field 'path' must be an array of keys (strings) and indexes (whole numbers) (got string)",
    );
  });

  it('refuses values nested deeper than maxDepth', () => {
    let deep: Doc = new Map();
    for (let i = 0; i < 10; i++) deep = new Map([['a', deep]]);
    const frame = encodeFrame({ type: 'PUT', id: 4, key: 'k', value: deep, version });
    expect((decodeFrame(frame, { maxDepth: 5 }) as ProtocolError).code).toBe(ErrorCode.BAD_VALUE);
    expect(decodeFrame(frame, { maxDepth: 64 })).not.toBeInstanceOf(ProtocolError);
    // Pathological nesting in raw msgpack does not crash the decoder either.
    const nested = Buffer.concat([Buffer.alloc(100000, 0x91), Buffer.from([0x01])]);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(nested.length);
    const out = new FrameDecoder().push(Buffer.concat([header, nested]));
    expect(out[0]).toBeInstanceOf(ProtocolError);
  });

  it('ignores extra trailing fields and unknown OK fields (newer peers)', () => {
    expect(decodeFrame(rawFrame([5, 1, 'k', null, 'extra', 42]))).toEqual({
      type: 'GET',
      id: 1,
      key: 'k',
    });
    expect(decodeFrame(rawFrame([6, 1, 'k', ['a'], true, 'extra']))).toEqual({
      type: 'QUERY',
      id: 1,
      key: 'k',
      path: ['a'],
      versionOnly: true,
    });
    expect(
      decodeFrame(
        rawFrame([
          64,
          2,
          new Map<string, unknown>([
            ['applied', true],
            ['future', 1],
          ]),
        ]),
      ),
    ).toEqual({
      type: 'OK',
      id: 2,
      applied: true,
    });
  });

  it('reads versionOnly as a flag: absent, nil or false is off; anything else is an error', () => {
    expect(decodeFrame(rawFrame([5, 3, 'k', false]))).toEqual({ type: 'GET', id: 3, key: 'k' });
    expect(decodeFrame(rawFrame([5, 3, 'k', true]))).toEqual({
      type: 'GET',
      id: 3,
      key: 'k',
      versionOnly: true,
    });
    const bad = decodeFrame(rawFrame([5, 3, 'k', 'yes']));
    expect(bad).toBeInstanceOf(ProtocolError);
    expect((bad as ProtocolError).message).toBe(
      "GET: field 'versionOnly' must be a boolean or nil (got string)",
    );
  });

  it('orders versions by wall time, counter, then node', () => {
    expect(compareVersions([1, 0, 'a'], [2, 0, 'a'])).toBeLessThan(0);
    expect(compareVersions([2, 1, 'a'], [2, 0, 'z'])).toBeGreaterThan(0);
    expect(compareVersions([2, 1, 'b'], [2, 1, 'a'])).toBeGreaterThan(0);
    expect(compareVersions([2, 1, 'a'], [2, 1, 'a'])).toBe(0);
  });
});
