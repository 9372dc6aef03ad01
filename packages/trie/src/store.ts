import { RegionPool } from './pool.js';
import {
  CAP,
  COUNT,
  HEADER,
  NO_VALUE,
  TAIL,
  VALUE,
  regionSize,
  tailUnit,
  tailWords,
} from './layout.js';

/**
 * The trie's storage: the region pool, the value slots, and the structural edits (add a child, split an
 * edge, remove a child, merge a node into its only child). `Trie` does the walking; this moves regions.
 * A "holder" is the pool index of the word that points at a node (-1 for the root).
 */
export class TrieStore<V> {
  readonly pool = new RegionPool();
  readonly values: (V | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  root: number;
  /** Bumped on every change to the set of keys; iterators compare it to fail fast. */
  epoch = 0;

  constructor() {
    this.root = this.allocNode(0, 0);
  }

  /** A fresh node region with no value and no children. */
  allocNode(tail: number, cap: number): number {
    const at = this.pool.alloc(regionSize(tail, cap));
    const words = this.pool.words;
    words[at + VALUE] = NO_VALUE;
    words[at + TAIL] = tail;
    words[at + COUNT] = 0;
    words[at + CAP] = cap;
    return at;
  }

  freeNode(at: number): void {
    const words = this.pool.words;
    this.pool.free(at, regionSize(words[at + TAIL] as number, words[at + CAP] as number));
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
    const oldCodes = node + HEADER + tailWords(words[node + TAIL] as number);
    const newCodes = target + HEADER + tailWords(words[target + TAIL] as number);
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
    const codes = node + HEADER + tailWords(words[node + TAIL] as number);
    words.copyWithin(codes + j, codes + j + 1, codes + count);
    words.copyWithin(codes + cap + j, codes + cap + j + 1, codes + cap + count);
    words[node + COUNT] = count - 1;
  }

  /** Folds a value-less `node` (held at `holder`) with one child into that child, as one longer edge. */
  mergeWithOnlyKid(node: number, holder: number): void {
    let words = this.pool.words;
    const codes = node + HEADER + tailWords(words[node + TAIL] as number);
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
    const from = node + HEADER + tailWords(words[node + TAIL] as number);
    const to = moved + HEADER + tailWords(tail);
    words.copyWithin(to, from, from + count);
    words.copyWithin(to + cap, from + cap, from + cap + count);
    return moved;
  }

  private repoint(holder: number, node: number): void {
    if (holder < 0) this.root = node;
    else this.pool.words[holder] = node;
  }
}

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
