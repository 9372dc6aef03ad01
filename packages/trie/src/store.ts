import { RegionPool } from './pool.js';
import {
  C_BASE,
  C_COUNT,
  C_HEADER,
  C_LOG,
  CAP,
  COUNT,
  HEADER,
  LONG,
  LONG_UNITS,
  MAX_CONTAINER,
  NO_VALUE,
  TBASE,
  TRANGE,
  VALUE,
  compareTail,
  containerHeader,
  findCode,
  nodeSize,
  readUnits4,
  units4,
  wantsTable,
} from './layout.js';

/**
 * The trie's storage: the node pool, the container strings, the value array, and the structural edits
 * (add or remove a child, insert into or remove from a container, burst a full container into a node).
 * `Trie` does the walking. A node is named by its pool offset and reached from its parent through the
 * parent's kid for one code unit; the root's parent is 0.
 */
export class TrieStore<V> {
  pool: RegionPool;
  /** Container strings by id; a freed id holds '' until reused. */
  strings: string[] = [];
  /**
   * How many of each container's entries are GONE (deleted, tail still in the string), by id: bytes, so
   * an iterator learns that a container has none without touching its values.
   */
  gone = new Uint8Array(16);
  /**
   * By container id: 0 when its string is flat, else 1 + the reads since the edit that made it a rope
   * (a concatenation); the get path flattens it at the `ROPE_READS`th (see `read`).
   */
  rope = new Uint8Array(16);
  private freeIds: number[] = [];
  /** Every value: containers own ranges of 2^log slots, a valued node one slot. */
  values: (V | undefined)[] = [];
  /** Free value ranges by log2 of their size. */
  private freeRanges: number[][] = [];
  /** Slots of `values` in free ranges: when they are most of it, compaction packs the values too. */
  private freeSlots = 0;
  root: number;
  /** Bumped on every change to the set of keys or to the layout; iterators compare it to fail fast. */
  epoch = 0;
  /** Entries a container may hold before it bursts (lowered by tests to exercise bursting). */
  burstAt = MAX_CONTAINER;
  /** Pool size at which the next automatic compaction runs. */
  private compactAt = MIN_COMPACT_WORDS;
  /** Where `findEntry` found (or would insert) its entry: the absolute offset of its data in the string. */
  entryAt = 0;

  constructor(initialWords?: number) {
    this.pool = new RegionPool(initialWords);
    this.root = this.writeNode(NO_VALUE, [], []);
  }

  // ---- value ranges --------------------------------------------------------------------------------

  allocRange(log: number): number {
    const free = this.freeRanges[log];
    if (free !== undefined && free.length > 0) {
      this.freeSlots -= 1 << log;
      return free.pop() as number;
    }
    const base = this.values.length;
    for (let i = 1 << log; i > 0; i--) this.values.push(undefined);
    return base;
  }

  freeRange(base: number, log: number): void {
    const values = this.values;
    for (let i = 0; i < 1 << log; i++) values[base + i] = undefined;
    (this.freeRanges[log] ??= []).push(base);
    this.freeSlots += 1 << log;
  }

  // ---- nodes ---------------------------------------------------------------------------------------

  /** A new node region with this value slot and these children (codes ascending), room for `cap`. */
  writeNode(
    value: number,
    codes: readonly number[],
    kids: readonly number[],
    cap = codes.length,
  ): number {
    const count = codes.length;
    const low = count === 0 ? 0 : (codes[0] as number);
    const span = count === 0 ? 0 : (codes[count - 1] as number) - low + 1;
    const range = wantsTable(count, span) ? span : 0;
    const at = this.pool.alloc(nodeSize(cap, range));
    const words = this.pool.words;
    words[at + VALUE] = value;
    words[at + COUNT] = count;
    words[at + CAP] = cap;
    words[at + TBASE] = low;
    words[at + TRANGE] = range;
    const table = at + HEADER + 2 * cap;
    if (range !== 0) words.fill(0, table, table + range);
    for (let j = 0; j < count; j++) {
      const code = codes[j] as number;
      const kid = kids[j] as number;
      words[at + HEADER + j] = code;
      words[at + HEADER + cap + j] = kid;
      if (range !== 0) words[table + code - low] = kid;
    }
    return at;
  }

  freeNode(node: number): void {
    const words = this.pool.words;
    this.pool.free(node, nodeSize(words[node + CAP] as number, words[node + TRANGE] as number));
  }

