import { RegionPool } from './pool.js';
import {
  CAP,
  codesAt,
  COUNT,
  HEADER,
  INDEX,
  LINEAR_SCAN,
  NO_VALUE,
  regionSize,
  TABLE_SLACK,
  TAIL,
  tailUnit,
  tailWords,
  VALUE,
} from './layout.js';

/**
 * The trie's storage: the region pool, the value slots, and the structural edits (add a child, split an
 * edge, remove a child, merge a node into its only child). `Trie` does the walking; this moves regions.
 * A "holder" is the pool index of the word that points at a node (-1 for the root).
 */
export class TrieStore<V> {
  pool: RegionPool;
  values: (V | undefined)[] = [];
  private freeSlots: number[] = [];
  root: number;
  /** Bumped on every change to the set of keys; iterators compare it to fail fast. */
  epoch = 0;
  /** Pool size at which the next automatic compaction runs. */
  private compactAt = MIN_COMPACT_WORDS;

  /**
   * `initialWords` and `rootCap`: size hints, so a trie built from known entries allocates its pool once
   * and never regrows its root.
   */
  constructor(initialWords?: number, rootCap = 0) {
    this.pool = new RegionPool(initialWords);
    this.root = this.allocNode(0, rootCap);
  }

  /**
   * Compacts when the pool has grown by half since the last compaction: at most a third of it is ever
   * out of key order, and the copying stays amortised O(1) per insert.
   */
  maybeCompact(): void {
    if (this.pool.used >= this.compactAt) this.compact();
  }

  /**
   * Rewrites the pool in depth-first pre-order: each node is followed by its subtree, so a lookup's last
   * levels (a node and its leaves) share cache lines and pages, and freed regions are dropped. Values are
   * renumbered in the same order. Invalidates every region offset, so it bumps the epoch.
   */
  compact(): void {
    const old = this.pool.words;
    const oldValues = this.values;
    const pool = new RegionPool(Math.ceil(this.pool.used * 1.25) + MIN_COMPACT_WORDS);
    const values: (V | undefined)[] = [];
    const pending: number[] = [this.root, -1]; // pairs: old node, holder in the new pool
    this.pool = pool; // from here on, allocations (index tables too) land in the new pool
    while (pending.length > 0) {
      const holder = pending.pop() as number;
      const node = pending.pop() as number;
      const tail = old[node + TAIL] as number;
      const cap = old[node + CAP] as number;
      const count = old[node + COUNT] as number;
      const size = regionSize(tail, cap);
      const at = pool.alloc(size);
      const words = pool.words;
      for (let w = 0; w < size; w++) words[at + w] = old[node + w] as number; // no per-node view
      words[at + INDEX] = 0; // the copied offset points into the old pool
      const slot = old[node + VALUE] as number;
      if (slot !== NO_VALUE) {
        words[at + VALUE] = values.length;
        values.push(oldValues[slot]);
      }
      if (holder < 0) this.root = at;
      else words[holder] = at;
      const oldCodes = node + HEADER + tailWords(tail);
      const newKids = at + HEADER + tailWords(tail) + cap;
      for (let k = count - 1; k >= 0; k--)
        pending.push(old[oldCodes + cap + k] as number, newKids + k);
      this.reindex(at);
    }
    this.values = values;
    this.freeSlots = [];
    this.compactAt = Math.max(MIN_COMPACT_WORDS, Math.ceil(pool.used * 1.5));
    this.epoch++;
  }

  /** A fresh node region with no value and no children. */
  allocNode(tail: number, cap: number): number {
    const at = this.pool.alloc(regionSize(tail, cap));
    const words = this.pool.words;
    words[at + VALUE] = NO_VALUE;
    words[at + TAIL] = tail;
    words[at + COUNT] = 0;
    words[at + CAP] = cap;
    words[at + INDEX] = 0;
    return at;
  }

  freeNode(at: number): void {
    const words = this.pool.words;
    const table = words[at + INDEX] as number;
    if (table !== 0) this.pool.free(table, 2 + (words[table + 1] as number));
    this.pool.free(at, regionSize(words[at + TAIL] as number, words[at + CAP] as number));
  }

  /** Rebuilds (or drops) the index table of `node` after its children changed. */
  reindex(node: number): void {
    let words = this.pool.words;
    const old = words[node + INDEX] as number;
    if (old !== 0) {
      this.pool.free(old, 2 + (words[old + 1] as number));
      words[node + INDEX] = 0;
    }
    const count = words[node + COUNT] as number;
    if (count <= LINEAR_SCAN) return;
    const codes = codesAt(words, node);
    const base = words[codes] as number;
    const range = (words[codes + count - 1] as number) - base + 1;
    if (range > 4 * count + TABLE_SLACK) return;
    const table = this.pool.alloc(2 + range);
    words = this.pool.words;
    words[table] = base;
    words[table + 1] = range;
    words.fill(0, table + 2, table + 2 + range);
    for (let j = 0; j < count; j++) words[table + 2 + (words[codes + j] as number) - base] = j + 1;
    words[node + INDEX] = table;
  }

  storeValue(value: V): number {
    const slot = this.freeSlots.pop() ?? this.values.length;
    this.values[slot] = value;
    return slot;
  }

  releaseValue(slot: number): void {
    this.values[slot] = undefined;
    this.freeSlots.push(slot);
  }

