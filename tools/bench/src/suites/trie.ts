import { Trie } from '@triekv/trie';
import { HEAVY, MEDIUM, QUICK, heapBytesPerKey, nsPerOp, pairedNsPerOp } from '../measure.js';
import { freshCopy, randomWord, seededRandom, shuffled } from '../random.js';
import { printTable, writeResults } from '../report.js';

/** Keys per structure, as the issue asks. `TRIEKV_BENCH_KEYS` shrinks it for a smoke run. */
const KEYS = Number(process.env.TRIEKV_BENCH_KEYS ?? 1_000_000);
/** Every key is looked up once per batch, in shuffled order: a smaller sample would stay in cache. */
const LOOKUPS = KEYS;
const SCANS = 20;

interface Shape {
  name: string;
  /** The i-th key (deterministic, freshly allocated on every call). */
  keys: () => string[];
  /** Leading characters of a stored key that make a scan prefix matching about 1% of the keys. */
  prefixLength: number;
}

const shapes: Shape[] = [
  {
    name: 'sequential (key1..keyN)',
    keys: () => Array.from({ length: KEYS }, (_, i) => `key${i + 1}`),
    prefixLength: 5,
  },
  {
    name: 'random (5-30 chars)',
    keys: () => {
      const random = seededRandom(42);
      const seen = new Set<string>();
      while (seen.size < KEYS) seen.add(randomWord(random, 5, 30));
      return [...seen];
    },
    prefixLength: 1,
  },
];

function mapScan(map: Map<string, number>, prefix: string): string[] {
  const found: string[] = [];
  for (const key of map.keys()) if (key.startsWith(prefix)) found.push(key);
  return found.sort().slice(0, 100);
}

function trieScan(trie: Trie<number>, prefix: string): string[] {
  const found: string[] = [];
  for (const key of trie.keys(prefix)) {
    found.push(key);
    if (found.length === 100) break;
  }
  return found;
}

const copies = (keys: readonly string[]): string[] => keys.map(freshCopy);

interface Row {
  shape: string;
  op: string;
  trie: number;
  map: number;
  unit: string;
  /** How many times better the trie is than Map (>1 = trie wins). */
  ratio: number;
  target: string;
  pass: boolean | null;
}

async function measureShape(shape: Shape): Promise<Row[]> {
  const keys = shape.keys();
  const random = seededRandom(7);
  const hits = copies(shuffled(keys, random).slice(0, LOOKUPS));
  const misses = copies(hits.map((k) => `${k}~`));
  const doomed = shuffled(keys, random);
  const prefixes = hits.slice(0, SCANS).map((k) => k.slice(0, shape.prefixLength));

  const map = new Map<string, number>();
  keys.forEach((k, i) => map.set(k, i));
  const trie = new Trie<number>();
  keys.forEach((k, i) => trie.set(k, i));
  for (const p of prefixes) {
    if (trieScan(trie, p).join() !== mapScan(map, p).join())
      throw new Error(`scan mismatch on ${p}`);
  }

  let sink = 0;
  const gets = (s: { get(k: string): unknown }, list: string[]) => () => {
    for (let i = 0; i < list.length; i++) if (s.get(list[i] as string) !== undefined) sink++;
  };
  const timings = {
    set: [
      await nsPerOp(
        () => void keys.reduce((t, k, i) => t.set(k, i), new Trie<number>()),
        KEYS,
        HEAVY,
      ),
      await nsPerOp(
        () => void keys.reduce((m, k, i) => m.set(k, i), new Map<string, number>()),
        KEYS,
        HEAVY,
      ),
    ],
    'get hit': await pairedNsPerOp(gets(trie, hits), gets(map, hits), LOOKUPS, MEDIUM),
    'get miss': await pairedNsPerOp(gets(trie, misses), gets(map, misses), LOOKUPS, MEDIUM),
    delete: [0, 0],
    'prefix scan (100)': [
      await nsPerOp(
        () => prefixes.forEach((p) => (sink += trieScan(trie, p).length)),
        SCANS,
        QUICK,
      ),
      await nsPerOp(() => prefixes.forEach((p) => (sink += mapScan(map, p).length)), SCANS, HEAVY),
    ],
  };
  let victimTrie = trie;
  let victimMap = map;
  timings.delete = [
    await nsPerOp(
      () => doomed.forEach((k) => victimTrie.delete(k)),
      KEYS,
      HEAVY,
      () => {
        victimTrie = new Trie<number>();
        keys.forEach((k, i) => victimTrie.set(k, i));
      },
    ),
    await nsPerOp(
      () => doomed.forEach((k) => victimMap.delete(k)),
      KEYS,
      HEAVY,
      () => {
        victimMap = new Map(keys.map((k, i) => [k, i]));
      },
    ),
  ];
  if (sink < 0) throw new Error('unreachable');

  const rows: Row[] = Object.entries(timings).map(([op, [t, m]]) => {
    const ratio = m / t;
    const target = op === 'get hit' ? 0.35 : op === 'prefix scan (100)' ? 1000 : undefined;
    return {
      shape: shape.name,
      op,
      trie: t,
      map: m,
      unit: 'ns/op',
      ratio,
      target: target === undefined ? '' : `>= ${target}x`,
      pass: target === undefined ? null : ratio >= target,
    };
  });

  // Memory: build each structure from freshly generated key strings, so each keeps only what it needs.
  const trieBytes = heapBytesPerKey(() => {
    const t = new Trie<number>();
    shape.keys().forEach((k, i) => t.set(k, i));
    return t;
  }, KEYS);
  const mapBytes = heapBytesPerKey(() => new Map(shape.keys().map((k, i) => [k, i])), KEYS);
  rows.push({
    shape: shape.name,
    op: 'memory bytes/key',
    trie: trieBytes,
    map: mapBytes,
    unit: 'bytes',
    ratio: mapBytes / trieBytes,
    target: '>= 0.5x',
    pass: trieBytes <= 2 * mapBytes,
  });
  return rows;
}

/** `npm run bench -- trie`: Trie vs Map on two key shapes. */
export async function runTrieBench(): Promise<void> {
  const rows: Row[] = [];
  const only = process.env.TRIEKV_BENCH_SHAPE;
  for (const shape of shapes.filter((s) => only === undefined || s.name.startsWith(only))) {
    console.error(`trie: measuring ${KEYS.toLocaleString('en-US')} ${shape.name} keys...`);
    rows.push(...(await measureShape(shape)));
  }
  printTable(
    `Trie vs Map, ${KEYS.toLocaleString('en-US')} keys (ratio = Map cost / Trie cost; > 1 means the trie wins)`,
    ['keys', 'operation', 'Trie', 'Map', 'unit', 'ratio', 'target', 'pass'],
    rows.map((r) => [
      r.shape,
      r.op,
      r.trie,
      r.map,
      r.unit,
      `${r.ratio.toFixed(2)}x`,
      r.target,
      r.pass === null ? '' : r.pass ? 'yes' : 'NO',
    ]),
  );
  console.log(`\nwrote ${writeResults('trie', rows)}`);
}