  /** The codes and kids of `node`, as arrays. */
  children(node: number): { codes: number[]; kids: number[] } {
    const words = this.pool.words;
    const count = words[node + COUNT] as number;
    const cap = words[node + CAP] as number;
    const codes: number[] = [];
    const kids: number[] = [];
    for (let j = 0; j < count; j++) {
      codes.push(words[node + HEADER + j] as number);
      kids.push(words[node + HEADER + cap + j] as number);
    }
    return { codes, kids };
  }

  /** Points the kid of `node` for `code` (which it has) at `kid`. `node` 0 means the root pointer. */
  setKid(node: number, code: number, kid: number): void {
    if (node === 0) {
      this.root = kid;
      return;
    }
    const words = this.pool.words;
    const cap = words[node + CAP] as number;
    const j = findCode(words, node + HEADER, words[node + COUNT] as number, code);
    words[node + HEADER + cap + j] = kid;
    if ((words[node + TRANGE] as number) !== 0)
      words[node + HEADER + 2 * cap + code - (words[node + TBASE] as number)] = kid;
  }

  /**
   * Gives `node` (a child of `parent` under `parentCode`) the kid `kid` under the new `code`: in place
   * when it has room and the code keeps its table policy (inside its table, or still not wanting one),
   * else by moving it to a new region with half as much room again, so a node moves O(log fan-out) times.
   */
  addKid(node: number, parent: number, parentCode: number, code: number, kid: number): void {
    const words = this.pool.words;
    const count = words[node + COUNT] as number;
    const cap = words[node + CAP] as number;
    const range = words[node + TRANGE] as number;
    const low = words[node + TBASE] as number;
    if (count < cap) {
      const first = count === 0 ? code : Math.min(code, words[node + HEADER] as number);
      const last = count === 0 ? code : Math.max(code, words[node + HEADER + count - 1] as number);
      const fits =
        range !== 0 ? code >= low && code < low + range : !wantsTable(count + 1, last - first + 1);
      if (fits) {
        const j = -findCode(words, node + HEADER, count, code) - 1;
        const codes = node + HEADER;
        const kids = codes + cap;
        words.copyWithin(codes + j + 1, codes + j, codes + count);
        words.copyWithin(kids + j + 1, kids + j, kids + count);
        words[codes + j] = code;
        words[kids + j] = kid;
        if (range !== 0) words[kids + cap + code - low] = kid;
        words[node + COUNT] = count + 1;
        return;
      }
    }
    const { codes, kids } = this.children(node);
    const j = -findCode(words, node + HEADER, count, code) - 1;
    codes.splice(j, 0, code);
    kids.splice(j, 0, kid);
    const room = Math.max(count + 1, Math.min(count + 1 + (count >> 1), MAX_FANOUT));
    const moved = this.writeNode(words[node + VALUE] as number, codes, kids, room);
    this.freeNode(node);
    this.setKid(parent, parentCode, moved);
  }

  /** Drops the kid of `node` under `code` (which it has), in place; a table keeps its range. */
  removeKid(node: number, code: number): void {
    const words = this.pool.words;
    const count = words[node + COUNT] as number;
    const cap = words[node + CAP] as number;
    const j = findCode(words, node + HEADER, count, code);
    const codes = node + HEADER;
    const kids = codes + cap;
    words.copyWithin(codes + j, codes + j + 1, codes + count);
    words.copyWithin(kids + j, kids + j + 1, kids + count);
    words[node + COUNT] = count - 1;
    if ((words[node + TRANGE] as number) !== 0)
      words[kids + cap + code - (words[node + TBASE] as number)] = 0;
  }

  // ---- containers ----------------------------------------------------------------------------------

  /** A container of the tails `tails[from..to)` (ascending) with their values; returns its kid (`~id`). */
  newContainer(tails: readonly string[], vals: readonly V[], from: number, to: number): number {
    const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.strings.length;
    this.fillContainer(id, tails, vals, from, to);
    return ~id;
  }

  /** Makes container `id` (new or just freed) hold the tails `tails[from..to)` with their values. */
  private fillContainer(
    id: number,
    tails: readonly string[],
    vals: readonly V[],
    from: number,
    to: number,
  ): void {
    if (id >= this.gone.length) {
      const grown = new Uint8Array(2 * id + 16);
      grown.set(this.gone);
      this.gone = grown;
      const ropes = new Uint8Array(grown.length);
      ropes.set(this.rope);
      this.rope = ropes;
    }
    this.gone[id] = 0;
    this.rope[id] = 1;
    const n = to - from;
    let log = 0;
    while (1 << log < n) log++;
    const base = this.allocRange(log);
    let lengths = '';
    let data = '';
    for (let k = from; k < to; k++) {
      const tail = tails[k] as string;
      this.values[base + k - from] = vals[k];
      if (tail.length >= LONG) {
        lengths += String.fromCharCode(LONG);
        data += units4(tail.length) + tail;
      } else {
        lengths += String.fromCharCode(tail.length);
        data += tail;
      }
    }
    this.strings[id] = containerHeader(n, base, log) + lengths + data;
  }