  /** Inserts a leaf for `key.slice(from)` (its first unit being `code`) as child `j` of `node`. */
  addLeaf(node: number, holder: number, j: number, key: string, from: number, value: V): void {
    const length = key.length - from - 1;
    const leaf = this.allocNode(length, 0);
    let words = this.pool.words;
    words[leaf + VALUE] = this.storeValue(value);
    for (let u = 0; u < length; u++) setTailUnit(words, leaf, u, key.charCodeAt(from + 1 + u));
    const count = words[node + COUNT] as number;
    const cap = words[node + CAP] as number;
    let target = node;
    if (count === cap) {
      target = this.allocNode(words[node + TAIL] as number, cap === 0 ? 2 : cap * 2);
      words = this.pool.words;
      words[target + VALUE] = words[node + VALUE] as number;
      copyTail(words, node, 0, target, 0, words[node + TAIL] as number);
    }
    const oldCodes = codesAt(words, node);
    const newCodes = codesAt(words, target);
    const newCap = words[target + CAP] as number;
    // Shift (or copy) from the end so an in-place move never overwrites what it still has to read.
    for (let k = count - 1; k >= j; k--) {
      words[newCodes + k + 1] = words[oldCodes + k] as number;
      words[newCodes + newCap + k + 1] = words[oldCodes + cap + k] as number;
    }
    if (target !== node) {
      for (let k = 0; k < j; k++) {
        words[newCodes + k] = words[oldCodes + k] as number;
        words[newCodes + newCap + k] = words[oldCodes + cap + k] as number;
      }
    }
    words[newCodes + j] = key.charCodeAt(from);
    words[newCodes + newCap + j] = leaf;
    words[target + COUNT] = count + 1;
    if (target !== node) {
      this.freeNode(node);
      this.repoint(holder, target);
    }
    this.reindex(target);
  }

  /** Splits the edge into `child` (held at `holder`) after `common` units of its tail. */
  splitEdge(holder: number, child: number, common: number): number {
    let words = this.pool.words;
    const tail = words[child + TAIL] as number;
    const rest = tail - common - 1;
    const lower = this.moveWithTail(child, rest);
    words = this.pool.words;
    copyTail(words, child, common + 1, lower, 0, rest);
    const middle = this.allocNode(common, 2);
    words = this.pool.words;
    copyTail(words, child, 0, middle, 0, common);
    const codes = middle + HEADER + tailWords(common);
    words[codes] = tailUnit(words, child, common);
    words[codes + 2] = lower;
    words[middle + COUNT] = 1;
    this.freeNode(child);
    words[holder] = middle;
    return middle;
  }

  /** Removes child `j` of `node` in place. */
  removeKid(node: number, j: number): void {
    const words = this.pool.words;
    const count = words[node + COUNT] as number;
    const cap = words[node + CAP] as number;
    const codes = codesAt(words, node);
    words.copyWithin(codes + j, codes + j + 1, codes + count);
    words.copyWithin(codes + cap + j, codes + cap + j + 1, codes + cap + count);
    words[node + COUNT] = count - 1;
    this.reindex(node);
  }

  /** Folds a value-less `node` (held at `holder`) with one child into that child, as one longer edge. */
  mergeWithOnlyKid(node: number, holder: number): void {
    let words = this.pool.words;
    const codes = codesAt(words, node);
    const code = words[codes] as number;
    const kid = words[codes + (words[node + CAP] as number)] as number;
    const head = words[node + TAIL] as number;
    const merged = this.moveWithTail(kid, head + 1 + (words[kid + TAIL] as number));
    words = this.pool.words;
    copyTail(words, node, 0, merged, 0, head);
    setTailUnit(words, merged, head, code);
    copyTail(words, kid, 0, merged, head + 1, words[kid + TAIL] as number);
    this.freeNode(node);
    this.freeNode(kid);
    words[holder] = merged;
  }

  /**
   * A new region with `node`'s value and children but a tail of `tail` units (left for the caller to
   * fill); `node` itself is untouched.
   */
  private moveWithTail(node: number, tail: number): number {
    const cap = this.pool.words[node + CAP] as number;
    const moved = this.allocNode(tail, cap);
    const words = this.pool.words;
    const count = words[node + COUNT] as number;
    words[moved + VALUE] = words[node + VALUE] as number;
    words[moved + COUNT] = count;
    const from = codesAt(words, node);
    const to = moved + HEADER + tailWords(tail);
    words.copyWithin(to, from, from + count);
    words.copyWithin(to + cap, from + cap, from + cap + count);
    this.reindex(moved);
    return moved;
  }

  private repoint(holder: number, node: number): void {
    if (holder < 0) this.root = node;
    else this.pool.words[holder] = node;
  }
}

/** Tries smaller than this (in pool words) are never compacted automatically. */
const MIN_COMPACT_WORDS = 64;

/** Sets code unit `j` of the tail of the node at `at`. */
function setTailUnit(words: Int32Array, at: number, j: number, unit: number): void {
  const index = at + HEADER + (j >> 1);
  const word = words[index] as number;
  words[index] = (j & 1) === 0 ? (word & ~0xffff) | unit : (word & 0xffff) | (unit << 16);
}

/** Copies `length` tail units from node `src` (from unit `s`) to node `dst` (from unit `d`). */
function copyTail(
  words: Int32Array,
  src: number,
  s: number,
  dst: number,
  d: number,
  length: number,
): void {
  for (let u = 0; u < length; u++) setTailUnit(words, dst, d + u, tailUnit(words, src, s + u));
}
