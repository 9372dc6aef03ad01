import { Trie } from '@triekv/trie';
import TrieMap from 'mnemonist/trie-map.js';
import {
  HEAVY,
  MEDIUM,
  QUICK,
  heapBytesPerKey,
  heapBytesPerKeyOf,
  nsPerOp,
  pairedNsPerOp,
} from '../measure.js';
import { freshCopy, randomWord, seededRandom, shuffled } from '../random.js';
import { printTable, writeResults } from '../report.js';

/** Keys per structure, as the issue asks. `TRIEKV_BENCH_KEYS` shrinks it for a smoke run. */
const KEYS = Number(process.env.TRIEKV_BENCH_KEYS ?? 1_000_000);
/** Every key is looked up once per batch, in shuffled order: a smaller sample would stay in cache. */
const LOOKUPS = KEYS;
const SCANS = 20;
/** Keys for the growth rows: ten times `KEYS` unless `TRIEKV_BENCH_BIG_KEYS` says otherwise. */
const BIG_KEYS = Number(process.env.TRIEKV_BENCH_BIG_KEYS ?? 10 * KEYS);

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

/** mnemonist's TrieMap finds every match under a prefix, in no particular order: sort, then take 100. */
function trieMapScan(trie: TrieMap<string, number>, prefix: string): string[] {
  return trie
    .find(prefix)
    .map(([key]) => key)
    .sort()
    .slice(0, 100);
}

const copies = (keys: readonly string[]): string[] => keys.map(freshCopy);

/** What a structure under test offers (Trie, Map and TrieMap all do). */
interface Subject {
  set(key: string, value: number): unknown;
  get(key: string): number | undefined;
  delete(key: string): boolean;
}

interface Row {
  shape: string;
  op: string;
  trie: number;
  map: number;
  /** mnemonist's TrieMap, where it was measured. */
  trieMap: number | null;
  unit: string;
  /** How many times better the trie is than Map (>1 = trie wins). */
  ratio: number;
  target: string;
  pass: boolean | null;
}

/**
 * Targets, as Map cost / Trie cost. get and prefix scans are the (#22); set and delete must be
 * no slower than the radix trie this layout replaced (its last full run, 2026-12-02, in
 * docs/benchmarks.md before #22); memory no worse than that trie's bytes per key relative to a Map's
 * (0.89x and 1.38x, as #22 measured them).
 */
const TARGETS: Record<string, Record<string, number>> = {
  sequential: {
    set: 0.64,
    'get hit': 0.7,
    delete: 0.31,
    'prefix scan (100)': 2000,
    memory: 1 / 0.89,
  },
  random: { set: 0.17, 'get hit': 0.6, delete: 0.23, 'prefix scan (100)': 2000, memory: 1 / 1.38 },
};

function row(
  shape: Shape,
  op: string,
  [trie, map, trieMap]: readonly [number, number, number | null],
  unit: string,
): Row {
  const ratio = map / trie;
  const target =
    TARGETS[shape.name.split(' ')[0] as string]?.[op.startsWith('memory') ? 'memory' : op];
  return {
    shape: shape.name,
    op,
    trie,
    map,
    trieMap,
    unit,
    ratio,
    target: target === undefined ? '' : `>= ${target < 10 ? target.toFixed(2) : target}x`,
    pass: target === undefined ? null : ratio >= target,
  };
}

/** The operations of the table, in order; `memory bytes/key` comes last. */
const OPS = ['set', 'get hit', 'get miss', 'prefix scan (100)', 'delete'] as const;
type Op = (typeof OPS)[number];

/**
 * One shape's rows. Trie and Map are measured first, side by side (gets in alternating rounds), then
 * released; TrieMap is measured alone afterwards: its million-object heap, alive during the others'
 * runs, made every GC slower and skewed their figures.
 */
