import { FrameDecoder, encodeFrame, type Message, type Version } from '@triekv/protocol';
import { Float, type Value } from '@triekv/record';
import { generatedRecords } from '../fixtures.js';
import { QUICK, pairedNsPerOp } from '../measure.js';
import { printTable, writeResults } from '../report.js';

const BATCH = 1000;

/** The message as plain JSON (documents as objects; what a JSON protocol would carry). */
function jsonable(value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[k as string] = jsonable(v);
    return out;
  }
  if (value instanceof Float) return value.value;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonable);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonable(v);
    return out;
  }
  return value;
}

/** `npm run bench -- protocol`: frame round trips (encode, then decode from bytes) vs JSON lines. */
export async function runProtocolBench(): Promise<void> {
  const records = generatedRecords(100, 'proto');
  const version: Version = [1764288000000, 0, 'broker-1'];
  const kinds: { name: string; make: (i: number) => Message }[] = [
    { name: 'GET', make: (i) => ({ type: 'GET', id: i, key: `key${i}` }) },
    {
      name: 'PUT (generated record)',
      make: (i) => {
        const r = records[i % records.length] as { key: string; value: Map<string, Value> };
        return { type: 'PUT', id: i, key: r.key, value: r.value, version };
      },
    },
    {
      name: 'PUT_BATCH (100 records)',
      make: (i) => ({
        type: 'PUT_BATCH',
        id: i,
        records: records.map((r) => ({ key: r.key, value: r.value, version })),
      }),
    },
  ];
  const rows = [];
  for (const kind of kinds) {
    const count = kind.name.startsWith('PUT_BATCH') ? BATCH / 10 : BATCH;
    const batch = Array.from({ length: count }, (_, i) => kind.make(i + 1));
    const json = batch.map(jsonable);
    let sink = 0;
    const ours = (): void => {
      const decoder = new FrameDecoder();
      for (const m of batch) sink += decoder.push(encodeFrame(m)).length;
    };
    const baseline = (): void => {
      for (const m of json) {
        const bytes = Buffer.from(`${JSON.stringify(m)}\n`);
        const text = bytes.toString('utf8');
        sink += (JSON.parse(text.slice(0, text.indexOf('\n'))) as object) === null ? 0 : 1;
      }
    };
    ours();
    baseline();
    if (sink !== 2 * count) throw new Error('round trip lost messages');
    const [oursNs, jsonNs] = await pairedNsPerOp(ours, baseline, count, QUICK);
    const frameBytes = encodeFrame(batch[0] as Message).length;
    const jsonBytes = Buffer.byteLength(`${JSON.stringify(json[0])}\n`);
    rows.push({
      message: kind.name,
      oursPerSecond: 1e9 / oursNs,
      jsonPerSecond: 1e9 / jsonNs,
      ratio: jsonNs / oursNs,
      frameBytes,
      jsonBytes,
      target: kind.name.startsWith('PUT (') ? 2 : undefined,
    });
  }
  printTable(
    'Protocol round trip (encode + decode from bytes), msgs/s: msgpack frames vs JSON lines; ratio = ours / JSON',
    [
      'message',
      'ours msgs/s',
      'JSON msgs/s',
      'ratio',
      'frame bytes',
      'JSON bytes',
      'target',
      'pass',
    ],
    rows.map((r) => [
      r.message,
      r.oursPerSecond,
      r.jsonPerSecond,
      `${r.ratio.toFixed(2)}x`,
      r.frameBytes,
      r.jsonBytes,
      r.target === undefined ? '' : `>= ${r.target}x`,
      r.target === undefined ? '' : r.ratio >= r.target ? 'yes' : 'NO',
    ]),
  );
  console.log(`\nwrote ${writeResults('protocol', rows)}`);
}
