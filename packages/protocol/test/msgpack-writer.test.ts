import fc from 'fast-check';
import {
  FrameDecoder,
  ProtocolError,
  decodeFrame,
  encodeFrame,
  type Message,
} from '@triekv/protocol';
import { encodeFast } from '../src/fast-codec.js';
import { MsgpackWriter } from '../src/msgpack-writer.js';
import { messageArb } from './arbitraries.js';

const version = [1764288000000, 1, 'b'] as const;
const put = (id: number, size: number): Message => ({
  type: 'PUT',
  id,
  key: `k${id}`,
  value: new Map([['v', 'x'.repeat(size)]]),
  version: [...version],
});

describe('MsgpackWriter', () => {
  test('a large frame, then small frames past the grown buffer (the shared-buffer crash)', () => {
    const w = new MsgpackWriter();
    expect(encodeFast(put(0, 48 * 1024), w)).toBeDefined();
    const frames: Uint8Array[] = [];
    let written = 0;
    for (let i = 1; written < 600_000; i++) {
      const frame = encodeFast({ type: 'GET', id: i, key: `key${i}` }, w) as Uint8Array;
      frames.push(frame);
      written += frame.length;
    }
    frames.forEach((f, i) =>
      expect(decodeFrame(f)).toEqual({ type: 'GET', id: i + 1, key: `key${i + 1}` }),
    );
  });

  test('encodeFrame keeps working after a large frame (process-wide writer)', () => {
    encodeFrame(put(1, 48 * 1024));
    for (let i = 0; i < 40_000; i++) encodeFrame({ type: 'GET', id: i, key: `key${i}` });
    expect(decodeFrame(encodeFrame(put(2, 10)))).toEqual(put(2, 10));
  });

  test('outputs start 8-byte aligned and are never overwritten, whatever the sizes', () => {
    const w = new MsgpackWriter();
    const sizes = [1, 70_000, 3, 13, 200_000, 5, 1_500_000, 7, 9];
    const frames = sizes.map((size, id) => encodeFast(put(id, size), w) as Uint8Array);
    frames.forEach((f, id) => {
      expect(f.byteOffset % 8).toBe(0);
      expect(decodeFrame(f)).toEqual(put(id, sizes[id] as number));
    });
  });

  test('an abandoned output leaves nothing behind', () => {
    const w = new MsgpackWriter();
    w.begin(4);
    w.string('abc');
    w.abandon();
    w.begin();
    w.uint(7);
    expect([...w.take()]).toEqual([7]);
  });

  test('any sequence of frames of 1 byte to 4 MB decodes back equal, after many regrowths', () => {
    const size = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 200 }) },
      { weight: 3, arbitrary: fc.integer({ min: 200, max: 70_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 70_000, max: 4 * 1024 * 1024 }) },
    );
    const value = (n: number): Map<string, string> => new Map([['v', 'x'.repeat(n)]]);
    const message = fc.oneof(
      size.map((n) => put(n, n)),
      size.map((n): Message => ({ type: 'GET', id: n, key: 'g'.repeat(n) })),
      size.map((n): Message => ({ type: 'OK', id: n, value: value(n), version: [n, 0, 'v'] })),
      size.map((n): Message => ({ type: 'SCAN', id: n, prefix: 'p'.repeat(n), limit: 1 })),
      // Every message type, with every field, at the small sizes where headers meet buffer ends.
      messageArb,
    );
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 30 }), (messages) => {
        const frames = messages.map((m) => encodeFrame(m));
        // Decoded only once all are written: a later frame must not have touched an earlier one.
        const decoder = new FrameDecoder();
        const out = frames.flatMap((f) => decoder.push(f));
        expect(out.filter((d) => d instanceof ProtocolError)).toEqual([]);
        expect(out).toEqual(messages);
      }),
      { numRuns: 40 },
    );
  });

  test('small replies of every size across many buffer ends, written one after another', () => {
    // What a busy server writes: OK replies of sizes that take every position against a buffer's end.
    const w = new MsgpackWriter();
    const frames: [Message, Uint8Array][] = [];
    for (let i = 0; i < 60_000; i++) {
      const m: Message =
        i % 3 === 0
          ? { type: 'OK', id: i, applied: true, version: [i, 0, 'b'] }
          : {
              type: 'OK',
              id: i,
              value: new Map([['v', 'y'.repeat(i % 41)]]),
              version: [i, 1, 'b'],
            };
      frames.push([m, encodeFast(m, w) as Uint8Array]);
    }
    for (const [m, f] of frames) expect(decodeFrame(f)).toEqual(m);
  });
});
