import fc from 'fast-check';
import {
  FrameDecoder,
  ProtocolError,
  encodeFrame,
  type Decoded,
  type Message,
} from '@triekv/protocol';
import { messageArb } from './arbitraries.js';

/** Splits `bytes` at the given points (sorted, deduplicated, in range). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(bytes.subarray(last, p));
    last = p;
  }
  parts.push(bytes.subarray(last));
  return parts;
}

describe('codec properties', () => {
  it('any sequence of messages, split at random points, decodes to itself', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (msgs, cuts) => {
          const bytes = Buffer.concat(msgs.map((m) => encodeFrame(m)));
          const decoder = new FrameDecoder();
          const out: Decoded[] = [];
          for (const part of split(bytes, cuts)) out.push(...decoder.push(part));
          expect(out.filter((d) => d instanceof ProtocolError)).toEqual([]);
          expect(out as Message[]).toEqual(msgs);
          expect(decoder.end()).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes never throw, and every item is a message or a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (bytes, cuts) => {
          const decoder = new FrameDecoder({ maxFrameSize: 4096 });
          for (const part of split(bytes, cuts)) {
            for (const item of decoder.push(part)) {
              expect(item instanceof ProtocolError || typeof item.type === 'string').toBe(true);
            }
          }
          const end = decoder.end();
          expect(end === undefined || end.code === 'INCOMPLETE').toBe(true);
          expect(decoder.pending).toBeLessThanOrEqual(4096 + 4);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a truncated valid stream reports incomplete, never corrupt', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), (msg, cut) => {
        const frame = encodeFrame(msg);
        const at = 1 + (cut % (frame.length - 1));
        const decoder = new FrameDecoder();
        expect(decoder.push(frame.subarray(0, at))).toEqual([]);
        expect(decoder.end()?.code).toBe('INCOMPLETE');
      }),
      { numRuns: 300 },
    );
  });
});