  /**
   * Finds the entry of container `id` whose tail is `key` from `from`: its index, or
   * `-(insertion point) - 1`. Leaves the entry's data offset in `entryAt`, where `insertEntry` puts a new one.
   */
  findEntry(id: number, key: string, from: number): number {
    const s = this.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    let off = C_HEADER + n;
    for (let k = 0; k < n; k++) {
      let length = s.charCodeAt(C_HEADER + k);
      let start = off;
      if (length === LONG) {
        length = readUnits4(s, off);
        start = off + LONG_UNITS;
      }
      const d = compareTail(s, start, length, key, from);
      if (d >= 0) {
        this.entryAt = off;
        return d === 0 ? k : -k - 1;
      }
      off = start + length;
    }
    this.entryAt = off;
    return -n - 1;
  }

  /**
   * The index of the entry of container `id` whose tail is `key` from `from`, or -1: for a delete, which
   * needs no insertion point, so it compares only the tails of the right length (most cost one load).
   */
  matchEntry(id: number, key: string, from: number): number {
    const s = this.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    const want = key.length - from;
    let off = C_HEADER + n;
    for (let k = 0; k < n; k++) {
      let length = s.charCodeAt(C_HEADER + k);
      let start = off;
      if (length === LONG) {
        length = readUnits4(s, off);
        start = off + LONG_UNITS;
      }
      if (length === want) {
        let j = 0;
        while (j < want && s.charCodeAt(start + j) === key.charCodeAt(from + j)) j++;
        if (j === want) return k;
      }
      off = start + length;
    }
    return -1;
  }

  /** The value slot of entry `k` of container `id`. */
  slotOf(id: number, k: number): number {
    return readUnits4(this.strings[id] as string, C_BASE) + k;
  }

  /**
   * Inserts `key` from `from` as entry `k` of container `id` (the kid of `node` under `code`), at data
   * offset `entryAt` as `findEntry` left it; a full container bursts into a node instead.
   */
  insertEntry(
    node: number,
    code: number,
    id: number,
    k: number,
    key: string,
    from: number,
    value: V,
  ): void {
    const s = this.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    if (n >= this.burstAt) {
      this.burst(node, code, id, key.slice(from), value);
      return;
    }
    let base = readUnits4(s, C_BASE);
    let log = s.charCodeAt(C_LOG);
    const values = this.values;
    if (n === 1 << log) {
      const grown = this.allocRange(log + 1);
      for (let j = 0; j < n; j++) values[grown + j] = values[base + j];
      this.freeRange(base, log);
      base = grown;
      log++;
    }
    for (let j = n; j > k; j--) values[base + j] = values[base + j - 1];
    values[base + k] = value;
    const tail = key.slice(from);
    const long = tail.length >= LONG;
    // Concatenated, V8 makes a rope of the pieces and flattens it on the next read. Copying into a
    // Buffer and decoding it instead measured no faster on long containers and slower on short ones.
    this.strings[id] =
      containerHeader(n + 1, base, log) +
      s.slice(C_HEADER, C_HEADER + k) +
      String.fromCharCode(long ? LONG : tail.length) +
      s.slice(C_HEADER + k, this.entryAt) +
      (long ? units4(tail.length) + tail : tail) +
      s.slice(this.entryAt);
    this.rope[id] = 1;
  }

  /**
   * Container `id`'s string for the get path, which calls this while `rope[id]` is not 0: the rope as
   * it is for its first `ROPE_READS - 1` reads since the last edit, then made flat. A string built by concatenation is a rope
   * in V8; reading one flattens it into a new flat string, but the rope object stays in front of it,
   * and every later read goes through it: a dependent load more per code unit read, and 30-40 bytes.
   * `normalize()` of a string whose code units are all below 256 (NFC leaves Latin-1 text as it is)
   * and `toWellFormed()` of a well-formed one return the flat string itself, one native copy at most;
   * a container with a lone surrogate keeps its rope.
   */
  read(id: number): string {
    const s = this.strings[id] as string;
    const reads = this.rope[id] as number;
    if (reads < ROPE_READS) {
      this.rope[id] = reads + 1;
      return s;
    }
    this.rope[id] = 0;
    let all = 0;
    for (let i = 0; i < s.length; i++) all |= s.charCodeAt(i);
    let flat = s;
    if (all < 0x100) flat = s.normalize();
    else if (s.isWellFormed()) flat = s.toWellFormed();
    this.strings[id] = flat;
    return flat;
  }

