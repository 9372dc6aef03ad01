import { Float, formatRecord, parseRecord, type KvRecord, type Value } from '@triekv/record';
import { generatedLines } from '../fixtures.js';
import { MEDIUM, pairedNsPerOp } from '../measure.js';
import { randomWord, seededRandom } from '../random.js';
import { printTable, writeResults } from '../report.js';

const RECORDS = Number(process.env.TRIEKV_BENCH_RECORDS ?? 100_000);

/** The same record as a plain JSON-able object (docs as objects; the int/float distinction is lost). */
function toJson(value: Value): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[k] = toJson(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Float) return value.value;
  return typeof value === 'bigint' ? Number(value) : value;
}

/**
 * Records shaped like other people's JSON: lists of strings and numbers, lists of small documents,
 * booleans and nulls, beside a few scalars (the generated data set has none of these).
 */
function jsonHeavyRecords(count: number): KvRecord[] {
  const random = seededRandom(16);
  const word = (): string => randomWord(random, 2, 8);
  const records: KvRecord[] = [];
  for (let i = 0; i < count; i++) {
    const items = Array.from({ length: Math.floor(random() * 4) }, () => {
      const item = new Map<string, Value>([
        ['id', Math.floor(random() * 10_000)],
        ['name', word()],
        ['done', random() < 0.5],
      ]);
      return item;
    });
    records.push({
      key: `doc${i}`,
      value: new Map<string, Value>([
        ['title', word()],
        ['tags', Array.from({ length: Math.floor(random() * 5) }, word)],
        [
          'scores',
          Array.from({ length: Math.floor(random() * 4) }, () => Math.round(random() * 1e4) / 100),
        ],
        ['active', random() < 0.5],
        ['parent', random() < 0.3 ? null : `doc${Math.floor(random() * count)}`],
        ['items', items],
      ]),
    });
  }
  return records;
}

interface Row {
  op: string;
  ours: number;
  oursMBs: number;
  json: number;
  jsonMBs: number;
  ratio: number;
  target: number | undefined;
}

/** Parse and format rates of one data set, ours vs JSON on the same records (alternating rounds). */
async function measure(name: string, lines: string[], target: number | undefined): Promise<Row[]> {
  const records: KvRecord[] = lines.map((line) => parseRecord(line));
  const objects = records.map((r) => ({ [r.key]: toJson(r.value) }));
  const jsonLines = objects.map((o) => JSON.stringify(o));
  const textBytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const jsonBytes = jsonLines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  console.error(
    `record: ${name}: ${lines.length.toLocaleString('en-US')} records, ${(textBytes / 1e6).toFixed(1)} MB as text, ${(jsonBytes / 1e6).toFixed(1)} MB as JSON`,
  );
  let sink = 0;
  const [parseNs, jsonParseNs] = await pairedNsPerOp(
    () => lines.forEach((l) => (sink += parseRecord(l).key.length)),
    () => jsonLines.forEach((l) => (sink += Object.keys(JSON.parse(l) as object).length)),
    lines.length,
    MEDIUM,
  );
  const [formatNs, jsonFormatNs] = await pairedNsPerOp(
    () => records.forEach((r) => (sink += formatRecord(r).length)),
    () => objects.forEach((o) => (sink += JSON.stringify(o).length)),
    lines.length,
    MEDIUM,
  );
  if (sink < 0) throw new Error('unreachable');
  const per = (bytes: number, ns: number): number => ((bytes / lines.length) * (1e9 / ns)) / 1e6;
  return [
    {
      op: `parse, ${name}`,
      ours: 1e9 / parseNs,
      oursMBs: per(textBytes, parseNs),
      json: 1e9 / jsonParseNs,
      jsonMBs: per(jsonBytes, jsonParseNs),
      ratio: jsonParseNs / parseNs,
      target,
    },
    {
      op: `format, ${name}`,
      ours: 1e9 / formatNs,
      oursMBs: per(textBytes, formatNs),
      json: 1e9 / jsonFormatNs,
      jsonMBs: per(jsonBytes, jsonFormatNs),
      ratio: jsonFormatNs / formatNs,
      target: undefined,
    },
  ];
}

/** `npm run bench -- record`: the record text format vs JSON on the same records, two data sets. */
export async function runRecordBench(): Promise<void> {
  const generated = await measure('generated', generatedLines(RECORDS, 'bench'), 0.5);
  const heavy = await measure(
    'JSON-heavy',
    jsonHeavyRecords(RECORDS).map((r) => formatRecord(r)),
    undefined,
  );
  const rows = [...generated, ...heavy];
  printTable(
    `Record text format vs JSON, ${RECORDS.toLocaleString('en-US')} records each: generated (-d 3 -m 5 -l 8) and JSON-heavy (lists, booleans, null); ratio = ours / JSON in records/s`,
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
  console.log(`\nwrote ${writeResults('record', { records: RECORDS, rows })}`);
}
