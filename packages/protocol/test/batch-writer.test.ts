import fc from 'fast-check';
import {
  ErrorCode,
  FrameDecoder,
  ProtocolError,
  PutBatchWriter,
  encodeFrame,
  encodeRecord,
  type WireRecord,
} from '@triekv/protocol';
import { unpackr } from '../src/codec.js';
import { toMessage } from '../src/decode.js';
import { docArb, versionArb } from './arbitraries.js';

const recordArb: fc.Arbitrary<WireRecord> = fc.record({
  key: fc.string({ unit: 'binary', maxLength: 12 }),
  value: docArb,
  version: versionArb,
});

/** A writer's frame for `records` with request id `id`. */
function batchFrame(records: WireRecord[], id: number, sizeHint?: number): Uint8Array {
  const writer = new PutBatchWriter(sizeHint);
  for (const r of records) writer.add(encodeRecord(r));
  expect(writer.count).toBe(records.length);
  return writer.frame(id);
}

describe('PutBatchWriter', () => {
  test('its frames read back as the PUT_BATCH encodeFrame makes, by both decoders', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 6 }),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 300 }),
        (records, id, sizeHint) => {
          const frame = batchFrame(records, id, sizeHint);
          const expected = new FrameDecoder().push(encodeFrame({ type: 'PUT_BATCH', id, records }));
          // The fast decoder (FrameDecoder) and the general one (msgpackr) must both take it.
          expect(new FrameDecoder().push(frame)).toEqual(expected);
          const body = Buffer.from(frame).subarray(4);
          expect(toMessage(unpackr.unpack(body), 64)).toEqual(expected[0]);
          expect(Buffer.from(frame).readUInt32BE(0)).toBe(frame.length - 4);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a record is encoded once and may go into several batches', () => {
    const record: WireRecord = { key: 'k', value: new Map([['a', 1]]), version: [1, 0, 'n'] };
    const bytes = encodeRecord(record);
    const a = new PutBatchWriter();
    const b = new PutBatchWriter();
    a.add(bytes);
    b.add(bytes);
    // Encoding another record does not disturb the bytes already added.
    a.add(encodeRecord({ ...record, key: 'other' }));
    const [fromA] = new FrameDecoder().push(a.frame(1));
    const [fromB] = new FrameDecoder().push(b.frame(2));
    expect(fromA).toMatchObject({ type: 'PUT_BATCH', records: [record, { key: 'other' }] });
    expect(fromB).toEqual({ type: 'PUT_BATCH', id: 2, records: [record] });
  });

  test('grows past its size hint; refuses a body over the frame limit', () => {
    const big: WireRecord = {
      key: 'big',
      value: new Map([['text', 'x'.repeat(5000)]]),
      version: [1, 0, 'n'],
    };
    const grown = batchFrame([big, big, big], 7, 100);
    expect(new FrameDecoder().push(grown)[0]).toMatchObject({ id: 7, records: [big, big, big] });
    const small = new PutBatchWriter(undefined, 1000);
    small.add(encodeRecord(big));
    expect(small.fits(encodeRecord(big))).toBe(false);
    expect(PutBatchWriter.fitsAlone(encodeRecord(big), 1000)).toBe(false);
    expect(PutBatchWriter.fitsAlone(encodeRecord(big), 6000)).toBe(true);
    expect(new PutBatchWriter(undefined, 6000).fits(encodeRecord(big))).toBe(true);
    expect(() => small.frame(3)).toThrow(ProtocolError);
    expect(() => small.frame(3)).toThrow(/exceeds the frame limit of 1000 bytes/);
    let thrown: unknown;
    try {
      small.frame(3);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ProtocolError).code).toBe(ErrorCode.FRAME_TOO_LARGE);
  });
});