  /**
   * Removes entry `k` of container `id` by marking its value GONE: a string cannot change in place, and
   * rebuilding one per delete cost more than the whole lookup. The tail stays until the container is
   * rebuilt: here, once fewer than a quarter of its entries are live (rebuilding at half cost a third
   * more per delete); or when an insert finds it full. Returns false when no live entry is left: the
   * container is then freed, and its kid must go.
   */
  removeEntry(id: number, k: number): boolean {
    const s = this.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    const base = readUnits4(s, C_BASE);
    const values = this.values;
    values[base + k] = GONE as V;
    const live = n - ++(this.gone[id] as number);
    if (live === 0) {
      this.freeContainer(id);
      return false;
    }
    if (live * 4 < n) {
      const { tails, vals } = this.entriesOf(id);
      this.freeRange(base, s.charCodeAt(C_LOG));
      this.fillContainer(id, tails, vals, 0, tails.length);
    }
    return true;
  }

  /** The live tails and values of container `id`, in order. */
  entriesOf(id: number): { tails: string[]; vals: V[] } {
    const s = this.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    const base = readUnits4(s, C_BASE);
    const tails: string[] = [];
    const vals: V[] = [];
    let off = C_HEADER + n;
    for (let k = 0; k < n; k++) {
      let length = s.charCodeAt(C_HEADER + k);
      if (length === LONG) {
        length = readUnits4(s, off);
        off += LONG_UNITS;
      }
      const value = this.values[base + k];
      if (value !== GONE) {
        tails.push(s.slice(off, off + length));
        vals.push(value as V);
      }
      off += length;
    }
    return { tails, vals };
  }

  /** Entry `k` of container `id` was GONE and has a value again. */
  revive(id: number): void {
    (this.gone[id] as number)--;
  }

  /** Frees container `id` (its string and value range). */
  freeContainer(id: number): void {
    const s = this.strings[id] as string;
    this.gone[id] = 0;
    this.freeRange(readUnits4(s, C_BASE), s.charCodeAt(C_LOG));
    this.strings[id] = '';
    this.freeIds.push(id);
  }

  /**
   * Replaces full container `id` (the kid of `node` under `code`) by a node over its live entries plus
   * the new one (`tail`, `value`): a value for the empty tail, and one kid per first
   * code unit. When dropping the GONE entries makes room, the container is rebuilt instead.
   */
  private burst(node: number, code: number, id: number, tail: string, value: V): void {
    const { tails, vals } = this.entriesOf(id);
    let at = 0;
    while (at < tails.length && (tails[at] as string) < tail) at++;
    tails.splice(at, 0, tail);
    vals.splice(at, 0, value);
    this.freeContainer(id);
    if (tails.length <= this.burstAt) {
      this.setKid(node, code, this.newContainer(tails, vals, 0, tails.length));
    } else {
      this.setKid(node, code, this.build(tails, vals, 0, tails.length, true));
    }
  }

  /**
   * The kid for the ascending tails `tails[from..to)`: a container when they fit in one (and `split` is
   * false), else a node with the empty tail as its value and a kid per first code unit below it.
   */
  build(
    tails: readonly string[],
    vals: readonly V[],
    from: number,
    to: number,
    split: boolean,
  ): number {
    if (!split && to - from <= this.burstAt) return this.newContainer(tails, vals, from, to);
    let slot = NO_VALUE;
    let a = from;
    if (a < to && tails[a] === '') {
      slot = this.allocRange(0);
      this.values[slot] = vals[a];
      a++;
    }
    const codes: number[] = [];
    const kids: number[] = [];
    while (a < to) {
      const c = (tails[a] as string).charCodeAt(0);
      let b = a + 1;
      while (b < to && (tails[b] as string).charCodeAt(0) === c) b++;
      const rest = tails.slice(a, b).map((t) => t.slice(1));
      codes.push(c);
      kids.push(this.build(rest, vals.slice(a, b), 0, b - a, false));
      a = b;
    }
    return this.writeNode(slot, codes, kids);
  }

  // ---- layout --------------------------------------------------------------------------------------

