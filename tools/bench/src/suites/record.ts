import { Float, formatRecord, parseRecord, type KvRecord, type Value } from '@triekv/record';
import { generatedLines } from '../fixtures.js';
import { MEDIUM, pairedNsPerOp } from '../measure.js';
import { printTable, writeResults } from '../report.js';

const RECORDS = Number(process.env.TRIEKV_BENCH_RECORDS ?? 100_000);

/** The same record as a plain JSON-able object (docs as objects; the int/float distinction is lost). */
function toJson(value: Value): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[k] = toJson(v);
    return out;
  }
  if (value instanceof Float) return value.value;
  return typeof value === 'bigint' ? Number(value) : value;
}

/** `npm run bench -- record`: the record text format vs JSON on the same generated records. */
export async function runRecordBench(): Promise<void> {
  const lines = generatedLines(RECORDS, 'bench');
  const records: KvRecord[] = lines.map((line) => parseRecord(line));
  const objects = records.map((r) => ({ [r.key]: toJson(r.value) }));
  const jsonLines = objects.map((o) => JSON.stringify(o));
  const textBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const jsonBytes = jsonLines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  console.error(
    `record: ${RECORDS.toLocaleString('en-US')} records, ${(textBytes / 1e6).toFixed(1)} MB as text, ${(jsonBytes / 1e6).toFixed(1)} MB as JSON`,
  );

  let sink = 0;
  const [parseNs, jsonParseNs] = await pairedNsPerOp(
    () => lines.forEach((l) => (sink += (parseRecord(l).value as Map<string, unknown>).size)),
    () => jsonLines.forEach((l) => (sink += Object.keys(JSON.parse(l) as object).length)),
    RECORDS,
    MEDIUM,
  );
  const [formatNs, jsonFormatNs] = await pairedNsPerOp(
    () => records.forEach((r) => (sink += formatRecord(r).length)),
    () => objects.forEach((o) => (sink += JSON.stringify(o).length)),
    RECORDS,
    MEDIUM,
  );
  if (sink < 0) throw new Error('unreachable');

  const rate = (ns: number, bytes: number): [number, number] => [
    1e9 / ns,
    ((bytes / RECORDS) * (1e9 / ns)) / 1e6,
  ];
  const [parseRate, parseMBs] = rate(parseNs, textBytes);
  const [jsonParseRate, jsonParseMBs] = rate(jsonParseNs, jsonBytes);
  const [formatRate, formatMBs] = rate(formatNs, textBytes);
  const [jsonFormatRate, jsonFormatMBs] = rate(jsonFormatNs, jsonBytes);
  const rows = [
    {
      op: 'parse',
      ours: parseRate,
      oursMBs: parseMBs,
      json: jsonParseRate,
      jsonMBs: jsonParseMBs,
      ratio: parseRate / jsonParseRate,
      target: 0.5,
    },
    {
      op: 'format',
      ours: formatRate,
      oursMBs: formatMBs,
      json: jsonFormatRate,
      jsonMBs: jsonFormatMBs,
      ratio: formatRate / jsonFormatRate,
      target: undefined,
    },
  ];
  printTable(
    `Record text format vs JSON, ${RECORDS.toLocaleString('en-US')} generated records (-d 3 -m 5 -l 8); ratio = ours / JSON in records/s`,
    [
      'operation',
      'ours records/s',
      'ours MB/s',
      'JSON records/s',
      'JSON MB/s',
      'ratio',
      'target',
      'pass',
    ],
    rows.map((r) => [
      r.op,
      r.ours,
      r.oursMBs,
      r.json,
      r.jsonMBs,
      `${r.ratio.toFixed(2)}x`,
      r.target === undefined ? '' : `>= ${r.target}x`,
      r.target === undefined ? '' : r.ratio >= r.target ? 'yes' : 'NO',
    ]),
  );
  console.log(
    `\nwrote ${writeResults('record', { records: RECORDS, textBytes, jsonBytes, rows })}`,
  );
}