async function measureShape(shape: Shape): Promise<Row[]> {
  const keys = shape.keys();
  const random = seededRandom(7);
  const hits = copies(shuffled(keys, random).slice(0, LOOKUPS));
  const misses = copies(hits.map((k) => `${k}~`));
  const doomed = shuffled(keys, random);
  const prefixes = hits.slice(0, SCANS).map((k) => k.slice(0, shape.prefixLength));

  const fill = <S extends Subject>(subject: S): S => {
    keys.forEach((k, i) => subject.set(k, i));
    return subject;
  };
  let sink = 0;
  const gets = (s: Subject, list: string[]) => () => {
    for (let i = 0; i < list.length; i++) if (s.get(list[i] as string) !== undefined) sink++;
  };
  const setCost = (make: () => Subject) => nsPerOp(() => void fill(make()), KEYS, HEAVY);
  const deleteCost = async (make: () => Subject): Promise<number> => {
    let victim = make();
    return nsPerOp(
      () => doomed.forEach((k) => victim.delete(k)),
      KEYS,
      HEAVY,
      () => {
        victim = fill(make());
      },
    );
  };
  const scanMicros = (scan: (p: string) => string[], plan: typeof QUICK) =>
    nsPerOp(() => prefixes.forEach((p) => (sink += scan(p).length)), SCANS, plan).then(
      (ns) => ns / 1000,
    );
  // Memory: build each structure from freshly generated key strings, so each keeps only what it needs.
  const bytes = (make: () => Subject): number =>
    heapBytesPerKey(() => {
      const subject = make();
      shape.keys().forEach((k, i) => subject.set(k, i));
      return subject;
    }, KEYS);

  const trieCost = {} as Record<Op | 'memory', number>;
  const mapCost = {} as Record<Op | 'memory', number>;
  const expected: string[] = [];
  {
    const map = fill(new Map<string, number>());
    const trie = fill(new Trie<number>());
    for (const p of prefixes) {
      const want = mapScan(map, p).join();
      if (trieScan(trie, p).join() !== want) throw new Error(`Trie scan mismatch on ${p}`);
      expected.push(want);
    }
    trieCost.set = await setCost(() => new Trie<number>());
    mapCost.set = await setCost(() => new Map<string, number>());
    for (const [op, list] of [
      ['get hit', hits],
      ['get miss', misses],
    ] as const) {
      [trieCost[op], mapCost[op]] = await pairedNsPerOp(
        gets(trie, list),
        gets(map, list),
        LOOKUPS,
        MEDIUM,
      );
    }
    trieCost['prefix scan (100)'] = await scanMicros((p) => trieScan(trie, p), QUICK);
    mapCost['prefix scan (100)'] = await scanMicros((p) => mapScan(map, p), HEAVY);
  }
  trieCost.delete = await deleteCost(() => new Trie<number>());
  mapCost.delete = await deleteCost(() => new Map<string, number>());
  trieCost.memory = bytes(() => new Trie<number>());
  mapCost.memory = bytes(() => new Map<string, number>());

  const trieMapCost = {} as Record<Op | 'memory', number>;
  {
    const trieMap = fill(new TrieMap<string, number>());
    prefixes.forEach((p, i) => {
      if (trieMapScan(trieMap, p).join() !== expected[i])
        throw new Error(`TrieMap scan mismatch on ${p}`);
    });
    trieMapCost['get hit'] = await nsPerOp(gets(trieMap, hits), LOOKUPS, QUICK);
    trieMapCost['get miss'] = await nsPerOp(gets(trieMap, misses), LOOKUPS, QUICK);
    trieMapCost['prefix scan (100)'] = await scanMicros((p) => trieMapScan(trieMap, p), QUICK);
  }
  trieMapCost.set = await setCost(() => new TrieMap<string, number>());
  trieMapCost.delete = await deleteCost(() => new TrieMap<string, number>());
  trieMapCost.memory = bytes(() => new TrieMap<string, number>());
  if (sink < 0) throw new Error('unreachable');

  const rows = OPS.map((op) =>
    row(
      shape,
      op,
      [trieCost[op], mapCost[op], trieMapCost[op]],
      op === 'prefix scan (100)' ? 'µs/scan' : 'ns/op',
    ),
  );
  rows.push(
    row(shape, 'memory bytes/key', [trieCost.memory, mapCost.memory, trieMapCost.memory], 'bytes'),
  );
  return rows;
}

/**
 * The same sequential keys at ten times the count (10M by default): memory per key and get, against a
 * Map, so the cost as N grows is seen. TrieMap is left out here: at 10M keys it needs tens of GB.
 */
async function measureBig(): Promise<Row[]> {
  const shape: Shape = {
    name: `sequential, ${BIG_KEYS.toLocaleString('en-US')} keys`,
    keys: () => Array.from({ length: BIG_KEYS }, (_, i) => `key${i + 1}`),
    prefixLength: 5,
  };
  const [trieBytes, trie] = heapBytesPerKeyOf(() => {
    const t = new Trie<number>();
    shape.keys().forEach((k, i) => t.set(k, i));
    return t;
  }, BIG_KEYS);
  const [mapBytes, map] = heapBytesPerKeyOf(
    () => new Map(shape.keys().map((k, i) => [k, i])),
    BIG_KEYS,
  );
  const random = seededRandom(11);
  const hits = Array.from({ length: LOOKUPS }, () =>
    freshCopy(`key${1 + Math.floor(random() * BIG_KEYS)}`),
  );
  let sink = 0;
  const gets = (s: { get(k: string): unknown }) => () => {
    for (let i = 0; i < hits.length; i++) if (s.get(hits[i] as string) !== undefined) sink++;
  };
  const [t, m] = await pairedNsPerOp(gets(trie), gets(map), LOOKUPS, MEDIUM);
  if (sink < 0) throw new Error('unreachable');
  return [
    row(shape, 'get hit', [t, m, null], 'ns/op'),
    row(shape, 'memory bytes/key', [trieBytes, mapBytes, null], 'bytes'),
  ];
}

/** `npm run bench -- trie`: Trie vs Map (and mnemonist's TrieMap) on two key shapes, then at 10x N. */
export async function runTrieBench(): Promise<void> {
  const rows: Row[] = [];
  const only = process.env.TRIEKV_BENCH_SHAPE;
  for (const shape of shapes.filter((s) => only === undefined || s.name.startsWith(only))) {
    console.error(`trie: measuring ${KEYS.toLocaleString('en-US')} ${shape.name} keys...`);
    rows.push(...(await measureShape(shape)));
  }
  if (only === undefined || only === 'big') {
    console.error(`trie: measuring ${BIG_KEYS.toLocaleString('en-US')} sequential keys...`);
    rows.push(...(await measureBig()));
  }
  printTable(
    `Trie vs Map and mnemonist's TrieMap, ${KEYS.toLocaleString('en-US')} keys (ratio = Map cost / Trie cost; > 1 means the trie wins; vs TrieMap = TrieMap cost / Trie cost)`,
    [
      'keys',
      'operation',
      'Trie',
      'Map',
      'TrieMap',
      'unit',
      'ratio',
      'vs TrieMap',
      'target',
      'pass',
    ],
    rows.map((r) => [
      r.shape,
      r.op,
      r.trie,
      r.map,
      r.trieMap ?? '-',
      r.unit,
      `${r.ratio.toFixed(2)}x`,
      r.trieMap === null ? '-' : `${(r.trieMap / r.trie).toFixed(1)}x`,
      r.target,
      r.pass === null ? '' : r.pass ? 'yes' : 'NO',
    ]),
  );
  console.log(`\nwrote ${writeResults('trie', rows)}`);
}
