import fc from 'fast-check';
import { RESERVE_START_SPACE } from 'msgpackr';
import { ProtocolError, toWire, type Message } from '@triekv/protocol';
import { packr, unpackr } from '../src/codec.js';
import { toMessage } from '../src/decode.js';
import { decodeFast, encodeFast } from '../src/fast-codec.js';
import { messageArb } from './arbitraries.js';

/** The general codec's frame of `m` (msgpackr), as the fast path must match it. */
function generalFrame(m: Message): Buffer {
  const frame = packr.pack(toWire(m), RESERVE_START_SPACE | 4);
  frame.writeUInt32BE(frame.length - 4, 0);
  return frame;
}

const general = (frame: Uint8Array): Message | ProtocolError =>
  toMessage(unpackr.unpack(Buffer.from(frame).subarray(4)), 64);

/**
 * Bigints beyond 64 bits, the info maps of STATS and HELLO replies and membership records are left to
 * the general codec.
 */
function hasHugeInt(value: unknown): boolean {
  if (typeof value === 'bigint') return value < -(2n ** 63n) || value >= 2n ** 64n;
  if (value instanceof Map) return [...value.values()].some(hasHugeInt);
  if (Array.isArray(value)) return value.some(hasHugeInt);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasHugeInt);
  return false;
}
const fastCase = (m: Message): boolean =>
  !hasHugeInt(m) &&
  m.type !== 'MEMBERS_SET' &&
  !(
    m.type === 'OK' &&
    (m.stats !== undefined || m.server !== undefined || m.members !== undefined)
  );

describe('fast codec', () => {
  it('writes msgpack that the general codec reads as the same message', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const frame = encodeFast(m);
        if (!fastCase(m)) {
          expect(frame).toBeUndefined();
          return;
        }
        expect(frame).toBeDefined();
        const bytes = frame as Uint8Array;
        expect(Buffer.from(bytes).readUInt32BE(0)).toBe(bytes.length - 4);
        expect(general(bytes)).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('reads what the general codec writes, to the message the general decoder makes', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const frame = generalFrame(m);
        const fast = decodeFast(frame, 4, frame.length, 64);
        if (fastCase(m)) expect(fast).toEqual(m);
        if (fast !== undefined) expect(fast).toEqual(general(frame));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on damaged frames, and takes none the general decoder would refuse', () => {
    fc.assert(
      fc.property(
        messageArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        (m, flips, cut) => {
          const frame = Buffer.from(generalFrame(m));
          for (const [at, byte] of flips) frame[4 + (at % (frame.length - 4))] = byte;
          const end = 4 + (cut % (frame.length - 3));
          const fast = decodeFast(frame, 4, end, 64);
          if (fast === undefined) return;
          let slow: Message | ProtocolError;
          try {
            slow = toMessage(unpackr.unpack(frame.subarray(4, end)), 64);
          } catch {
            throw new Error('the fast path took a frame msgpackr cannot read');
          }
          expect(slow).not.toBeInstanceOf(ProtocolError);
          expect(fast).toEqual(slow);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses documents deeper than the limit (the general decoder then says why)', () => {
    let doc = new Map<string, never>() as Map<string, unknown>;
    for (let i = 0; i < 5; i++) doc = new Map([['d', doc]]);
    const m = { type: 'PUT', id: 1, key: 'k', value: doc, version: [1, 0, 'n'] } as Message;
    const frame = encodeFast(m) as Uint8Array;
    expect(decodeFast(frame, 4, frame.length, 6)).toEqual(m);
    expect(decodeFast(frame, 4, frame.length, 5)).toBeUndefined();
    expect(general(Buffer.from(frame))).toEqual(m);
  });

  it('hands out frames that later frames never overwrite', () => {
    const frames = Array.from({ length: 5000 }, (_, i) =>
      encodeFast({ type: 'GET', id: i, key: `key-${i}-${'x'.repeat(i % 50)}` }),
    ) as Uint8Array[];
    frames.forEach((f, i) =>
      expect(general(f)).toEqual({ type: 'GET', id: i, key: `key-${i}-${'x'.repeat(i % 50)}` }),
    );
  });
});