  /**
   * Compacts the nodes when the pool has grown by half since the last compaction (at most a third of
   * it is then freed or out of order, and the copying stays amortised O(1) per change), and the values
   * too when more than half of their array is free ranges.
   */
  maybeCompact(): void {
    if (this.pool.used >= this.compactAt) {
      const values = this.values.length;
      this.compact(values > MIN_COMPACT_WORDS && this.freeSlots * 2 > values);
    }
  }

  /**
   * Rewrites the nodes in depth-first pre-order (each node followed by its subtree, so a lookup's path
   * shares cache lines and pages), dropping freed space; with `packValues`, also the values in key
   * order, each container's range just big enough. The nodes are a small part of a large trie, so
   * their copy is cheap; packing the values rewrites every container's header, so it runs only when
   * asked or when most of the value array is free. Invalidates iterators, so it bumps the epoch.
   */
  compact(packValues = true): void {
    const old = this.pool.words;
    const oldValues = this.values;
    const pool = new RegionPool(Math.ceil(this.pool.used * 1.25) + MIN_COMPACT_WORDS);
    if (packValues) {
      this.values = [];
      this.freeRanges = [];
      this.freeSlots = 0;
    }
    const pending: number[] = [this.root, -1]; // pairs: old node, word in the new pool that points at it
    while (pending.length > 0) {
      const holder = pending.pop() as number;
      const node = pending.pop() as number;
      const count = old[node + COUNT] as number;
      const cap = old[node + CAP] as number;
      const range = old[node + TRANGE] as number;
      const at = pool.alloc(nodeSize(cap, range));
      const words = pool.words;
      words.set(old.subarray(node, node + nodeSize(cap, range)), at);
      const slot = old[node + VALUE] as number;
      if (packValues && slot !== NO_VALUE) {
        words[at + VALUE] = this.values.length;
        this.values.push(oldValues[slot]);
      }
      if (holder < 0) this.root = at;
      else words[holder] = at;
      // Children are visited in order (pushed in reverse); containers get their values now, in order.
      for (let j = count - 1; j >= 0; j--) {
        const kid = old[node + HEADER + cap + j] as number;
        if (kid > 0) pending.push(kid, at + HEADER + cap + j);
      }
      if (packValues) {
        for (let j = 0; j < count; j++) {
          const kid = old[node + HEADER + cap + j] as number;
          if (kid < 0) this.rebase(~kid, oldValues);
        }
      }
    }
    // The tables hold kid offsets too: refill them from the kid lists.
    this.pool = pool;
    this.refillTables();
    this.compactAt = Math.max(MIN_COMPACT_WORDS, Math.ceil(pool.used * 1.5));
    this.epoch++;
  }

  /** Moves container `id`'s values from `oldValues` to a fresh, tight range at the end of `values`. */
  private rebase(id: number, oldValues: readonly (V | undefined)[]): void {
    const s = this.strings[id] as string;
    const n = s.charCodeAt(C_COUNT);
    const from = readUnits4(s, C_BASE);
    let log = 0;
    while (1 << log < n) log++;
    const base = this.values.length;
    for (let k = 0; k < 1 << log; k++) this.values.push(k < n ? oldValues[from + k] : undefined);
    this.strings[id] = containerHeader(n, base, log) + s.slice(C_HEADER);
  }

  private refillTables(): void {
    const words = this.pool.words;
    const pending = [this.root];
    while (pending.length > 0) {
      const node = pending.pop() as number;
      const count = words[node + COUNT] as number;
      const cap = words[node + CAP] as number;
      const range = words[node + TRANGE] as number;
      const low = words[node + TBASE] as number;
      for (let j = 0; j < count; j++) {
        const kid = words[node + HEADER + cap + j] as number;
        if (range !== 0)
          words[node + HEADER + 2 * cap + (words[node + HEADER + j] as number) - low] = kid;
        if (kid > 0) pending.push(kid);
      }
    }
  }
}

/**
 * The value of a deleted container entry whose tail is still in the string. An object no caller can
 * hold, so no stored value is mistaken for it.
 */
/**
 * Reads of a container's rope before the get path flattens it. Flattening at the first read made
 * interleaved sets and gets 10-20% slower (most reads then follow a write); at the fourth they cost
 * what they did, and gets of keys that are read more than they are written run 1.2-1.4x faster.
 */
const ROPE_READS = 4;

export const GONE: unknown = Object.freeze({ gone: true });

/** A node never needs room for more children than there are code units. */
const MAX_FANOUT = 0x10000;

/** Tries smaller than this (in pool words) are never compacted automatically. */
const MIN_COMPACT_WORDS = 64;
